import { describe, expect, it } from "vitest";
import type { SequencedEvent } from "../../src/pubsub/event-bus.js";
import type { ConcordEvent } from "../../src/pubsub/events.js";
import { SequenceGate } from "../../src/pubsub/sequence-gate.js";

/** A topic's log the test controls, and a gate reading it. */
function setup(options: { epoch?: string; logged?: number[]; maxPending?: number } = {}) {
  const event = (n: number): ConcordEvent => ({ type: "MessageDeleted", channelId: 1n, eventId: BigInt(n), messageId: BigInt(n) });
  const state = { epoch: options.epoch ?? "e1", log: new Map<number, ConcordEvent>((options.logged ?? []).map((n) => [n, event(n)])), head: Math.max(0, ...(options.logged ?? [0])), reads: 0 };
  const delivered: number[] = [];
  const gaps: { from: number; to: number | null }[] = [];
  const gate = new SequenceGate({
    source: {
      head: async () => ({ epoch: state.epoch, seq: state.head }),
      replay: async (after: number, limit: number) => {
        state.reads++;
        const events: SequencedEvent[] = [...state.log.entries()].filter(([seq]) => seq > after).sort(([x], [y]) => x - y).slice(0, limit).map(([seq, e]) => ({ seq, event: e }));
        return { epoch: state.epoch, events };
      },
    },
    deliver: (e) => delivered.push(Number((e as Extract<ConcordEvent, { type: "MessageDeleted" }>).messageId)),
    onGap: (gap) => gaps.push(gap),
    onError: (error) => {
      throw error;
    },
    maxPending: options.maxPending,
  });
  /** Publishes n: logged, and (unless lost) handed to the gate. */
  const publish = (n: number, lost = false) => {
    state.log.set(n, event(n));
    state.head = Math.max(state.head, n);
    if (!lost) gate.accept(state.epoch, n, event(n));
  };
  const settle = () => new Promise((resolve) => setTimeout(resolve, 5));
  return { gate, state, delivered, gaps, publish, settle, event };
}

describe("SequenceGate", () => {
  it("passes events in sequence straight through, without reading the log", async () => {
    const t = setup();
    await t.gate.start();
    for (let n = 1; n <= 5; n++) t.publish(n);
    expect(t.delivered).toEqual([1, 2, 3, 4, 5]);
    expect(t.state.reads).toBe(0);
  });

  it("starts after the head: what was published before the subscription is not delivered", async () => {
    const t = setup({ logged: [1, 2, 3] });
    await t.gate.start();
    t.gate.accept("e1", 3, t.event(3)); // arrived late from before the subscription
    t.publish(4);
    expect(t.delivered).toEqual([4]);
  });

  it("holds events after a gap and repairs the gap from the log first, each event once", async () => {
    const t = setup();
    await t.gate.start();
    t.publish(1);
    t.publish(2, true);
    t.publish(3, true);
    t.publish(4);
    t.publish(5);
    expect(t.delivered).toEqual([1]);
    await t.settle();
    expect(t.delivered).toEqual([1, 2, 3, 4, 5]);
    // A late copy of a repaired event is not delivered again.
    t.gate.accept("e1", 2, t.event(2));
    t.publish(6);
    expect(t.delivered).toEqual([1, 2, 3, 4, 5, 6]);
    expect(t.gaps).toEqual([]);
  });

  it("reports what the log no longer has, and goes on from what it does have", async () => {
    const t = setup();
    await t.gate.start();
    t.publish(1);
    t.publish(2, true);
    t.publish(3, true);
    t.state.log.delete(2); // trimmed
    t.publish(4);
    await t.settle();
    expect(t.gaps).toEqual([{ from: 2, to: 2 }]);
    expect(t.delivered).toEqual([1, 3, 4]);
  });

  it("catchUp after a reconnect delivers what was published meanwhile, in order", async () => {
    const t = setup();
    await t.gate.start();
    t.publish(1);
    for (let n = 2; n <= 700; n++) t.publish(n, true);
    await t.gate.catchUp();
    expect(t.delivered).toEqual(Array.from({ length: 700 }, (_, i) => i + 1));
    expect(t.state.reads).toBeGreaterThanOrEqual(2); // pages of 500
  });

  it("a new epoch (the log was lost) is reported once and followed from its first event", async () => {
    const t = setup();
    await t.gate.start();
    t.publish(1);
    t.publish(2, true);
    t.state.epoch = "e2";
    t.state.log.clear();
    t.state.head = 0;
    t.publish(1);
    t.publish(2);
    expect(t.gaps).toEqual([{ from: 2, to: null }]);
    expect(t.delivered).toEqual([1, 1, 2]);
  });

  it("catchUp finding no sequence at all (Redis restarted empty) reports the loss, then adopts the next epoch without another report", async () => {
    const t = setup();
    await t.gate.start();
    t.publish(1);
    t.state.epoch = "";
    t.state.log.clear();
    t.state.head = 0;
    await t.gate.catchUp();
    expect(t.gaps).toEqual([{ from: 2, to: null }]);
    t.state.epoch = "e3";
    t.publish(1);
    t.publish(2);
    expect(t.gaps).toHaveLength(1);
    expect(t.delivered).toEqual([1, 1, 2]);
  });
});
