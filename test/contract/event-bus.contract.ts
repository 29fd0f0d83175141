import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createIdGenerator, MAX_SNOWFLAKE } from "../../src/ids/snowflake.js";
import type { EventBus, EventHandler } from "../../src/pubsub/event-bus.js";
import type { ConcordEvent } from "../../src/pubsub/events.js";
import { topics, type Topic } from "../../src/pubsub/topics.js";

/** What a suite run needs from an adapter: a fresh bus and how to release what backs it. */
export interface EventBusFixture {
  bus: EventBus;
  /**
   * More buses sharing the first one's sequences and logs (other instances of a fleet), closed
   * with the fixture; absent for an adapter that lives in one process.
   */
  peers?: (count: number) => Promise<EventBus[]>;
  close(): Promise<void>;
}

/** Known differences between adapters, stated here rather than skipped. */
export interface EventBusContractOptions {
  /** Longest wait for an event to arrive (default 2,000 ms): a remote bus delivers asynchronously. */
  deliveryTimeoutMs?: number;
  /**
   * How long to watch for events that must NOT arrive when no later event on the same topic
   * can prove their absence (after close): 0 for a synchronous bus, more for a remote one
   * (default 100 ms).
   */
  absenceWindowMs?: number;
  /** The fixture gives `peers` (instances sharing the bus): the multi-instance tests run. */
  multiInstance?: boolean;
}

/**
 * The behaviour every {@link EventBus} adapter must have, as stated in the port's JSDoc: only
 * the port's promises, so the Redis adapter passes it unchanged. Each test gets a fresh bus and
 * topics no other test uses; arrival is awaited by polling, never by fixed sleeps.
 */
