import { describe, expect, it } from "vitest";
import type { ExecutionResult } from "graphql";
import { Operations } from "../../src/gateway/graphql-ws-server.js";

const stream = (): AsyncIterator<ExecutionResult> => ({ next: async () => ({ done: true, value: undefined }) });

describe("Operations (a socket's operations in flight by id)", () => {
  it("tells a preparing operation (null) from none (undefined), and replaces by id", () => {
    const operations = new Operations();
    expect(operations.get("1")).toBeUndefined();
    operations.set("1", null);
    expect(operations.has("1")).toBe(true);
    expect(operations.get("1")).toBeNull();
    const live = stream();
    operations.set("1", live);
    expect(operations.get("1")).toBe(live);
    operations.delete("1");
    expect(operations.has("1")).toBe(false);
  });

  it("holds many at once, keeps each id once, and drains them all", () => {
    const operations = new Operations();
    const streams = Array.from({ length: 5 }, stream);
    streams.forEach((s, i) => operations.set(String(i), s));
    operations.set("3", streams[3]!);
    operations.delete("0");
    // The first slot is free again: a new id takes it, ids held elsewhere are not duplicated.
    operations.set("2", streams[2]!);
    operations.set("9", null);
    expect(["0", "1", "2", "3", "4", "9"].map((id) => operations.has(id))).toEqual([false, true, true, true, true, true]);
    const drained = operations.drain();
    expect(drained).toHaveLength(5);
    expect(new Set(drained)).toEqual(new Set([streams[1], streams[2], streams[3], streams[4], null]));
    expect(operations.has("1")).toBe(false);
    expect(operations.drain()).toEqual([]);
  });
});
