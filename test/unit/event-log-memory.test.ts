import { describe, expect, it } from "vitest";
import { MemoryEventLog } from "../../src/pubsub/event-log.memory.js";
import type { ConcordEvent } from "../../src/pubsub/events.js";
import type { Topic } from "../../src/pubsub/topics.js";

const topic = "channel:1" as Topic;
const created = (id: number): ConcordEvent => ({
  type: "MessageCreated",
  channelId: 1n,
  message: { id: BigInt(id), channelId: 1n, authorId: 2n, content: "hi", editedAt: null, replyToId: null, mentionIds: [], nonce: null },
  author: { id: 2n, username: "ada", bot: false, botOwnerId: null, createdAt: new Date(0) },
});
const deleted = (): ConcordEvent => ({ type: "MessageDeleted", channelId: 1n, eventId: 6n, messageId: 5n });
const seqs = (events: { seq: number }[]) => events.map((e) => e.seq);
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe("MemoryEventLog retention", () => {
  it("keeps exactly the latest maxEvents events of a topic, however many were appended", () => {
    const log = new MemoryEventLog({ maxEvents: 100, maxAgeMs: 60_000 });
    for (let i = 1; i <= 1_037; i++) expect(log.append(topic, deleted())).toBe(i);
    const all = log.replay(topic, 0, 1_000);
    expect(all.complete).toBe(false);
    expect(seqs(all.events)).toEqual(range(938, 1_037));
    expect(log.replay(topic, 937, 1_000)).toMatchObject({ complete: true });
    expect(seqs(log.replay(topic, 1_000, 10).events)).toEqual(range(1_001, 1_010));
    expect(log.replay(topic, 1_037, 10)).toEqual({ events: [], complete: true });
  });

  it("the message-id index keeps 10 × maxEvents ids and says when it no longer reaches back", () => {
    const log = new MemoryEventLog({ maxEvents: 5, maxAgeMs: 60_000 });
    for (let i = 1; i <= 333; i++) log.append(topic, created(10_000 + i));
    const all = log.messageIdsAfter(topic, 0, 1_000);
    expect(all.complete).toBe(false);
    expect(all.ids.map((m) => m.seq)).toEqual(range(284, 333));
    expect(all.ids[0]).toEqual({ seq: 284, id: 10_284n });
    expect(log.messageIdsAfter(topic, 283, 1_000)).toMatchObject({ complete: true });
    expect(log.messageIdsAfter(topic, 300, 3).ids.map((m) => m.seq)).toEqual([301, 302, 303]);
  });

  it("drops events older than maxAgeMs, also between appends", () => {
    let now = 0;
    const log = new MemoryEventLog({ maxEvents: 1_000, maxAgeMs: 1_000 }, () => now);
    for (let i = 1; i <= 300; i++) {
      now = i * 10;
      log.append(topic, deleted());
    }
    // At 3,000 ms, events appended before 2,000 ms (seq < 200) are too old.
    expect(seqs(log.replay(topic, 0, 1_000).events)).toEqual(range(200, 300));
    now = 3_995;
    expect(seqs(log.replay(topic, 0, 1_000).events)).toEqual(range(300, 300));
    now = 5_000;
    expect(log.replay(topic, 0, 1_000)).toEqual({ events: [], complete: false });
    expect(log.replay(topic, 300, 1_000)).toEqual({ events: [], complete: true });
  });
});
