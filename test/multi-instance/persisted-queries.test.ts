import { Cluster, Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openTestPglite } from "../support/databases.js";
import { codes, getOperation, overSocket, persistedQuery, postOperation, sha256 } from "../support/persisted-queries.js";
import { dropClusterKeys, testClusterSeeds } from "../support/redis-cluster.js";
import { dropRedisKeys } from "../support/redis-keys.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { requireRedisCluster, requireService, TEST_REDIS_CLUSTER_NODES } from "../support/services.js";

/**
 * Automatic persisted queries on a fleet: two Concord instances on one Redis (and again on the
 * Redis Cluster) under a key prefix of their own. A document registered through one instance is
 * run by hash through the other, over HTTP and WebSocket, and lives in Redis with its expiry.
 */

const REDIS_URL = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";
const TTL_SECONDS = 600;
/** Where the instances keep documents: the Concord settings, a client to look at the keys, and how to delete a run's keys. */
const backends: { title: string; enabled: boolean; env: Record<string, string>; admin(): Redis | Cluster; deleteKeys(prefix: string): Promise<void> }[] = [
  {
    title: "the shared Redis",
    enabled: await requireService("Redis", REDIS_URL),
    env: { REDIS_URL },
    admin: () => new Redis(REDIS_URL),
    deleteKeys: (prefix: string) => dropRedisKeys(REDIS_URL, prefix),
  },
  {
    title: "the Redis Cluster",
    enabled: await requireRedisCluster(),
    env: { REDIS_CLUSTER_NODES: TEST_REDIS_CLUSTER_NODES },
    admin: () => new Cluster(testClusterSeeds()),
    deleteKeys: dropClusterKeys,
  },
];

for (const backend of backends) {
  describe.runIf(backend.enabled)(`persisted queries shared by two instances on ${backend.title}`, () => {
    const keyPrefix = `concord-test:${process.pid}-${Date.now().toString(36)}-apq:`;
    let a: TestServer;
    let b: TestServer;
    let token: string;
    let userId: string;

    beforeAll(async () => {
      // One embedded database for both: what they share here is Redis (the first one closes it).
      const database = await openTestPglite();
      const env = { ...backend.env, REDIS_KEY_PREFIX: keyPrefix, APQ_TTL_SECONDS: String(TTL_SECONDS) };
      a = await startTestServer({ database, env: { ...env, WORKER_ID: "1" } });
      b = await startTestServer({ database: { ...database, close: async () => {} }, env: { ...env, WORKER_ID: "2" } });
      ({ token, id: userId } = await a.signUp("apq_fleet"));
    });
    afterAll(async () => {
      await b?.close();
      await a?.close();
      await backend.deleteKeys(keyPrefix);
    });

    it("runs on instance B, by hash alone, a query registered through instance A (POST, then GET)", async () => {
      const query = `query Fleet${Date.now()} { me { id } }`;
      expect(codes(await postOperation(b.url, { extensions: persistedQuery(query) }, token))).toEqual(["PERSISTED_QUERY_NOT_FOUND"]);
      expect((await postOperation(a.url, { query, extensions: persistedQuery(query) }, token)).body.data).toEqual({ me: { id: userId } });
      expect(await postOperation(b.url, { extensions: persistedQuery(query) }, token)).toEqual({ status: 200, body: { data: { me: { id: userId } } } });
      expect(await getOperation(b.url, { extensions: persistedQuery(query) }, token)).toEqual({ status: 200, body: { data: { me: { id: userId } } } });
    });

    it("runs over HTTP on A a mutation registered over WebSocket on B", async () => {
      const mutation = `mutation Fleet${Date.now()}($n: String!) { createGuild(input: { name: $n }) { name } }`;
      expect(await overSocket(b.ws(token), { query: mutation, extensions: persistedQuery(mutation), variables: { n: "Over B" } })).toEqual([{ data: { createGuild: { name: "Over B" } } }]);
      expect((await postOperation(a.url, { extensions: persistedQuery(mutation), variables: { n: "On A" } }, token)).body.data).toEqual({ createGuild: { name: "On A" } });
    });

    it("keeps each document in Redis under <prefix>apq:<sha256> with APQ_TTL_SECONDS as its expiry", async () => {
      const query = `query Keys${Date.now()} { me { id } }`;
      await postOperation(a.url, { query, extensions: persistedQuery(query) }, token);
      const admin = backend.admin();
      try {
        const key = `${keyPrefix}apq:${sha256(query)}`;
        expect(await admin.get(key)).toBe(query);
        const ttl = await admin.pttl(key);
        expect(ttl).toBeGreaterThan((TTL_SECONDS - 60) * 1000);
        expect(ttl).toBeLessThanOrEqual(TTL_SECONDS * 1000);
      } finally {
        await admin.quit();
      }
    });
  });
}
