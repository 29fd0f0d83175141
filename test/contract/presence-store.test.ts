import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { describe, expect, it } from "vitest";
import type { PresenceStore, SessionRef } from "../../src/stores/presence-store.js";
import { MemoryPresenceStore } from "../../src/stores/presence-store.memory.js";
import { CLUSTER_PRESENCE_BUCKETS, createRedisPresenceStore, RedisPresenceStore, STATUS_TTL_MS } from "../../src/stores/presence-store.redis.js";
import { deleteClusterKeys, dropClusterKeys, nodeKey, openAdminCluster, primaryOf, testClusterSeeds } from "../support/redis-cluster.js";
import { requireRedisCluster, requireService } from "../support/services.js";
import { keySlot } from "../../src/redis/cluster.js";
import { suiteFixture } from "../support/suite-fixture.js";
import { presenceStoreContract } from "./presence-store.contract.js";

const REDIS_URL = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";
/** Every key of this run is under its own prefix, so runs (and other suites) sharing the server never meet. */
const RUN_PREFIX = `concord-test:${process.pid}-${Date.now().toString(36)}:`;
const redis = { available: () => requireService("Redis", REDIS_URL) };

/** Deletes every key under `prefix` (SCAN + UNLINK), leaving the rest of the server alone. */
async function deleteKeys(client: Redis, prefix: string): Promise<number> {
  const pattern = `${prefix.replace(/[*?[\]\\]/g, "\\$&")}*`;
  let cursor = "0";
  let deleted = 0;
  do {
    const [next, keys] = await client.scan(cursor, "MATCH", pattern, "COUNT", 1_000);
    cursor = next;
    if (keys.length > 0) deleted += await client.unlink(...keys);
  } while (cursor !== "0");
  return deleted;
}
async function keysUnder(client: Redis, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor = "0";
  do {
    const [next, batch] = await client.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 1_000);
    cursor = next;
    keys.push(...batch);
  } while (cursor !== "0");
  return keys;
}

presenceStoreContract("MemoryPresenceStore", async () => {
  const store = new MemoryPresenceStore();
  return { store, close: () => store.close() };
});

presenceStoreContract(
  "RedisPresenceStore",
  async () => {
    const keyPrefix = `${RUN_PREFIX}contract:`;
    const store = await createRedisPresenceStore({ url: REDIS_URL, keyPrefix, connectionName: `${RUN_PREFIX.replaceAll(":", "-")}contract` });
    return {
      store,
      close: async () => {
        await store.close();
        const admin = new Redis(REDIS_URL);
        await deleteKeys(admin, keyPrefix).finally(() => admin.quit());
      },
    };
  },
  redis,
);

const cluster = { available: () => requireRedisCluster() };

presenceStoreContract(
  "RedisPresenceStore on a Redis Cluster",
  async () => {
    const keyPrefix = `${RUN_PREFIX}cluster:`;
    const store = await createRedisPresenceStore({ clusterNodes: testClusterSeeds(), keyPrefix, connectionName: `${RUN_PREFIX.replaceAll(":", "-")}cluster` });
    return {
      store,
      close: async () => {
        await store.close();
        await dropClusterKeys(keyPrefix);
      },
    };
  },
  cluster,
);

describe("RedisPresenceStore on a Redis Cluster", () => {
  it("keeps each bucket's keys in one slot, and spreads the buckets over every primary", async (ctx) => {
    if (!(await cluster.available())) return ctx.skip();
    const admin = await openAdminCluster();
    const keyPrefix = `${RUN_PREFIX}layout:`;
    const store = await createRedisPresenceStore({ clusterNodes: testClusterSeeds(), keyPrefix });
    try {
      const now = new Date(Date.UTC(2030, 0, 1));
      const guildId = 42n;
      const users = Array.from({ length: 200 }, (_, i) => 1_000_000n + BigInt(i));
      // Scripts that touched keys of two slots would fail with CROSSSLOT; they all succeed.
      for (const userId of users) await store.connect({ userId, sessionId: `s${userId}`, guildIds: [guildId] }, now, 60_000);
      await store.setStatus(users[0]!, "DND", now);
      expect(await store.onlineCount(guildId)).toBe(users.length);
      const keys: string[] = [];
      for (const node of admin.nodes("master")) keys.push(...(await node.keys(`${keyPrefix}*`)));
      const bases = new Set(keys.map((key) => /^(.*presence:\{\d+\}:)/.exec(key)?.[1]));
      expect(bases.has(undefined), "every key is under a bucket's base").toBe(false);
      expect(bases.size, "200 users fill most of the buckets").toBeGreaterThan(CLUSTER_PRESENCE_BUCKETS / 2);
      for (const key of keys) expect(keySlot(key), key).toBe(keySlot(/^(.*presence:\{\d+\}:)/.exec(key)![1]!));
      const primaries = new Set(await Promise.all([...bases].map(async (base) => nodeKey(await primaryOf(admin, keySlot(base!))))));
      expect(primaries.size, "buckets on every primary").toBe(admin.nodes("master").length);
    } finally {
      await store.close();
      await deleteClusterKeys(admin, keyPrefix);
      await admin.quit();
    }
  });
});

