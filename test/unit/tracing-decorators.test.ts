import { SpanKind, trace } from "@opentelemetry/api";
import { beforeEach, describe, expect, it } from "vitest";
import { MemoryEventBus } from "../../src/pubsub/event-bus.memory.js";
import type { ConcordEvent } from "../../src/pubsub/events.js";
import { LocalFanout } from "../../src/pubsub/local-fanout.js";
import { createDeliveryTracer, traceEventBus } from "../../src/tracing/traced-event-bus.js";
import { traceStore } from "../../src/tracing/traced-store.js";
import { useInMemoryTracing } from "../support/in-memory-tracing.js";

/**
 * The decorators the composition root applies when tracing is on, on the in-memory bus and a
 * plain store: spans, their parents, and what they record.
 */
const exporter = useInMemoryTracing();
const tracer = trace.getTracer("test");
const deleted: ConcordEvent = { type: "MessageDeleted", channelId: 1n, eventId: 2n, messageId: 3n };

beforeEach(() => exporter.reset());

describe("the traced in-memory event bus", () => {
  it("delivers inside one span per event, a child of the publish span, whatever the number of subscribers", async () => {
    const bus = traceEventBus(new MemoryEventBus(() => {}, undefined, createDeliveryTracer(tracer, "memory")), tracer, "memory");
    const seenIn: (string | undefined)[] = [];
    for (let i = 0; i < 3; i++) await bus.subscribe("channel:1", () => seenIn.push(trace.getActiveSpan()?.spanContext().spanId));
    await tracer.startActiveSpan("mutation Delete", async (operation) => {
      await bus.publish("channel:1", deleted);
      operation.end();
    });
    const spans = exporter.getFinishedSpans();
    const byName = (name: string) => spans.filter((s) => s.name === name);
    expect(spans.map((s) => s.name).sort()).toEqual(["deliver MessageDeleted", "mutation Delete", "publish channel"]);
    const [operation] = byName("mutation Delete");
    const [publish] = byName("publish channel");
    const [deliver] = byName("deliver MessageDeleted");
    expect(publish!.parentSpanContext?.spanId).toBe(operation!.spanContext().spanId);
    expect(deliver!.parentSpanContext?.spanId).toBe(publish!.spanContext().spanId);
    expect(deliver!.spanContext().traceId).toBe(operation!.spanContext().traceId);
    expect(publish!.kind).toBe(SpanKind.PRODUCER);
    expect(deliver!.kind).toBe(SpanKind.CONSUMER);
    expect(publish!.attributes).toMatchObject({ "messaging.system": "memory", "messaging.destination.name": "channel:1", "concord.event.type": "MessageDeleted" });
    // Every handler ran inside the one deliver span.
    expect(seenIn).toEqual([deliver!.spanContext().spanId, deliver!.spanContext().spanId, deliver!.spanContext().spanId]);
  });

  it("keeps the bus's other members (subscriber counts) working through the decorator", async () => {
    const inner = new MemoryEventBus();
    const bus = traceEventBus(inner, tracer, "memory");
    const stop = await bus.subscribe("guild:1", () => {});
    expect(bus.subscriberCount("guild:1")).toBe(1);
    stop();
    expect(bus.subscriberCount("guild:1")).toBe(0);
  });

  it("ends the deliver span only once a paced fan-out has reached every handler", async () => {
    const fanout = new LocalFanout(() => {}, 2);
    const called: number[] = [];
    for (let i = 0; i < 5; i++) fanout.add("channel:1", () => called.push(i));
    let doneAfter = -1;
    fanout.deliver("channel:1", deleted, 1, "e", () => (doneAfter = called.length));
    expect(doneAfter).toBe(-1);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(doneAfter).toBe(5);
  });
});

describe("a traced store", () => {
  class Store {
    #rows = new Map<string, string>([["a", "1"]]);
    async get(key: string): Promise<string | undefined> {
      return this.#rows.get(key);
    }
    async fail(): Promise<never> {
      throw new RangeError("no");
    }
  }

  it("wraps each port call in a client span named after the store and method, without its arguments", async () => {
    const store = traceStore(new Store(), tracer, { name: "rows", dbSystem: "postgresql" });
    expect(await store.get("a")).toBe("1");
    await expect(store.fail()).rejects.toThrow("no");
    const [get, fail] = exporter.getFinishedSpans();
    expect(get!.name).toBe("rows.get");
    expect(get!.kind).toBe(SpanKind.CLIENT);
    expect(get!.attributes).toEqual({ "db.system.name": "postgresql", "db.operation.name": "get" });
    expect(fail!.attributes).toMatchObject({ "error.type": "RangeError" });
    expect(fail!.status.code).toBe(2);
    expect(store).toBeInstanceOf(Store);
  });
});
