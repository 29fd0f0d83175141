import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { createMemoryRateLimiter, createRedisRateLimiter } from "../../src/limits/rate-limiter.js";
import { startPrivateRedis } from "../support/processes.js";
import { dropClusterKeys, testClusterSeeds } from "../support/redis-cluster.js";
import { dropRedisKeys } from "../support/redis-keys.js";
import { requireRedisCluster, requireService } from "../support/services.js";
import { contractRules, rateLimiterContract } from "./rate-limiter.contract.js";

const REDIS_URL = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";
/** Every key of this run is under its own prefix, so runs sharing the server never meet. */
const RUN_PREFIX = `concord-test:${process.pid}-${Date.now().toString(36)}:`;
const redis = { available: () => requireService("Redis", REDIS_URL) };

/** Deletes this run's keys under `prefix` on the shared Redis. */
const deleteKeys = (prefix: string) => dropRedisKeys(REDIS_URL, prefix);

rateLimiterContract("memory", async (rules) => {
  const limiter = createMemoryRateLimiter(rules);
  return { limiter, close: () => limiter.close() };
});

rateLimiterContract(
  "Redis",
  async (rules) => {
    const keyPrefix = `${RUN_PREFIX}contract:`;
    const limiter = await createRedisRateLimiter(rules, { url: REDIS_URL, keyPrefix });
    return { limiter, close: async () => (await limiter.close(), await deleteKeys(keyPrefix)) };
  },
  redis,
);

rateLimiterContract(
  "Redis Cluster",
  async (rules) => {
    const keyPrefix = `${RUN_PREFIX}cluster:`;
    const limiter = await createRedisRateLimiter(rules, { clusterNodes: testClusterSeeds(), keyPrefix });
    return {
      limiter,
      close: async () => {
        await limiter.close();
        await dropClusterKeys(keyPrefix);
      },
    };
  },
  { available: () => requireRedisCluster() },
);

describe("RateLimiter on Redis across instances", () => {
  const prefix = `${RUN_PREFIX}fleet:`;
  afterAll(() => deleteKeys(prefix));

  it("gives two instances one budget per key", async (ctx) => {
    if (!(await redis.available())) return ctx.skip();
    const [a, b] = await Promise.all([
      createRedisRateLimiter(contractRules(), { url: REDIS_URL, keyPrefix: prefix }),
      createRedisRateLimiter(contractRules(), { url: REDIS_URL, keyPrefix: prefix }),
    ]);
    try {
      const decisions = [];
      for (let i = 0; i < 3; i++) decisions.push(await (i % 2 === 0 ? a : b).consume("guild.create", "u:shared"));
      decisions.push(await b.consume("guild.create", "u:shared"));
      decisions.push(await a.consume("guild.create", "u:shared"));
      expect(decisions.map((d) => d.allowed)).toEqual([true, true, true, false, false]);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it("keeps limiting in memory while Redis is down, and counts in Redis again once it is back", async () => {
    const server = await startPrivateRedis();
    const limiter = await createRedisRateLimiter(contractRules(), { url: server.url, keyPrefix: prefix, commandTimeoutMs: 200 });
    try {
      expect((await limiter.consume("guild.create", "u:outage")).allowed).toBe(true);
      await server.kill();
      // The insurance limiter answers at once (no waiting on the dead connection) and still limits.
      const started = Date.now();
      const during = [];
      for (let i = 0; i < 4; i++) during.push(await limiter.consume("guild.create", "u:outage"));
      expect(Date.now() - started).toBeLessThan(1_000);
      expect(during.map((d) => d.allowed)).toEqual([true, true, true, false]);

      await server.restart();
      const deadline = Date.now() + 10_000;
      // Back on Redis (empty after the restart): a fresh key counts from its full budget there.
      for (;;) {
        const probe = await limiter.consume("guild.create", `u:after-${Date.now()}`);
        const admin = new Redis(server.url);
        const keys = await admin.keys(`${prefix}*`).finally(() => admin.disconnect());
        if (probe.allowed && keys.length > 0) break;
        if (Date.now() > deadline) throw new Error("the limiter did not return to Redis within 10 s");
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    } finally {
      await limiter.close();
      await server.stop();
    }
  }, 30_000);
});
