import { Redis } from "ioredis";
import { describe, expect, it, type TestContext } from "vitest";
import { documentHash } from "../../src/stores/persisted-query-store.js";
import { MemoryPersistedQueryStore } from "../../src/stores/persisted-query-store.memory.js";
import { createRedisPersistedQueryStore, RedisPersistedQueryStore } from "../../src/stores/persisted-query-store.redis.js";
import { dropClusterKeys, testClusterSeeds } from "../support/redis-cluster.js";
import { dropRedisKeys } from "../support/redis-keys.js";
import { requireRedisCluster, requireService } from "../support/services.js";
import { CONTRACT_TTL_MS, persistedQueryStoreContract } from "./persisted-query-store.contract.js";

const REDIS_URL = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";
/** Every key of this run is under its own prefix, so runs (and other suites) sharing the server never meet. */
const RUN_PREFIX = `concord-test:${process.pid}-${Date.now().toString(36)}:`;

const memory = () => new MemoryPersistedQueryStore({ ttlMs: CONTRACT_TTL_MS, maxEntries: 1_000 });

persistedQueryStoreContract(
  "MemoryPersistedQueryStore",
  async () => {
    const store = memory();
    return { store, peer: async () => memory(), close: () => store.close() };
  },
  { shared: false },
);

persistedQueryStoreContract(
  "RedisPersistedQueryStore",
  async () => {
    const keyPrefix = `${RUN_PREFIX}contract:`;
    const open = () => createRedisPersistedQueryStore({ url: REDIS_URL, keyPrefix, ttlMs: CONTRACT_TTL_MS });
    const store = await open();
    return { store, peer: open, close: async () => (await store.close(), await dropRedisKeys(REDIS_URL, keyPrefix)) };
  },
  { shared: true, available: () => requireService("Redis", REDIS_URL) },
);

persistedQueryStoreContract(
  "RedisPersistedQueryStore on a Redis Cluster",
  async () => {
    const keyPrefix = `${RUN_PREFIX}cluster:`;
    const open = () => createRedisPersistedQueryStore({ clusterNodes: testClusterSeeds(), keyPrefix, ttlMs: CONTRACT_TTL_MS });
    const store = await open();
    return { store, peer: open, close: async () => (await store.close(), await dropClusterKeys(keyPrefix)) };
  },
  { shared: true, available: () => requireRedisCluster() },
);

describe("MemoryPersistedQueryStore", () => {
  const doc = (n: number) => {
    const document = `query Q${n} { me { id } }`;
    return { hash: documentHash(document), document };
  };

  it("keeps at most maxEntries, dropping the least recently used first", async () => {
    const store = new MemoryPersistedQueryStore({ ttlMs: 60_000, maxEntries: 3 });
    const [a, b, c, d] = [doc(1), doc(2), doc(3), doc(4)] as const;
    for (const { hash, document } of [a, b, c]) await store.set(hash, document);
    expect(await store.get(a.hash)).toBe(a.document); // a is now the most recently used: b goes first
    await store.set(d.hash, d.document);
    expect(store.size).toBe(3);
    expect(await store.get(b.hash)).toBeNull();
    for (const { hash, document } of [a, c, d]) expect(await store.get(hash)).toBe(document);
  });

  it("drops an expired entry when it is asked for", async () => {
    let now = 0;
    const store = new MemoryPersistedQueryStore({ ttlMs: 1_000, maxEntries: 10, now: () => now });
    const a = doc(1);
    await store.set(a.hash, a.document);
    now = 999;
    expect(await store.get(a.hash)).toBe(a.document);
    now = 1_998;
    expect(await store.get(a.hash)).toBe(a.document);
    now = 2_998;
    expect(await store.get(a.hash)).toBeNull();
    expect(store.size).toBe(0);
  });
});

describe("RedisPersistedQueryStore on Redis", () => {
  const document = "{ me { id } }";
  /**
   * Runs `test` with a store on the shared Redis under a prefix of its own and a plain connection
   * to look at (and tamper with) its keys; deletes the keys after.
   */
  async function withStore(ctx: TestContext, name: string, test: (store: RedisPersistedQueryStore, admin: Redis, key: string) => Promise<void>): Promise<void> {
    if (!(await requireService("Redis", REDIS_URL))) return ctx.skip();
    const keyPrefix = `${RUN_PREFIX}${name}:`;
    const store = await createRedisPersistedQueryStore({ url: REDIS_URL, keyPrefix, ttlMs: 60_000 });
    const admin = new Redis(REDIS_URL);
    try {
      await test(store, admin, `${keyPrefix}apq:${documentHash(document)}`);
      expect(await admin.keys(`${keyPrefix}*`)).toEqual([`${keyPrefix}apq:${documentHash(document)}`]);
    } finally {
      await store.close();
      await admin.quit();
      await dropRedisKeys(REDIS_URL, keyPrefix);
    }
  }

  it("writes one key per document under <keyPrefix>apq:, with the expiry in Redis", (ctx) =>
    withStore(ctx, "layout", async (store, admin, key) => {
      await store.set(documentHash(document), document);
      const ttl = await admin.pttl(key);
      expect(ttl).toBeGreaterThan(55_000);
      expect(ttl).toBeLessThanOrEqual(60_000);
    }));

  it("answers a value that is not its key's document as absent (something else wrote under the prefix)", (ctx) =>
    withStore(ctx, "tampered", async (store, admin, key) => {
      await admin.set(key, "mutation { logout }");
      expect(await store.get(documentHash(document))).toBeNull();
      await store.set(documentHash(document), document);
      expect(await store.get(documentHash(document))).toBe(document);
    }));

  it("never rejects while Redis is unreachable: get answers null, set gives up, and the outage is reported once", async () => {
    // A connection that never connects and queues nothing: every command fails at once, as during an outage.
    const offline = new Redis("redis://127.0.0.1:1", { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0 });
    const errors: Error[] = [];
    const store = new RedisPersistedQueryStore(offline, { keyPrefix: `${RUN_PREFIX}offline:`, ttlMs: 60_000, onError: (error) => errors.push(error) });
    await expect(store.set(documentHash(document), document)).resolves.toBeUndefined();
    await expect(store.get(documentHash(document))).resolves.toBeNull();
    await expect(store.get(documentHash(document))).resolves.toBeNull();
    expect(errors).toHaveLength(1);
    await store.close();
    offline.disconnect();
  });

  it("createRedisPersistedQueryStore fails fast with a clear error when Redis is unreachable", async () => {
    await expect(createRedisPersistedQueryStore({ url: "redis://127.0.0.1:1", keyPrefix: RUN_PREFIX, ttlMs: 1_000, connectTimeoutMs: 300 })).rejects.toThrow(
      /persisted queries: Redis at redis:\/\/127\.0\.0\.1:1 not ready within 300 ms/,
    );
  });
});
