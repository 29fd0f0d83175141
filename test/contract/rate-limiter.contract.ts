import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { defaultRules, type RateLimitRules } from "../../src/limits/rate-limit-rules.js";
import type { RateLimiter } from "../../src/limits/rate-limiter.js";
import { suiteFixture } from "../support/suite-fixture.js";

/** What a suite run needs from a backend: a limiter built on `rules`, and how to release it. */
export interface RateLimiterFixture {
  limiter: RateLimiter;
  close(): Promise<void>;
}

/**
 * The rules every run uses: small budgets so tests are quick. `typing` has a 1 s window for the
 * window-reset test; everything else keeps a long window so nothing resets mid-test.
 */
export function contractRules(): RateLimitRules {
  return { ...defaultRules(), "guild.create": { points: 3, windowSeconds: 60 }, typing: { points: 2, windowSeconds: 1 }, "dm.open": { points: 10, windowSeconds: 60 } };
}

/** A key no other test (or run sharing the backend) uses. */
const freshKey = () => `u:${randomUUID()}`;

/**
 * The behaviour of {@link RateLimiter} that use cases rely on, run on every backend (memory and
 * Redis). `build(rules)` makes a limiter with those budgets.
 */
export function rateLimiterContract(name: string, build: (rules: RateLimitRules) => Promise<RateLimiterFixture>, options: { available?: () => Promise<boolean> } = {}) {
  describe(`RateLimiter contract: ${name}`, () => {
    const fixture = suiteFixture(name, () => build(contractRules()), options.available);

    it("lets `points` calls through per window, counting down, then refuses with a wait inside the window", async (ctx) => {
      const { limiter } = fixture(ctx);
      const key = freshKey();
      const seen = [];
      for (let i = 0; i < 4; i++) seen.push(await limiter.consume("guild.create", key));
      expect(seen.map((d) => d.allowed)).toEqual([true, true, true, false]);
      expect(seen.map((d) => d.remaining)).toEqual([2, 1, 0, 0]);
      for (const d of seen) {
        expect(d.limit).toBe(3);
        expect(d.windowSeconds).toBe(60);
        expect(d.bucket).toBe("guild.create");
        expect(d.resetAfterMs).toBeGreaterThan(55_000);
        expect(d.resetAfterMs).toBeLessThanOrEqual(60_000);
      }
      expect(seen.slice(0, 3).every((d) => d.retryAfterMs === 0)).toBe(true);
      expect(seen[3]!.retryAfterMs).toBe(seen[3]!.resetAfterMs);
    });

    it("keeps keys and buckets apart", async (ctx) => {
      const { limiter } = fixture(ctx);
      const [a, b] = [freshKey(), freshKey()];
      for (let i = 0; i < 3; i++) await limiter.consume("guild.create", a);
      expect((await limiter.consume("guild.create", a)).allowed).toBe(false);
      expect((await limiter.consume("guild.create", b)).allowed).toBe(true);
      expect((await limiter.consume("dm.open", a)).allowed).toBe(true);
    });

    it("is atomic: of 40 concurrent calls with a budget of 10, exactly 10 pass", async (ctx) => {
      const { limiter } = fixture(ctx);
      const key = freshKey();
      const decisions = await Promise.all(Array.from({ length: 40 }, () => limiter.consume("dm.open", key)));
      expect(decisions.filter((d) => d.allowed)).toHaveLength(10);
    });

    it("refused calls do not extend the window: the budget comes back when the first window ends", async (ctx) => {
      const { limiter } = fixture(ctx);
      const key = freshKey();
      expect((await limiter.consume("typing", key)).allowed).toBe(true);
      expect((await limiter.consume("typing", key)).allowed).toBe(true);
      const refused = await limiter.consume("typing", key);
      expect(refused.allowed).toBe(false);
      expect(refused.retryAfterMs).toBeLessThanOrEqual(1_000);
      // Hammering while refused...
      for (let i = 0; i < 5; i++) expect((await limiter.consume("typing", key)).allowed).toBe(false);
      await sleep(refused.retryAfterMs + 150);
      // ...did not push the reset back.
      const again = await limiter.consume("typing", key);
      expect(again.allowed).toBe(true);
      expect(again.remaining).toBe(1);
    });

    it("peek reads the state without counting a call", async (ctx) => {
      const { limiter } = fixture(ctx);
      const key = freshKey();
      expect(await limiter.peek("guild.create", key)).toMatchObject({ allowed: true, remaining: 3 });
      await limiter.consume("guild.create", key);
      expect(await limiter.peek("guild.create", key)).toMatchObject({ allowed: true, remaining: 2 });
      expect(await limiter.peek("guild.create", key)).toMatchObject({ allowed: true, remaining: 2 });
    });

    it("block refuses a key for the given time whatever its count; reset forgets it", async (ctx) => {
      const { limiter } = fixture(ctx);
      const key = freshKey();
      await limiter.block("dm.open", key, 30_000);
      const blocked = await limiter.consume("dm.open", key);
      expect(blocked.allowed).toBe(false);
      expect(blocked.retryAfterMs).toBeGreaterThan(25_000);
      expect(blocked.retryAfterMs).toBeLessThanOrEqual(30_000);
      expect((await limiter.peek("dm.open", key)).allowed).toBe(false);
      await limiter.reset("dm.open", key);
      expect((await limiter.consume("dm.open", key)).allowed).toBe(true);
    });
  });
}
