import { trace } from "@opentelemetry/api";
import { describe, expect, it } from "vitest";
import { useInMemoryTracing } from "../support/in-memory-tracing.js";
import { runWithRequestId } from "../../src/log-context.js";
import { createLogger, type LogLevel } from "../../src/logger.js";

/** A logger at `level` and the lines it wrote, parsed. */
function capture(level: LogLevel) {
  const lines: string[] = [];
  const logger = createLogger(level, (line) => lines.push(line));
  return { logger, lines, entries: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>) };
}

describe("logger", () => {
  it("writes one JSON object per line with an ISO time, the level's name and the message", () => {
    const { logger, lines, entries } = capture("debug");
    logger.debug("d");
    logger.info("i", { guilds: 3 });
    logger.warn("w");
    logger.error("e", { topic: "channel:1" });
    expect(lines.every((line) => !line.includes("\n"))).toBe(true);
    expect(entries().map(({ level, message }) => [level, message])).toEqual([["debug", "d"], ["info", "i"], ["warn", "w"], ["error", "e"]]);
    expect(entries()[1]).toMatchObject({ guilds: 3 });
    for (const entry of entries()) expect(new Date(entry.time as string).toISOString()).toBe(entry.time);
    // What the multi-instance tests grep for, and no pino extras (pid, hostname, numeric levels).
    expect(lines[3]).toContain('"level":"error"');
    expect(Object.keys(entries()[0]!).sort()).toEqual(["level", "message", "time"]);
  });

  it("leaves out entries below its level", () => {
    const { logger, entries } = capture("warn");
    logger.debug("no");
    logger.info("no");
    logger.warn("yes");
    logger.error("yes too");
    expect(entries().map((e) => e.message)).toEqual(["yes", "yes too"]);
  });

  it("writes bigints as decimal strings and Errors with their name, message and stack, at any depth", () => {
    const { logger, entries } = capture("info");
    const error = new TypeError("boom");
    logger.error("failed", { id: 9223372036854775807n, error, nested: { ids: [1n, 2n], cause: error } });
    const [entry] = entries();
    expect(entry).toMatchObject({ id: "9223372036854775807", error: { name: "TypeError", message: "boom" }, nested: { ids: ["1", "2"], cause: { name: "TypeError" } } });
    expect((entry!.error as { stack: string }).stack).toContain("TypeError: boom");
  });

  it("adds the request id to every line written while a request is served, and only then", async () => {
    const { logger, entries } = capture("info");
    await runWithRequestId("req-42", async () => {
      logger.info("first");
      await new Promise((resolve) => setTimeout(resolve, 1));
      logger.info("after an await");
    });
    logger.info("outside");
    expect(entries().map((e) => [e.message, e.request_id])).toEqual([["first", "req-42"], ["after an await", "req-42"], ["outside", undefined]]);
  });

  describe("with tracing on", () => {
    const exporter = useInMemoryTracing();

    it("adds the active span's trace and span ids to lines written inside it, and none outside", async () => {
      const { logger, entries } = capture("info");
      const tracer = trace.getTracer("test");
      const ids = await tracer.startActiveSpan("work", async (span) => {
        logger.info("inside");
        await new Promise((resolve) => setTimeout(resolve, 1));
        logger.warn("inside, later");
        span.end();
        return span.spanContext();
      });
      logger.info("outside");
      const [inside, later, outside] = entries();
      expect(inside).toMatchObject({ trace_id: ids.traceId, span_id: ids.spanId });
      expect(later).toMatchObject({ trace_id: ids.traceId, span_id: ids.spanId });
      expect(ids.traceId).toMatch(/^[0-9a-f]{32}$/);
      expect(outside).not.toHaveProperty("trace_id");
      expect(exporter.getFinishedSpans().map((s) => s.name)).toEqual(["work"]);
    });
  });
});