describe("RedisPresenceStore on Redis", () => {
  /** A plain connection for the tests to watch and wound the store's keys; the run's keys are deleted after. */
  const fixture = suiteFixture(
    "RedisPresenceStore",
    async () => {
      const admin = new Redis(REDIS_URL);
      return {
        admin,
        close: async () => {
          await deleteKeys(admin, RUN_PREFIX);
          await admin.quit();
        },
      };
    },
    redis.available,
  );
  let prefixes = 0;
  /** A key prefix no other test uses. */
  const freshPrefix = () => `${RUN_PREFIX}t${++prefixes}:`;
  const session = (userId: bigint): SessionRef => ({ userId, sessionId: `s-${randomUUID()}` });
  let nextUser = BigInt(Date.now()) * 1_000n;
  const newId = () => ++nextUser;
  const now = new Date(Date.UTC(2030, 0, 1));
  const later = (ms: number) => new Date(now.getTime() + ms);

  it("runs every method in one round trip", async (ctx) => {
    fixture(ctx);
    const connection = new Redis(REDIS_URL);
    await connection.ping(); // the connection handshake (CLIENT SETINFO, INFO) is not the store's
    const sent: string[] = [];
    const original = connection.sendCommand.bind(connection);
    connection.sendCommand = ((command, stream) => {
      sent.push(command.name);
      return original(command, stream);
    }) as typeof connection.sendCommand;
    const store = new RedisPresenceStore(connection, { keyPrefix: freshPrefix() });
    try {
      const [userId, guildId, channelId] = [newId(), newId(), newId()];
      const many = Array.from({ length: 50 }, () => session(newId()));
      const calls: [string, (s: PresenceStore) => Promise<unknown>][] = [
        ["connect", (s) => s.connect({ ...session(userId), guildIds: [guildId, newId(), newId()] }, now, 1_000)],
        ["connect (50 users)", (s) => Promise.all(many.map((m) => s.connect({ ...m, guildIds: [guildId] }, now, 1_000)))],
        ["heartbeat (50 sessions)", (s) => s.heartbeat(many, later(1), 1_000)],
        ["get (51 users)", (s) => s.get([userId, ...many.map((m) => m.userId)], later(2))],
        ["setStatus", (s) => s.setStatus(userId, "INVISIBLE", later(3))],
        ["setStatus back", (s) => s.setStatus(userId, "ONLINE", later(4))],
        ["touch", (s) => s.touch(userId, later(5))],
        ["joinGuild", (s) => s.joinGuild(userId, newId(), later(6))],
        ["leaveGuild", (s) => s.leaveGuild(userId, guildId)],
        ["onlineCount", (s) => s.onlineCount(guildId)],
        ["activeMembers", (s) => s.activeMembers(guildId, 10)],
        ["forgetGuild", (s) => s.forgetGuild(guildId)],
        ["startTyping", (s) => s.startTyping(channelId, userId, later(7), 5_000, 1_000)],
        ["typing", (s) => s.typing(channelId, later(8))],
        ["stopTyping", (s) => s.stopTyping(channelId, userId, later(9))],
        ["disconnect", (s) => s.disconnect(many[0]!, later(10))],
        ["sweep", (s) => s.sweep(later(10_000), 100)],
      ];
      for (const [name, call] of calls) {
        sent.length = 0;
        await call(store);
        const expected = name.includes("(50 users)") ? 50 : 1;
        expect(sent, name).toHaveLength(expected);
        expect(sent.every((command) => ["evalsha", "eval", "zcard", "zrange"].includes(command)), `${name}: ${sent.join(", ")}`).toBe(true);
      }
    } finally {
      await store.close();
      expect(connection.status).toBe("ready"); // not the store's connection to close
      await connection.quit();
    }
  });

  it("keeps every key under <keyPrefix>presence:", async (ctx) => {
    const { admin } = fixture(ctx);
    const keyPrefix = freshPrefix();
    const store = await createRedisPresenceStore({ url: REDIS_URL, keyPrefix });
    try {
      const s = session(newId());
      await store.connect({ ...s, guildIds: [newId()] }, now, 60_000);
      await store.setStatus(s.userId, "DND", now);
      await store.startTyping(newId(), s.userId, now, 10_000, 1_000);
      const keys = await keysUnder(admin, keyPrefix);
      expect(keys.length).toBe(6); // sessions, expiry, guilds, status, online, typing
      expect(keys.every((key) => key.startsWith(`${keyPrefix}presence:`))).toBe(true);
    } finally {
      await store.close();
    }
  });

  it("after the keys are lost (a Redis restart without persistence) heartbeat reports the sessions unknown", async (ctx) => {
    const { admin } = fixture(ctx);
    const keyPrefix = freshPrefix();
    const store = await createRedisPresenceStore({ url: REDIS_URL, keyPrefix });
    try {
      const guildId = newId();
      const sessions = [session(newId()), session(newId()), session(newId())];
      for (const s of sessions) await store.connect({ ...s, guildIds: [guildId] }, now, 60_000);
      expect(await store.heartbeat(sessions, later(1), 60_000)).toEqual([]);

      expect(await deleteKeys(admin, keyPrefix)).toBeGreaterThan(0);
      expect(await store.heartbeat(sessions, later(2), 60_000)).toEqual(sessions);
      expect((await store.get([sessions[0]!.userId], later(3)))[0]!.status).toBe("OFFLINE");
      expect(await store.onlineCount(guildId)).toBe(0);
      // What the gateway does next: connect again, which announces the user online again.
      expect(await store.connect({ ...sessions[0]!, guildIds: [guildId] }, later(4), 60_000)).toEqual({ cameOnline: true, status: "ONLINE" });
      expect(await store.heartbeat(sessions, later(5), 60_000)).toEqual(sessions.slice(1));
      expect(await store.onlineCount(guildId)).toBe(1);
    } finally {
      await store.close();
    }
  });

  it("concurrent sweeps on separate connections report each expired user exactly once", async (ctx) => {
    fixture(ctx);
    const keyPrefix = freshPrefix();
    const [a, b] = [await createRedisPresenceStore({ url: REDIS_URL, keyPrefix }), await createRedisPresenceStore({ url: REDIS_URL, keyPrefix })];
    try {
      const sessions = Array.from({ length: 300 }, () => session(newId()));
      await Promise.all(sessions.map((s, i) => (i % 2 ? a : b).connect({ ...s, guildIds: [] }, later(i), 1_000)));
      const reported: bigint[] = [];
      await Promise.all(
        [a, b, a, b].map(async (store) => {
          for (;;) {
            const batch = await store.sweep(later(5_000), 7);
            reported.push(...batch);
            if (batch.length === 0) return;
          }
        }),
      );
      expect(reported).toHaveLength(300);
      expect(new Set(reported).size).toBe(300);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it("keeps a chosen status without expiry while the user has sessions and for 30 days after", async (ctx) => {
    const { admin } = fixture(ctx);
    const keyPrefix = freshPrefix();
    const store = await createRedisPresenceStore({ url: REDIS_URL, keyPrefix });
    try {
      const s = session(newId());
      const statusKey = `${keyPrefix}presence:status:${s.userId}`;
      await store.setStatus(s.userId, "DND", now);
      expect(await admin.pttl(statusKey)).toBeGreaterThan(STATUS_TTL_MS - 60_000);
      await store.connect({ ...s, guildIds: [] }, now, 60_000);
      expect(await admin.pttl(statusKey)).toBe(-1);
      await store.setStatus(s.userId, "IDLE", later(1));
      expect(await admin.pttl(statusKey)).toBe(-1);
      await store.disconnect(s, later(2));
      expect(await admin.pttl(statusKey)).toBeGreaterThan(STATUS_TTL_MS - 60_000);
      await store.setStatus(s.userId, "ONLINE", later(3));
      expect(await admin.exists(statusKey)).toBe(0); // ONLINE is the absence of a choice
    } finally {
      await store.close();
    }
  });

  it("lets an idle channel's typing key expire shortly after its last typist", async (ctx) => {
    const { admin } = fixture(ctx);
    const keyPrefix = freshPrefix();
    const store = await createRedisPresenceStore({ url: REDIS_URL, keyPrefix });
    try {
      const channelId = newId();
      await store.startTyping(channelId, newId(), now, 10_000, 1_000);
      await store.startTyping(channelId, newId(), later(1), 2_000, 1_000);
      const ttl = await admin.pttl(`${keyPrefix}presence:typing:${channelId}`);
      expect(ttl).toBeGreaterThan(9_000);
      expect(ttl).toBeLessThanOrEqual(15_000);
    } finally {
      await store.close();
    }
  });

  it("createRedisPresenceStore fails fast with a clear error when Redis is unreachable; close() is idempotent", async (ctx) => {
    fixture(ctx);
    const started = Date.now();
    await expect(createRedisPresenceStore({ url: "redis://127.0.0.1:1", keyPrefix: freshPrefix(), connectTimeoutMs: 300 })).rejects.toThrow(
      /Redis at redis:\/\/127\.0\.0\.1:1 not ready within 300 ms/,
    );
    expect(Date.now() - started).toBeLessThan(2_000);

    const store = await createRedisPresenceStore({ url: REDIS_URL, keyPrefix: freshPrefix() });
    await store.close();
    await store.close();
    await expect(store.onlineCount(1n)).rejects.toThrow();
  });

  it("refuses a connection with an ioredis keyPrefix (the scripts build their own keys)", async (ctx) => {
    fixture(ctx);
    const connection = new Redis(REDIS_URL, { keyPrefix: "x:", lazyConnect: true });
    expect(() => new RedisPresenceStore(connection, { keyPrefix: freshPrefix() })).toThrow(/keyPrefix/);
    connection.disconnect();
  });
});
