import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRedisEventBus, RedisEventBus } from "../../src/pubsub/event-bus.redis.js";
import type { ConcordEvent } from "../../src/pubsub/events.js";
import { topics, type Topic } from "../../src/pubsub/topics.js";
import { busesPerTest, busOpener, contractFixture, memoryLogger, numbered, numbers, recorder, until } from "../support/redis-event-buses.js";
import { requireService } from "../support/services.js";
import { eventBusContract } from "./event-bus.contract.js";

const REDIS_URL = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";
/** Every channel of this run is under its own prefix, so runs (and other suites) sharing the server never meet. */
const RUN_PREFIX = `concord-test:${process.pid}-${Date.now().toString(36)}:`;

/** A connected bus with a connection name unique to it, so tests can find (and kill) exactly its connections. */
const openBus = busOpener({ url: REDIS_URL }, RUN_PREFIX);

describe.runIf(await requireService("Redis", REDIS_URL))("Redis event bus", () => {
  // The unchanged contract: the same behaviour as MemoryEventBus, through a real Redis.
  eventBusContract("RedisEventBus", () => contractFixture(openBus), { multiInstance: true });

  describe("RedisEventBus across instances", () => {
    let admin: Redis;
    let topicNumber = 0;
    const freshTopic = (): Topic => topics.channel(BigInt(Date.now()) * 1000n + BigInt(++topicNumber));

    beforeAll(() => {
      admin = new Redis(REDIS_URL);
    });
    afterAll(async () => {
      await admin.quit();
    });
    const instance = busesPerTest(openBus);

    /** How many connections Redis counts as subscribed to the topic's channel (one per instance, if the bus does its job). */
    async function redisSubscribers(bus: RedisEventBus, topic: Topic): Promise<number> {
      const reply = (await admin.call("PUBSUB", "NUMSUB", bus.channelOf(topic))) as [string, number];
      return Number(reply[1]);
    }
    /** Redis's client id of one of the bus's two connections. */
    async function clientId(name: string): Promise<string | undefined> {
      const list = (await admin.call("CLIENT", "LIST")) as string;
      return list.split("\n").find((line) => line.includes(` name=${name} `))?.match(/^id=(\d+)/)?.[1];
    }

    it("delivers 1,000 events published on instance A to subscribers on instance B, in publish order, decoded once per instance", async () => {
      const [a, b] = [await instance(), await instance()];
      const topic = freshTopic();
      const [first, second] = [recorder(), recorder()];
      await b.subscribe(topic, first);
      await b.subscribe(topic, second);
      const sends: Promise<unknown>[] = [];
      for (let i = 0; i < 1_000; i++) sends.push(a.publish(topic, numbered(i)));
      await Promise.all(sends);
      await until(() => first.events.length >= 1_000 && second.events.length >= 1_000, () => `B got ${first.events.length}`);
      const expected = Array.from({ length: 1_000 }, (_, i) => i);
      expect(numbers(first)).toEqual(expected);
      expect(numbers(second)).toEqual(expected);
      // Both local handlers got the very same decoded object: one decode per message per instance.
      expect(first.events.every((event, i) => event === second.events[i])).toBe(true);
    });

    it("holds one Redis subscription per topic per instance, however many local handlers, and drops it after the last one leaves", async () => {
      const [a, b] = [await instance(), await instance()];
      const topic = freshTopic();
      // Subscribed all at once: the 49 that arrive while the first SUBSCRIBE is in flight share it.
      const onA = await Promise.all(Array.from({ length: 50 }, () => a.subscribe(topic, recorder())));
      const onB = await Promise.all(Array.from({ length: 50 }, () => b.subscribe(topic, recorder())));
      expect(a.subscriberCount(topic)).toBe(50);
      expect(await redisSubscribers(a, topic)).toBe(2);

      onB.forEach((unsubscribe) => unsubscribe());
      expect(b.subscriberCount(topic)).toBe(0);
      await until(async () => (await redisSubscribers(a, topic)) === 1, () => "B's subscription is still there");
      onA.slice(1).forEach((unsubscribe) => unsubscribe());
      expect(await redisSubscribers(a, topic)).toBe(1);
      onA[0]!();
      await until(async () => (await redisSubscribers(a, topic)) === 0, () => "A's subscription is still there");

      // And the topic works again afterwards.
      const again = recorder();
      await b.subscribe(topic, again);
      expect(await redisSubscribers(a, topic)).toBe(1);
      await a.publish(topic, numbered(1));
      await until(() => again.events.length === 1, () => "no event after resubscribing");
    });

    it("a subscribe that times out during an outage leaves no Redis subscription behind once Redis answers", async () => {
      let resubscribed = 0;
      // Reconnecting takes 200-400 ms, far longer than subscribe is allowed to wait.
      const a = await instance({ subscribeTimeoutMs: 50, reconnect: { baseMs: 400, maxMs: 400 }, onResubscribed: () => resubscribed++ });
      const topic = freshTopic();
      const subscriberId = await clientId(`${a.connectionName}:sub`);
      expect(await admin.call("CLIENT", "KILL", "ID", subscriberId!)).toBe(1);
      await until(
        () => a.logger.lines.some((line) => line.message.includes("connection lost") && line.fields?.role === "subscriber"),
        () => "the bus did not notice",
      );
      await expect(a.subscribe(topic, recorder())).rejects.toThrow(/did not acknowledge SUBSCRIBE/);
      expect(a.subscriberCount(topic)).toBe(0);
      // The SUBSCRIBE is still queued: it goes out on reconnection and is dropped as soon as it is acknowledged.
      expect(a.remoteTopics()).toEqual([topic]);
      await until(() => resubscribed === 1, () => "no reconnection");
      await until(async () => a.remoteTopics().length === 0 && (await redisSubscribers(a, topic)) === 0, () => "subscription left behind");

      // The topic is as good as new.
      const handler = recorder();
      await a.subscribe(topic, handler);
      await a.publish(topic, numbered(1));
      await until(() => handler.events.length === 1, () => "no event after the outage");
      expect(await redisSubscribers(a, topic)).toBe(1);
    });

    it("instances with different key prefixes sharing one Redis do not hear each other", async () => {
      const [a, other] = [await instance(), await instance({ keyPrefix: `${RUN_PREFIX}other:` })];
      const topic = freshTopic();
      const [mine, theirs] = [recorder(), recorder()];
      await a.subscribe(topic, mine);
      await other.subscribe(topic, theirs);
      await other.publish(topic, numbered(1));
      await a.publish(topic, numbered(2));
      await until(() => mine.events.length === 1 && theirs.events.length === 1, () => "not delivered");
      expect(numbers(mine)).toEqual([2]);
      expect(numbers(theirs)).toEqual([1]);
    });

    it("logs and drops malformed payloads, and keeps delivering the valid ones", async () => {
      const b = await instance();
      const topic = freshTopic();
      const handler = recorder();
      await b.subscribe(topic, handler);
      for (const junk of ["not json", '{"type":"Nope"}', '{"type":"MessageDeleted","channelId":1,"messageId":{"$n":"2"}}', '{"$n":"1"}']) {
        await admin.publish(b.channelOf(topic), junk);
      }
      // A well-formed event without its place in the sequence is malformed too.
      await admin.publish(b.channelOf(topic), '{"type":"MessageDeleted","channelId":{"$n":"1"},"eventId":{"$n":"43"},"messageId":{"$n":"41"}}');
      await admin.publish(b.channelOf(topic), 'e1:1|{"type":"MessageDeleted","channelId":{"$n":"1"},"eventId":{"$n":"43"},"messageId":{"$n":"42"}}');
      await until(() => handler.events.length === 1, () => "the valid event did not arrive");
      expect(numbers(handler)).toEqual([42]);
      expect(b.logger.lines.filter((line) => line.message.includes("malformed"))).toHaveLength(5);
    });

    it("the message-id index keeps 10 × EVENT_LOG_MAX_EVENTS ids and says when it no longer reaches back", async () => {
      const bus = await instance({ logRetention: { maxEvents: 2, maxAgeMs: 60_000 } });
      const topic = freshTopic();
      const created = (id: number): ConcordEvent => ({
        type: "MessageCreated",
        channelId: 1n,
        message: { id: BigInt(id), channelId: 1n, authorId: 2n, content: "hi", editedAt: null, replyToId: null, mentionIds: [], nonce: null },
        author: { id: 2n, username: "ada", bot: false, botOwnerId: null, createdAt: new Date(0) },
      });
      for (let i = 1; i <= 25; i++) await bus.publish(topic, created(1_000 + i));
      const all = await bus.messageIdsAfter(topic, 0, 100);
      expect(all.complete).toBe(false);
      expect(all.ids.map((m) => m.seq)).toEqual(Array.from({ length: 20 }, (_, i) => i + 6));
      expect(await bus.messageIdsAfter(topic, 5, 100)).toMatchObject({ complete: true });
      expect((await bus.messageIdsAfter(topic, 5, 100)).ids[0]).toEqual({ seq: 6, id: 1_006n });
    });

    it("a message lost on the way is repaired from the log before anything later is delivered", async () => {
      const [a, b] = [await instance(), await instance()];
      const topic = freshTopic();
      const handler = recorder();
      await b.subscribe(topic, handler);
      await a.publish(topic, numbered(1));
      // What a lost PUBLISH leaves behind: the event numbered and logged, but never relayed.
      const [seqKey, logKey] = [`${RUN_PREFIX}{${topic}}:seq`, `${RUN_PREFIX}{${topic}}:log`];
      const seq = await admin.hincrby(seqKey, "seq", 1);
      const { encodeEvent } = await import("../../src/pubsub/event-codec.js");
      await admin.xadd(logKey, `${seq}-0`, "e", encodeEvent(numbered(2)));
      await a.publish(topic, numbered(3));
      await until(() => handler.events.length >= 3, () => `got ${numbers(handler).join(",")}`);
      expect(numbers(handler)).toEqual([1, 2, 3]);
      expect(b.logger.lines.filter((line) => line.message.startsWith("events lost"))).toEqual([]);
    });

    /** A publisher A and a subscriber B on `topic`; B got event 1, then Redis lost the topic's sequence and log. */
    async function afterLostLog(topic: Topic) {
      const [a, b] = [await instance(), await instance()];
      const handler = recorder();
      await b.subscribe(topic, handler);
      await a.publish(topic, numbered(1));
      await until(() => handler.events.length >= 1, () => "the first event did not arrive");
      await admin.del(`${RUN_PREFIX}{${topic}}:seq`, `${RUN_PREFIX}{${topic}}:log`);
      return { a, handler };
    }

    it("on a guild or user topic, a lost log is a LiveGap notice (subscriptions turn it into ResyncRequired)", async () => {
      const topic = topics.guild(BigInt(Date.now()) * 1000n + BigInt(++topicNumber));
      const { a, handler } = await afterLostLog(topic);
      await a.publish(topic, numbered(2));
      await until(() => handler.events.length >= 3, () => `got ${handler.events.map((e) => e.type).join(",")}`);
      expect(handler.events.map((e) => e.type)).toEqual(["MessageDeleted", "LiveGap", "MessageDeleted"]);
    });

    it("a log Redis lost (a new epoch) on a channel topic is a LiveGap notice too, then delivery goes on", async () => {
      const topic = freshTopic();
      const { a, handler } = await afterLostLog(topic);
      await a.publish(topic, numbered(2));
      await a.publish(topic, numbered(3));
      await until(() => handler.events.length >= 4, () => `got ${handler.events.map((e) => e.type).join(",")}`);
      expect(handler.events.map((e) => e.type)).toEqual(["MessageDeleted", "LiveGap", "MessageDeleted", "MessageDeleted"]);
      expect(numbers({ events: handler.events.filter((e) => e.type === "MessageDeleted") })).toEqual([1, 2, 3]);
    });

    it("reconnects by itself when Redis drops its connections under load, and repairs the gap from the log: nothing published is lost", async () => {
      const resubscribed: Topic[][] = [];
      const [a, b] = [await instance(), await instance({ onResubscribed: (t) => resubscribed.push(t) })];
      const topic = freshTopic();
      const handler = recorder();
      const seqs: number[] = [];
      await b.subscribe(topic, (event, seq, epoch) => {
        seqs.push(seq);
        handler(event, seq, epoch);
      });

      // A publishes continuously, one after another, as the channel sequencer does.
      let stop = false;
      let sent = 0;
      let failed = 0;
      const published: number[] = [];
      const load = (async () => {
        for (let i = 0; !stop; i++) {
          await a.publish(topic, numbered(i)).then(
            () => (sent++, published.push(i)),
            () => failed++,
          );
          if (i % 20 === 0) await new Promise((resolve) => setTimeout(resolve, 1));
        }
      })();
      await until(() => handler.events.length >= 200, () => `only ${handler.events.length} before the kill`);

      // What a Redis restart does to the bus's connections, without stopping the shared server:
      // kill exactly this test's two connections (the ID filter keeps other suites' clients alive).
      const subscriberId = await clientId(`${b.connectionName}:sub`);
      const publisherId = await clientId(`${a.connectionName}:pub`);
      expect(subscriberId && publisherId).toBeTruthy();
      expect(await admin.call("CLIENT", "KILL", "TYPE", "pubsub", "ID", subscriberId!)).toBe(1);
      expect(await admin.call("CLIENT", "KILL", "TYPE", "normal", "ID", publisherId!)).toBe(1);
      const atKill = handler.events.length;

      // Nobody re-subscribes by hand: the bus has to find its way back.
      await until(() => resubscribed.length > 0, () => "the subscriber did not resubscribe");
      expect(resubscribed[0]).toEqual([topic]);
      await until(() => handler.events.length > atKill + 100, () => `no events after the reconnect (got ${handler.events.length}, ${atKill} at the kill)`);
      stop = true;
      await load;

      expect(await clientId(`${b.connectionName}:sub`)).not.toBe(subscriberId);
      expect(await clientId(`${a.connectionName}:pub`)).not.toBe(publisherId);
      expect(await redisSubscribers(b, topic)).toBe(1);
      // Everything Redis accepted arrives, once, in order: what the subscriber missed while cut off
      // came from the log. (A publish that failed on A's side may still have reached Redis.)
      await until(() => published.every((n) => numbers(handler).includes(n)), () => `missing ${published.filter((n) => !numbers(handler).includes(n)).length} published events`);
      const got = numbers(handler);
      expect(got.every((n, i) => i === 0 || n > got[i - 1]!)).toBe(true);
      expect(got.length).toBeLessThanOrEqual(sent + failed);
      expect(seqs.every((seq, i) => i === 0 || seq === seqs[i - 1]! + 1), "no gap in the sequence").toBe(true);
      expect(handler.events.some((e) => e.type === "LiveGap"), "nothing was reported missing").toBe(false);
      expect(b.logger.lines.some((line) => line.message.includes("connection lost"))).toBe(true);

      // After recovery nothing is lost any more.
      const before = handler.events.length;
      for (let i = 0; i < 100; i++) await a.publish(topic, numbered(1_000_000 + i));
      await until(() => handler.events.length === before + 100, () => `got ${handler.events.length - before} of 100 after recovery`);
      expect(numbers(handler).slice(before)).toEqual(Array.from({ length: 100 }, (_, i) => 1_000_000 + i));
    });

    it("with Redis unreachable, publish and subscribe fail fast and close() is clean", async () => {
      const unreachable = "redis://127.0.0.1:1";
      await expect(createRedisEventBus({ url: unreachable, logger: memoryLogger(), connectTimeoutMs: 300 })).rejects.toThrow(/not ready within 300 ms/);

      const bus = new RedisEventBus({ url: unreachable, logger: memoryLogger(), subscribeTimeoutMs: 300, reconnect: { maxMs: 200 } });
      const started = Date.now();
      await expect(bus.publish(freshTopic(), numbered(1))).rejects.toThrow();
      await expect(bus.subscribe(freshTopic(), recorder())).rejects.toThrow(/did not acknowledge SUBSCRIBE/);
      expect(Date.now() - started).toBeLessThan(2_000);
      // The SUBSCRIBE still queued for a connection that never comes is failed by close(): no unhandled rejection.
      await bus.close();
      await bus.close();
      await expect(bus.publish(freshTopic(), numbered(1))).rejects.toThrow(/closed/);
    });
  });
});
