import type { Cluster, Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { topics, type Topic } from "../../src/pubsub/topics.js";
import { keySlot } from "../../src/redis/cluster.js";
import { ShardedSubscriber } from "../../src/redis/sharded-subscriber.js";
import { deleteClusterKeys, moveSlot, nodeKey, openAdminCluster, primaryOf, testClusterSeeds } from "../support/redis-cluster.js";
import { busesPerTest, busOpener, contractFixture, memoryLogger, numbered, numbers, recorder, until } from "../support/redis-event-buses.js";
import { requireRedisCluster } from "../support/services.js";
import { eventBusContract } from "./event-bus.contract.js";

/**
 * RedisEventBus on a Redis Cluster (scripts/redis-cluster.sh: three primaries on loopback): the
 * unchanged contract, then what only a cluster has — topics sharded over the primaries through
 * SPUBLISH/SSUBSCRIBE, and subscriptions that follow a moved slot or a dropped connection.
 */

/** Every key and channel of this run is under its own prefix: runs sharing the cluster never meet. */
const RUN_PREFIX = `concord-test:${process.pid}-${Date.now().toString(36)}:`;

/** A connected bus on the cluster, with a connection name unique to it (tests find its connections by it). */
const openBus = busOpener({ clusterNodes: testClusterSeeds() }, RUN_PREFIX);

describe.runIf(await requireRedisCluster())("Redis event bus on a Redis Cluster", () => {
  let admin: Cluster;
  beforeAll(async () => {
    admin = await openAdminCluster();
  });
  afterAll(async () => {
    await deleteClusterKeys(admin, RUN_PREFIX);
    await admin.quit();
  });

  eventBusContract("RedisEventBus on a Redis Cluster", () => contractFixture(openBus), { multiInstance: true });

  describe("sharded pub/sub", () => {
    const instance = busesPerTest(openBus);
    let topicNumber = 0;
    const freshTopic = (): Topic => topics.channel(BigInt(Date.now()) * 1000n + BigInt(++topicNumber));
    const pubsub = async (node: Redis, ...args: string[]) => (await node.call("PUBSUB", ...args)) as string[];

    it("computes the slot of a key or shard channel exactly as the cluster does (hash tags included)", async () => {
      for (const key of ["concord:{channel:1}", "concord:{channel:1}:seq", "plain", "a{}b", "{}", "x{y}z{w}", "ünïcødé{tag}", "{user:123456789012345678}"]) {
        expect(keySlot(key), key).toBe(await admin.cluster("KEYSLOT", key));
      }
    });

    it("spreads topics over the primaries: each is relayed by SPUBLISH and held by SSUBSCRIBE on the primary of its slot only", async () => {
      const [a, b] = [await instance(), await instance()];
      // Enough topics to land on every primary (the topic's channel and keys share its slot).
      const primaries = admin.nodes("master");
      const chosen = new Map<string, Topic>();
      for (let i = 0; chosen.size < primaries.length && i < 1_000; i++) {
        const topic = freshTopic();
        chosen.set(nodeKey(await primaryOf(admin, keySlot(b.channelOf(topic)))), topic);
      }
      expect(chosen.size, "topics on every primary").toBe(primaries.length);
      const handlers = new Map<Topic, ReturnType<typeof recorder>>();
      for (const topic of chosen.values()) {
        const handler = recorder();
        handlers.set(topic, handler);
        await b.subscribe(topic, handler);
      }
      for (const [i, topic] of [...chosen.values()].entries()) await a.publish(topic, numbered(i));
      await until(() => [...handlers.values()].every((h) => h.events.length === 1), () => "not every topic delivered");

      for (const [owner, topic] of chosen) {
        const channel = b.channelOf(topic);
        expect(channel, "the channel carries the topic as a hash tag").toBe(`${RUN_PREFIX}{${topic}}`);
        expect(keySlot(channel)).toBe(keySlot(`${RUN_PREFIX}{${topic}}:seq`));
        for (const node of primaries) {
          const shardChannels = await pubsub(node, "SHARDCHANNELS", `${RUN_PREFIX}*`);
          expect(shardChannels.includes(channel), `${channel} in PUBSUB SHARDCHANNELS of ${nodeKey(node)} (owner ${owner})`).toBe(nodeKey(node) === owner);
          // Nothing goes through classic pub/sub, which the cluster bus would copy to every node.
          expect(await pubsub(node, "CHANNELS", `${RUN_PREFIX}*`), `PUBSUB CHANNELS of ${nodeKey(node)}`).toEqual([]);
        }
        const owning = primaries.find((n) => nodeKey(n) === owner)!;
        expect(await pubsub(owning, "SHARDNUMSUB", channel), "one subscription per instance").toEqual([channel, 1]);
        expect(b.shardPlacement()?.get(owner)).toContain(channel);
      }
      // Ephemeral events (typing) take the same path, outside the sequence.
      const [topic, handler] = [...handlers][0]!;
      await a.publish(topic, numbered(99), { ephemeral: true });
      await until(() => handler.events.length === 2, () => "the ephemeral event did not arrive");
      expect(handler.seqs).toEqual([1, 0]);
    });

    it("a topic whose slot moves to another primary mid-stream follows it: the log fills the gap, nothing is lost, nothing reported missing", async () => {
      const resubscribed: Topic[][] = [];
      const [a, b] = [await instance(), await instance({ onResubscribed: (t) => resubscribed.push(t) })];
      const topic = freshTopic();
      const other = freshTopic();
      const slot = keySlot(b.channelOf(topic));
      const from = await primaryOf(admin, slot);
      const to = admin.nodes("master").find((n) => nodeKey(n) !== nodeKey(from))!;
      const handler = recorder();
      const bystander = recorder();
      await b.subscribe(topic, handler);
      await b.subscribe(other, bystander);

      let stop = false;
      let failed = 0;
      const published: number[] = [];
      const load = (async () => {
        for (let i = 0; !stop; i++) {
          await a.publish(topic, numbered(i)).then(
            () => published.push(i),
            () => failed++,
          );
          if (i % 10 === 0) await new Promise((resolve) => setTimeout(resolve, 1));
        }
      })();
      try {
        await until(() => handler.events.length >= 100, () => `only ${handler.events.length} before the move`, 10_000);
        await moveSlot(admin, slot, to);
        const atMove = handler.events.length;
        await until(() => resubscribed.some((t) => t.includes(topic)), () => "the subscriber did not follow the slot", 10_000);
        await until(() => handler.events.length > atMove + 100, () => `no events after the move (${handler.events.length}, ${atMove} at the move)`, 10_000);
      } finally {
        stop = true;
        await load;
      }
      await until(() => published.every((n) => numbers(handler).includes(n)), () => `missing ${published.filter((n) => !numbers(handler).includes(n)).length} published events`, 10_000);
      const got = numbers(handler);
      expect(got.every((n, i) => i === 0 || n > got[i - 1]!), "publish order").toBe(true);
      expect(handler.seqs.every((seq, i) => i === 0 || seq === handler.seqs[i - 1]! + 1), "no gap in the sequence").toBe(true);
      expect(handler.events.some((e) => e.type === "LiveGap"), "nothing reported missing: the log moved with the slot").toBe(false);
      expect(failed, "publishes wait out the move (TRYAGAIN/ASK are retried)").toBe(0);
      // Held where the slot lives now, and nowhere else.
      const channel = b.channelOf(topic);
      expect(await pubsub(to, "SHARDNUMSUB", channel)).toEqual([channel, 1]);
      expect(await pubsub(from, "SHARDNUMSUB", channel)).toEqual([channel, 0]);
      expect(b.shardPlacement()?.get(nodeKey(to))).toContain(channel);
      // Only the moved topic was placed again (unless the other one shares the slot).
      if (keySlot(b.channelOf(other)) !== slot) expect(resubscribed.flat()).not.toContain(other);
      await a.publish(other, numbered(1));
      await until(() => bystander.events.length === 1, () => "the other topic stopped working");
      // Either way is right; the log says which one it took (a connection rebuilt if a stale slot map led to a MOVED).
      console.log(`[cluster bus] slot ${slot} moved ${nodeKey(from)} -> ${nodeKey(to)}: ${b.logger.lines.map((l) => `${l.level}: ${l.message}`).join(" / ")}`);
      // Leave the shared cluster as it was.
      await moveSlot(admin, slot, from);
    }, 40_000);

    it("a dropped subscriber connection is rebuilt by itself: its topics are repaired from the log, onResubscribed names them", async () => {
      const resubscribed: Topic[][] = [];
      const [a, b] = [await instance(), await instance({ onResubscribed: (t) => resubscribed.push(t) })];
      const topic = freshTopic();
      const handler = recorder();
      await b.subscribe(topic, handler);
      const owner = await primaryOf(admin, keySlot(b.channelOf(topic)));
      for (let i = 0; i < 10; i++) await a.publish(topic, numbered(i));
      await until(() => handler.events.length === 10, () => "the first ten did not arrive");

      // What a primary restart or a network cut does to the subscriber, without touching the shared cluster.
      expect(await owner.call("CLIENT", "KILL", "ID", await subscriberId(owner, `${b.connectionName}:ssub`))).toBe(1);
      // Published while the connection is down or being rebuilt: only the log has them.
      for (let i = 10; i < 20; i++) await a.publish(topic, numbered(i));
      await until(() => resubscribed.some((t) => t.includes(topic)), () => "not resubscribed");
      for (let i = 20; i < 30; i++) await a.publish(topic, numbered(i));
      await until(() => handler.events.length >= 30, () => `got ${handler.events.length} of 30`);
      expect(numbers(handler)).toEqual(Array.from({ length: 30 }, (_, i) => i));
      expect(handler.events.some((e) => e.type === "LiveGap")).toBe(false);
      expect(b.logger.lines.some((line) => line.message.includes("placing them again"))).toBe(true);
    });

    it("a subscription sent on a stale slot map (answered with MOVED) is placed again on the right primary", async () => {
      const cluster = await openAdminCluster();
      const logger = memoryLogger();
      const sharded = new ShardedSubscriber({ cluster, connectionName: `${RUN_PREFIX.replaceAll(":", "-")}stale`, logger, onResubscribed: () => {} });
      try {
        const channel = `${RUN_PREFIX}{stale:${Date.now()}}`;
        const slot = keySlot(channel);
        const owner = nodeKey(await primaryOf(admin, slot));
        // What a client sees between a resharding and its next slot map refresh.
        cluster.slots[slot] = [cluster.nodes("master").map(nodeKey).find((key) => key !== owner)!];
        const got: string[] = [];
        await sharded.subscribe(channel, (message) => got.push(message));
        expect(sharded.placement().get(owner)).toEqual([channel]);
        expect(logger.lines.map((l) => l.message)).toContainEqual(expect.stringContaining("placing them again"));
        await admin.spublish(channel, "hello");
        await until(() => got.length === 1, () => "nothing delivered");
      } finally {
        await sharded.close();
        await cluster.quit();
      }
    });

    /** Redis's client id of the named connection on `node`. */
    async function subscriberId(node: Redis, name: string): Promise<string> {
      const list = (await node.call("CLIENT", "LIST")) as string;
      const id = list.split("\n").find((line) => line.includes(` name=${name} `))?.match(/^id=(\d+)/)?.[1];
      if (!id) throw new Error(`no connection named ${name} on ${nodeKey(node)}`);
      return id;
    }
  });
});
