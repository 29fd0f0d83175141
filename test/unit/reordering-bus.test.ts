import { afterEach, describe, expect, it } from "vitest";
import { MemoryEventBus } from "../../src/pubsub/event-bus.memory.js";
import type { ConcordEvent } from "../../src/pubsub/events.js";
import { ReorderingEventBus } from "../../src/pubsub/reordering-bus.js";
import { topics } from "../../src/pubsub/topics.js";

const channel = topics.channel(1n);
const deleted = (id: bigint): ConcordEvent => ({ type: "MessageDeleted", channelId: 1n, eventId: id, messageId: id });
const keys = (events: ConcordEvent[]) => events.map((e) => (e.type === "MessageDeleted" ? e.eventId : e.type));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("ReorderingEventBus", () => {
  let bus: ReorderingEventBus;
  afterEach(() => bus?.close());

  it("delivers a channel's events in key order when publishes cross within the window", async () => {
    bus = new ReorderingEventBus(new MemoryEventBus(), 40);
    const got: ConcordEvent[] = [];
    await bus.subscribe(channel, (e) => got.push(e));
    // Two instances: 5 and 7 from one, 6 from the other, arriving 5, 7, 6.
    await bus.publish(channel, deleted(5n));
    await bus.publish(channel, deleted(7n));
    await sleep(10);
    await bus.publish(channel, deleted(6n));
    expect(got).toEqual([]);
    await sleep(80);
    expect(keys(got)).toEqual([5n, 6n, 7n]);
  });

  it("delivers an event later than the window at once instead of dropping it", async () => {
    bus = new ReorderingEventBus(new MemoryEventBus(), 10);
    const got: ConcordEvent[] = [];
    await bus.subscribe(channel, (e) => got.push(e));
    await bus.publish(channel, deleted(9n));
    await sleep(40);
    await bus.publish(channel, deleted(8n));
    expect(keys(got)).toEqual([9n, 8n]);
  });

  it("shares one buffer per topic: every subscriber sees the same order, once", async () => {
    const inner = new MemoryEventBus();
    bus = new ReorderingEventBus(inner, 20);
    const a: ConcordEvent[] = [];
    const b: ConcordEvent[] = [];
    const offA = await bus.subscribe(channel, (e) => a.push(e));
    await bus.subscribe(channel, (e) => b.push(e));
    expect(inner.subscriberCount(channel)).toBe(1);
    expect(bus.subscriberCount(channel)).toBe(2);
    for (const id of [3n, 1n, 2n]) await bus.publish(channel, deleted(id));
    await sleep(60);
    expect(keys(a)).toEqual([1n, 2n, 3n]);
    expect(keys(b)).toEqual([1n, 2n, 3n]);
    offA();
    expect(inner.subscriberCount(channel)).toBe(1);
  });

  it("flushes held events before an unordered one (a channel deletion) and passes other topics straight through", async () => {
    bus = new ReorderingEventBus(new MemoryEventBus(), 1_000);
    const got: ConcordEvent[] = [];
    const user: ConcordEvent[] = [];
    await bus.subscribe(channel, (e) => got.push(e));
    await bus.subscribe(topics.user(1n), (e) => user.push(e));
    await bus.publish(channel, deleted(2n));
    await bus.publish(channel, deleted(1n));
    await bus.publish(channel, { type: "ChannelDeleted", channelId: 1n, guildId: null });
    expect(keys(got)).toEqual([1n, 2n, "ChannelDeleted"]);
    await bus.publish(topics.user(1n), { type: "SessionRevoked", userId: 1n, tokenHash: "x", keepTokenHash: null });
    expect(user).toHaveLength(1);
  });

  it("drops the inner subscription with the last local one", async () => {
    const inner = new MemoryEventBus();
    bus = new ReorderingEventBus(inner, 20);
    const off = await bus.subscribe(channel, () => {});
    off();
    off();
    expect(inner.subscriberCount(channel)).toBe(0);
    expect(bus.subscriberCount(channel)).toBe(0);
  });
});