export function eventBusContract(name: string, factory: () => Promise<EventBusFixture>, options: EventBusContractOptions = {}) {
  const timeoutMs = options.deliveryTimeoutMs ?? 2_000;
  const absenceMs = options.absenceWindowMs ?? 100;

  describe(`EventBus contract: ${name}`, () => {
    const newId = createIdGenerator(5);
    let fixture: EventBusFixture;
    const bus = () => fixture.bus;

    beforeEach(async () => {
      fixture = await factory();
    });
    afterEach(async () => {
      await fixture.close();
    });

    /** A topic no other test (or earlier run against a shared server) uses. */
    const freshTopic = (): Topic => topics.channel(newId());

    /** A handler that records what it receives. */
    function recorder(): EventHandler & { events: ConcordEvent[] } {
      const events: ConcordEvent[] = [];
      return Object.assign((event: ConcordEvent) => void events.push(event), { events });
    }

    /** Polls until `condition` holds; fails with `describe()` after the delivery timeout. */
    async function until(condition: () => boolean, describe: () => string): Promise<void> {
      const deadline = Date.now() + timeoutMs;
      while (!condition()) {
        if (Date.now() > deadline) throw new Error(`not delivered within ${timeoutMs} ms: ${describe()}`);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    }
    const received = (handler: { events: ConcordEvent[] }, count: number) =>
      until(() => handler.events.length >= count, () => `expected ${count} events, got ${handler.events.length}`);

    /** A small event whose `messageId` tells events apart. */
    const deleted = (n: number | bigint): ConcordEvent => ({ type: "MessageDeleted", channelId: 1n, eventId: BigInt(n), messageId: BigInt(n) });
    /** The numbers of the events a recorder got, markers left out. */
    const numbers = (handler: { events: ConcordEvent[] }) =>
      handler.events.flatMap((e) => (e.type !== "MessageDeleted" ? [-1n] : e.channelId === MARKER_CHANNEL ? [] : [e.messageId]));
    const MARKER_CHANNEL = 0n;
    let markers = 0n;

    /**
     * Publishes a unique marker on `topic` and waits until `sentinel` (subscribed to it) has it.
     * One publisher's events on one topic arrive in order, so everything published before the
     * marker has by then reached every subscriber of the topic it was going to reach.
     */
    async function flush(topic: Topic, sentinel: { events: ConcordEvent[] }): Promise<void> {
      const id = ++markers;
      await bus().publish(topic, { type: "MessageDeleted", channelId: MARKER_CHANNEL, eventId: id, messageId: id });
      await until(
        () => sentinel.events.some((e) => e.type === "MessageDeleted" && e.channelId === MARKER_CHANNEL && e.messageId === id),
        () => `marker ${id} on ${topic}`,
      );
    }

    it("delivers an event to every subscriber of its topic, and to no other topic's subscribers", async () => {
      const topic = freshTopic();
      const other = freshTopic();
      const [a, b, elsewhere] = [recorder(), recorder(), recorder()];
      await bus().subscribe(topic, a);
      await bus().subscribe(topic, b);
      await bus().subscribe(other, elsewhere);
      await bus().publish(topic, deleted(1));
      await received(a, 1);
      await received(b, 1);
      await bus().publish(other, deleted(2));
      await received(elsewhere, 1);
      expect(numbers(a)).toEqual([1n]);
      expect(numbers(b)).toEqual([1n]);
      expect(numbers(elsewhere)).toEqual([2n]);
    });

    it("publishing to a topic nobody subscribes to resolves and reaches no one", async () => {
      const watched = freshTopic();
      const sentinel = recorder();
      await bus().subscribe(watched, sentinel);
      await expect(bus().publish(freshTopic(), deleted(1))).resolves.toBe(1);
      await flush(watched, sentinel);
      expect(sentinel.events).toHaveLength(1);
    });

    it("keeps one publisher's order per topic across 1,000 events, for every subscriber, with another topic interleaved", async () => {
      const topic = freshTopic();
      const other = freshTopic();
      const [a, b, c] = [recorder(), recorder(), recorder()];
      await bus().subscribe(topic, a);
      await bus().subscribe(topic, b);
      await bus().subscribe(other, c);
      const sends: Promise<unknown>[] = [];
      for (let i = 0; i < 1_000; i++) {
        // Not awaited one by one: the order promise is about publish calls, not round trips.
        sends.push(bus().publish(topic, deleted(i)));
        if (i % 3 === 0) sends.push(bus().publish(other, deleted(-i)));
      }
      await Promise.all(sends);
      await received(a, 1_000);
      await received(b, 1_000);
      await received(c, 334);
      const expected = Array.from({ length: 1_000 }, (_, i) => BigInt(i));
      expect(numbers(a)).toEqual(expected);
      expect(numbers(b)).toEqual(expected);
      expect(numbers(c)).toEqual(Array.from({ length: 334 }, (_, i) => BigInt(-3 * i)));
    });

    it("an event published right after subscribe resolves is delivered", async () => {
      const topic = freshTopic();
      const handler = recorder();
      await bus().subscribe(topic, handler);
      await bus().publish(topic, deleted(7));
      await received(handler, 1);
      expect(numbers(handler)).toEqual([7n]);
    });

    it("unsubscribe stops delivery to that subscription only, and is idempotent", async () => {
      const topic = freshTopic();
      const [leaving, staying] = [recorder(), recorder()];
      const unsubscribe = await bus().subscribe(topic, leaving);
      await bus().subscribe(topic, staying);
      await bus().publish(topic, deleted(1));
      await received(leaving, 1);
      unsubscribe();
      unsubscribe();
      await bus().publish(topic, deleted(2));
      await flush(topic, staying);
      expect(numbers(leaving)).toEqual([1n]);
      expect(numbers(staying)).toEqual([1n, 2n]);
    });

    it("the same handler subscribed twice is delivered twice; each unsubscribe removes one, even called again", async () => {
      const topic = freshTopic();
      const handler = recorder();
      const sentinel = recorder();
      await bus().subscribe(topic, sentinel);
      const first = await bus().subscribe(topic, handler);
      const second = await bus().subscribe(topic, handler);
      await bus().publish(topic, deleted(1));
      await received(handler, 2);
      first();
      first();
      await bus().publish(topic, deleted(2));
      await flush(topic, sentinel);
      second();
      await bus().publish(topic, deleted(3));
      await flush(topic, sentinel);
      expect(numbers(handler)).toEqual([1n, 1n, 2n]);
      expect(numbers(sentinel)).toEqual([1n, 2n, 3n]);
    });

    it("the last unsubscribe of a topic does not affect other topics, and the topic can be subscribed again", async () => {
      const topic = freshTopic();
      const other = freshTopic();
      const [gone, elsewhere, again] = [recorder(), recorder(), recorder()];
      const unsubscribe = await bus().subscribe(topic, gone);
      await bus().subscribe(other, elsewhere);
      unsubscribe();
      await bus().publish(other, deleted(1));
      await received(elsewhere, 1);
      await bus().subscribe(topic, again);
      await bus().publish(topic, deleted(2));
      await received(again, 1);
      expect(numbers(gone)).toEqual([]);
      expect(numbers(again)).toEqual([2n]);
    });

    it("a throwing handler does not stop the other handlers, later events, or publish", async () => {
      const topic = freshTopic();
      let thrown = 0;
      const before = recorder();
      const after = recorder();
      await bus().subscribe(topic, before);
      await bus().subscribe(topic, () => {
        thrown++;
        throw new Error("handler bug");
      });
      await bus().subscribe(topic, after);
      await expect(bus().publish(topic, deleted(1))).resolves.toBe(1);
      await expect(bus().publish(topic, deleted(2))).resolves.toBe(2);
      await received(after, 2);
      await received(before, 2);
      expect(numbers(before)).toEqual([1n, 2n]);
      expect(numbers(after)).toEqual([1n, 2n]);
      expect(thrown).toBe(2);
    });

    it("events arrive intact: bigint ids, Date values, nulls, arrays and nested records, for every event type", async () => {
      const topic = freshTopic();
      const handler = recorder();
      await bus().subscribe(topic, handler);
      const createdAt = new Date("2026-01-02T03:04:05.678Z");
      const user = { id: MAX_SNOWFLAKE, username: "Ada ✓", bot: false, botOwnerId: null, createdAt };
      const bot = { id: 2n ** 62n + 3n, username: "helper", bot: true, botOwnerId: MAX_SNOWFLAKE - 1n, createdAt };
      const message = {
        id: 9_007_199_254_740_993n, // 2^53 + 1: lost if it ever passes through a double
        channelId: 5n,
        authorId: user.id,
        content: "line 1\nline 2 \"quoted\" 🚀",
        editedAt: null,
        replyToId: 9_007_199_254_740_992n,
        mentionIds: [3n, MAX_SNOWFLAKE, 1n],
        nonce: null,
      };
      const guild = { id: 11n, name: "Engines", ownerId: user.id, memberCount: 2, createdAt };
      const channel = { id: 12n, kind: "GUILD_TEXT" as const, guildId: 11n, name: "general", position: 0, ownerId: null, parentId: null, topic: null, rateLimitPerUser: 0, createdAt };
      const overwrite = { channelId: 12n, targetKind: "ROLE" as const, targetId: 11n, allow: 0n, deny: 1024n };
      const dm = { id: 13n, kind: "DM" as const, guildId: null, name: null, position: 0, ownerId: null, parentId: null, topic: null, rateLimitPerUser: 0, createdAt };
      const events: ConcordEvent[] = [
        { type: "MessageCreated", channelId: 5n, message, author: user },
        { type: "MessageUpdated", channelId: 5n, eventId: 6n, message: { ...message, editedAt: new Date(createdAt.getTime() + 1), nonce: "n-1" }, author: bot },
        { type: "MessageDeleted", channelId: 5n, eventId: 7n, messageId: message.id },
        { type: "ChannelDeleted", channelId: 12n, guildId: null },
        { type: "ChannelCreated", guildId: 11n, channel, overwrites: [overwrite] },
        { type: "ChannelUpdated", guildId: 11n, channel: { ...channel, position: 3 }, overwrites: [], previousOverwrites: [overwrite] },
        { type: "MemberRolesUpdated", guildId: 11n, userId: bot.id, roleIds: [14n] },
        { type: "GuildUpdated", guild },
        { type: "GuildDeleted", guildId: 11n },
        { type: "MemberJoined", guildId: 11n, user: bot },
        { type: "MemberLeft", guildId: 11n, userId: bot.id, reason: "KICKED" },
        { type: "GuildJoined", userId: user.id, guild },
        { type: "GuildLeft", userId: user.id, guildId: 11n, reason: "GUILD_DELETED" },
        { type: "DirectMessageOpened", userId: user.id, channel: dm },
        { type: "SessionRevoked", userId: user.id, tokenHash: "a".repeat(64), keepTokenHash: null },
      ];
      for (const event of events) await bus().publish(topic, event);
      await received(handler, events.length);
      expect(handler.events).toEqual(events);
      const first = handler.events[0] as Extract<ConcordEvent, { type: "MessageCreated" }>;
      expect(typeof first.message.id).toBe("bigint");
      expect(first.author.createdAt).toBeInstanceOf(Date);
      expect((handler.events[1] as Extract<ConcordEvent, { type: "MessageUpdated" }>).message.editedAt).toBeInstanceOf(Date);
    });

    describe("sequence and log", () => {
      /** A recorder that also keeps each event's sequence number. */
      function sequenced(): EventHandler & { events: ConcordEvent[]; seqs: number[] } {
        const events: ConcordEvent[] = [];
        const seqs: number[] = [];
        return Object.assign(
          (event: ConcordEvent, seq: number) => {
            events.push(event);
            seqs.push(seq);
          },
          { events, seqs },
        );
      }

      it("numbers each topic's events 1, 2, 3... independently of other topics; the head follows", async () => {
        const [topic, other] = [freshTopic(), freshTopic()];
        expect((await bus().head(topic)).seq).toBe(0);
        expect(await bus().publish(topic, deleted(1))).toBe(1);
        expect(await bus().publish(other, deleted(2))).toBe(1);
        expect(await bus().publish(topic, deleted(3))).toBe(2);
        const head = await bus().head(topic);
        expect(head.seq).toBe(2);
        expect(head.epoch).not.toBe("");
      });

      it("hands every subscriber each event with its sequence number, in sequence order", async () => {
        const topic = freshTopic();
        const [a, b] = [sequenced(), sequenced()];
        await bus().subscribe(topic, a);
        await bus().subscribe(topic, b);
        const seqs = await Promise.all(Array.from({ length: 50 }, (_, i) => bus().publish(topic, deleted(i))));
        expect([...seqs].sort((x, y) => x - y)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
        await received(a, 50);
        await received(b, 50);
        expect(a.seqs).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
        expect(b.seqs).toEqual(a.seqs);
        // Each event arrives with the number its publish returned.
        for (const [i, seq] of seqs.entries()) expect(numbers({ events: [a.events[seq - 1]!] })).toEqual([BigInt(i)]);
      });

      it("indexes the ids of created messages by sequence number (for replaying messages from history past the log)", async () => {
        const topic = freshTopic();
        const created = (id: bigint): ConcordEvent => ({
          type: "MessageCreated",
          channelId: 1n,
          message: { id, channelId: 1n, authorId: 2n, content: "hi", editedAt: null, replyToId: null, mentionIds: [], nonce: null },
          author: { id: 2n, username: "ada", bot: false, botOwnerId: null, createdAt: new Date(0) },
        });
        await bus().publish(topic, created(100n));
        await bus().publish(topic, deleted(1));
        await bus().publish(topic, created(101n));
        await bus().publish(topic, created(102n), { ephemeral: true });
        expect(await bus().messageIdsAfter(topic, 0, 10)).toEqual({ ids: [{ seq: 1, id: 100n }, { seq: 3, id: 101n }], complete: true });
        expect(await bus().messageIdsAfter(topic, 1, 10)).toEqual({ ids: [{ seq: 3, id: 101n }], complete: true });
        expect((await bus().messageIdsAfter(topic, 0, 1)).ids).toEqual([{ seq: 1, id: 100n }]);
        expect(await bus().messageIdsAfter(freshTopic(), 0, 10)).toEqual({ ids: [], complete: true });
      });

      it("an ephemeral event reaches current subscribers with number 0, and takes no number and no place in the log", async () => {
        const topic = freshTopic();
        const handler = sequenced();
        await bus().subscribe(topic, handler);
        await bus().publish(topic, deleted(1));
        expect(await bus().publish(topic, deleted(2), { ephemeral: true })).toBe(0);
        expect(await bus().publish(topic, deleted(3))).toBe(2);
        await received(handler, 3);
        expect(numbers(handler)).toEqual([1n, 2n, 3n]);
        expect(handler.seqs).toEqual([1, 0, 2]);
        expect((await bus().head(topic)).seq).toBe(2);
        expect((await bus().replay(topic, 0, 10)).events.map((e) => e.seq)).toEqual([1, 2]);
      });

      it("replays the logged events after a sequence number, in order, at most `limit`, saying whether nothing is missing", async () => {
        const topic = freshTopic();
        for (let i = 1; i <= 5; i++) await bus().publish(topic, deleted(i));
        const all = await bus().replay(topic, 0, 100);
        expect(all.complete).toBe(true);
        expect(all.events.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
        expect(numbers({ events: all.events.map((e) => e.event) })).toEqual([1n, 2n, 3n, 4n, 5n]);
        const page = await bus().replay(topic, 2, 2);
        expect(page.events.map((e) => e.seq)).toEqual([3, 4]);
        expect(page.complete).toBe(true);
        expect(await bus().replay(topic, 5, 10)).toEqual({ events: [], complete: true });
        expect(await bus().replay(freshTopic(), 0, 10)).toEqual({ events: [], complete: true });
      });

      // Only for adapters that run on several instances (the memory bus lives in one process).
      if (options.multiInstance) {
        it("several instances publishing one topic at once: one dense sequence, the same order for every subscriber everywhere", async () => {
          const instances = [bus(), ...(await fixture.peers!(2))];
          const topic = freshTopic();
          const recorders = instances.map(() => sequenced());
          for (const [i, instance] of instances.entries()) await instance.subscribe(topic, recorders[i]!);
          const perInstance = 200;
          const seqs = (
            await Promise.all(instances.map((instance, i) => Promise.all(Array.from({ length: perInstance }, (_, k) => instance.publish(topic, deleted(i * 10_000 + k))))))
          ).flat();
          const total = perInstance * instances.length;
          expect([...seqs].sort((x, y) => x - y)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
          for (const recorder of recorders) await received(recorder, total);
          const order = numbers(recorders[0]!);
          for (const recorder of recorders) {
            expect(recorder.seqs).toEqual(Array.from({ length: total }, (_, i) => i + 1));
            expect(numbers(recorder)).toEqual(order);
          }
          // Each instance's own events keep its publish order within the shared one.
          for (let i = 0; i < instances.length; i++) {
            const own = order.filter((n) => n >= BigInt(i * 10_000) && n < BigInt(i * 10_000 + perInstance));
            expect(own).toEqual(Array.from({ length: perInstance }, (_, k) => BigInt(i * 10_000 + k)));
          }
          const log = await instances[2]!.replay(topic, 0, total);
          expect(log.events.map((e) => e.seq)).toEqual(recorders[0]!.seqs);
        });
      }
    });

    it("delivers nothing after close(), and close() is idempotent", async () => {
      const topic = freshTopic();
      const handler = recorder();
      await bus().subscribe(topic, handler);
      await bus().publish(topic, deleted(1));
      await received(handler, 1);
      await bus().close();
      await bus().close();
      // A closed bus may refuse the publish; what matters is that nothing arrives.
      await bus().publish(topic, deleted(2)).catch(() => {});
      await new Promise((resolve) => setTimeout(resolve, absenceMs));
      expect(numbers(handler)).toEqual([1n]);
    });
  });
}
