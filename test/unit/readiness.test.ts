import { describe, expect, it } from "vitest";
import { closeSpread } from "../../src/gateway/close-spread.js";
import { Readiness } from "../../src/gateway/readiness.js";

describe("Readiness", () => {
  it("pings once per cache period, names failed and slow checks, and turns unready at once when draining", async () => {
    let now = 0;
    let pings = 0;
    let redisUp = true;
    const readiness = new Readiness(
      [
        { name: "postgres", check: async () => void pings++ },
        { name: "redis", check: async () => (redisUp ? undefined : Promise.reject(new Error("Connection is closed."))) },
        { name: "cassandra", check: () => (now >= 5_000 ? new Promise<void>(() => {}) : Promise.resolve()) },
      ],
      { timeoutMs: 20, cacheMs: 1_000, now: () => now },
    );
    expect(await readiness.report()).toEqual({ ready: true, draining: false, checks: { postgres: "ok", redis: "ok", cassandra: "ok" }, failed: [] });
    await Promise.all(Array.from({ length: 100 }, () => readiness.report()));
    expect(pings).toBe(1);

    redisUp = false;
    expect((await readiness.report()).ready).toBe(true); // still the cached round
    now = 1_000;
    expect(await readiness.report()).toMatchObject({ ready: false, failed: ["redis"], checks: { redis: "Connection is closed." } });
    now = 5_000;
    expect(await readiness.report()).toMatchObject({ failed: ["redis", "cassandra"], checks: { cassandra: "no answer within 20 ms" } });

    redisUp = true;
    now = 2_000; // earlier than the cached round: not re-pinged, but draining shows at once
    readiness.startDraining();
    expect(readiness.draining).toBe(true);
    expect(await readiness.report()).toMatchObject({ ready: false, draining: true, failed: ["draining", "redis", "cassandra"] });
  });
});

describe("closeSpread", () => {
  it("closes every item within the window, not all at once", async () => {
    const at: number[] = [];
    const started = Date.now();
    await closeSpread(Array.from({ length: 50 }, (_, i) => i), 200, () => at.push(Date.now() - started));
    expect(at).toHaveLength(50);
    expect(Math.max(...at)).toBeLessThan(400);
    expect(Math.max(...at) - Math.min(...at)).toBeGreaterThan(50);
  });

  it("resolves at once with nothing to close", async () => {
    await closeSpread([], 10_000, () => {});
  });
});
