import { describe, expect, it } from "vitest";
import type { ConcordEvent } from "../../src/pubsub/events.js";
import { LocalFanout } from "../../src/pubsub/local-fanout.js";
import type { Topic } from "../../src/pubsub/topics.js";

const topic = "channel:1" as Topic;
const other = "channel:2" as Topic;
const event = (n: number) => ({ type: "TypingStarted", n }) as unknown as ConcordEvent;
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));
/** Turns of the event loop until `done()` holds (at most 100). */
async function turnsUntil(done: () => boolean): Promise<number> {
  for (let turns = 0; turns < 100; turns++) {
    if (done()) return turns;
    await nextTurn();
  }
  throw new Error("never done");
}

describe("LocalFanout pacing", () => {
  it("delivers a small topic synchronously, inside deliver()", () => {
    const fanout = new LocalFanout(() => {}, 4);
    const got: number[] = [];
    fanout.add(topic, (e) => got.push((e as unknown as { n: number }).n));
    fanout.deliver(topic, event(1), 1, "e");
    expect(got).toEqual([1]);
  });

  it("spreads a topic bigger than one turn's budget over several turns, and the caller goes on first", async () => {
    const fanout = new LocalFanout(() => {}, 3);
    const calls: number[] = [];
    for (let i = 0; i < 10; i++) fanout.add(topic, () => calls.push(i));
    fanout.deliver(topic, event(1), 1, "e");
    // Nothing during the publisher's turn: its answer goes out before any of the fan-out.
    expect(calls).toEqual([]);
    const turns = await turnsUntil(() => calls.length === 10);
    expect(calls).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(turns).toBeGreaterThanOrEqual(4); // ceil(10 / 3) slices, one per turn
    expect(fanout.backlog).toBe(0);
  });

  it("lets other work of the process run between two slices", async () => {
    const fanout = new LocalFanout(() => {}, 2);
    const log: string[] = [];
    for (let i = 0; i < 6; i++) fanout.add(topic, () => log.push(`h${i}`));
    fanout.deliver(topic, event(1), 1, "e");
    // Work that arrives while the fan-out is in progress (an HTTP answer, another socket's read).
    setImmediate(() => setImmediate(() => log.push("other")));
    await turnsUntil(() => log.length === 7);
    const other = log.indexOf("other");
    expect(other).toBeGreaterThan(0);
    expect(other).toBeLessThan(6);
  });

  it("keeps each handler's order across events and topics while a backlog drains", async () => {
    const fanout = new LocalFanout(() => {}, 5);
    const seen = new Map<number, string[]>();
    for (let i = 0; i < 8; i++) {
      seen.set(i, []);
      fanout.add(topic, (e, seq) => seen.get(i)!.push(`a${seq}`));
      if (i % 2 === 0) fanout.add(other, (e, seq) => seen.get(i)!.push(`b${seq}`));
    }
    fanout.deliver(topic, event(1), 1, "e"); // 8 handlers > 5: queued
    fanout.deliver(other, event(2), 1, "e"); // 4 would fit, but must wait behind the first
    fanout.deliver(topic, event(3), 2, "e");
    await turnsUntil(() => fanout.backlog === 0);
    for (let i = 0; i < 8; i++) expect(seen.get(i)).toEqual(i % 2 === 0 ? ["a1", "b1", "a2"] : ["a1", "a2"]);
  });

  it("skips a handler removed while an event is on its way, and a throwing handler does not stop the rest", async () => {
    const errors: unknown[] = [];
    const fanout = new LocalFanout((error) => errors.push(error), 2);
    const calls: number[] = [];
    const handlers = Array.from({ length: 6 }, (_, i) => () => {
      if (i === 1) throw new Error("boom");
      calls.push(i);
    });
    for (const handler of handlers) fanout.add(topic, handler);
    fanout.deliver(topic, event(1), 1, "e");
    fanout.remove(topic, handlers[4]!);
    await turnsUntil(() => fanout.backlog === 0);
    expect(calls).toEqual([0, 2, 3, 5]);
    expect(errors).toHaveLength(1);
  });

  it("clear() drops what is still on its way", async () => {
    const fanout = new LocalFanout(() => {}, 1);
    const calls: number[] = [];
    for (let i = 0; i < 4; i++) fanout.add(topic, () => calls.push(i));
    fanout.deliver(topic, event(1), 1, "e");
    await nextTurn();
    fanout.clear();
    for (let i = 0; i < 5; i++) await nextTurn();
    expect(calls.length).toBeLessThan(4);
    expect(fanout.backlog).toBe(0);
  });
});
