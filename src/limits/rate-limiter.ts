import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from "rate-limiter-flexible";
import { openFailFast, shutDown, type RedisTarget } from "../redis/connection.js";
import type { BucketName, RateLimitRule, RateLimitRules } from "./rate-limit-rules.js";

/** The state of one bucket for one key, after a call was counted (or refused). */
export interface RateDecision {
  /** A configured bucket, or "slowmode" (a channel's own cool-down, see {@link RateLimiter.cooldown}). */
  bucket: BucketName | "slowmode";
  allowed: boolean;
  /** The bucket's budget per window. */
  limit: number;
  /** The bucket's window. */
  windowSeconds: number;
  /** Calls left in the current window. */
  remaining: number;
  /** Calls counted in the current window, refused ones included. */
  consumed: number;
  /** Until the current window ends and the budget is whole again. */
  resetAfterMs: number;
  /** 0 when allowed; otherwise how long to wait before the next call can pass. */
  retryAfterMs: number;
}

/**
 * Counts calls per (bucket, key) against the configured budgets, for one instance (memory) or
 * for the whole fleet (Redis: every instance shares one budget per key). Built on
 * rate-limiter-flexible's fixed-window limiters.
 *
 * Guarantees:
 * - `consume` is atomic per key: concurrent calls on any instances never let more than
 *   `limit` calls through in one window (Redis: one Lua script per call).
 * - A refused call is counted too (the window's count keeps growing), so hammering does not
 *   make the budget come back sooner; it never extends the window.
 * - With Redis, a key already over its budget is refused from this instance's memory until its
 *   window ends, without a Redis round trip (a flood costs no Redis load).
 * - If Redis fails or is slower than its command timeout, the call is counted in this instance's
 *   memory instead (rate-limiter-flexible's insurance limiter): limits stay on, per instance,
 *   until Redis answers again. Nothing here ever throws for a store failure.
 *
 * Both backends pass test/contract/rate-limiter.contract.ts.
 */
export class RateLimiter {
  private readonly limiters = new Map<BucketName, RateLimiterAbstract>();
  /** One call per window; the window is given per call (a channel's slowmode), not configured. */
  private readonly slowmode: RateLimiterAbstract;

  /**
   * @param rules the budgets per bucket.
   * @param build makes the library limiter of one bucket (memory or Redis; see the factories below).
   */
  constructor(
    readonly rules: RateLimitRules,
    build: (bucket: BucketName, rule: RateLimitRule) => RateLimiterAbstract,
    private readonly onClose: () => Promise<void> = async () => {},
  ) {
    for (const [bucket, rule] of Object.entries(rules) as [BucketName, RateLimitRule][]) this.limiters.set(bucket, build(bucket, rule));
    this.slowmode = build("slowmode" as BucketName, { points: 1, windowSeconds: 1 });
  }

  /**
   * A cool-down: lets one call for `key` through per `seconds` (a member's messages in a channel
   * with slowmode), refusing the others until it ends. The key should include `seconds`, so a
   * changed setting starts afresh rather than keep the old window.
   */
  async cooldown(key: string, seconds: number): Promise<RateDecision> {
    const rule = { points: 1, windowSeconds: seconds };
    const decide = (allowed: boolean, res: RateLimiterRes): RateDecision => {
      const resetAfterMs = Math.max(0, res.msBeforeNext);
      return { bucket: "slowmode", allowed, limit: 1, windowSeconds: rule.windowSeconds, remaining: allowed ? 0 : 0, consumed: res.consumedPoints, resetAfterMs, retryAfterMs: allowed ? 0 : Math.max(1, resetAfterMs) };
    };
    try {
      return decide(true, await this.slowmode.consume(key, 1, { customDuration: seconds }));
    } catch (rejection) {
      if (rejection instanceof RateLimiterRes) return decide(false, rejection);
      return { bucket: "slowmode", allowed: true, limit: 1, windowSeconds: seconds, remaining: 0, consumed: 0, resetAfterMs: 0, retryAfterMs: 0 };
    }
  }

  /** Counts `points` calls for `key` in `bucket`; resolves with the decision (refusal is a decision, not an error). */
  async consume(bucket: BucketName, key: string, points = 1): Promise<RateDecision> {
    const limiter = this.limiter(bucket);
    try {
      return this.decision(bucket, true, await limiter.consume(key, points));
    } catch (rejection) {
      if (rejection instanceof RateLimiterRes) return this.decision(bucket, false, rejection);
      // Only reachable if the insurance limiter itself failed: never block users on our fault.
      return this.untouched(bucket);
    }
  }

  /** The current state for `key` without counting a call (a full budget if nothing was counted). */
  async peek(bucket: BucketName, key: string): Promise<RateDecision> {
    const res = await this.limiter(bucket).get(key).catch(() => null);
    if (!res) return this.untouched(bucket);
    return this.decision(bucket, res.consumedPoints <= this.rules[bucket].points, res);
  }

  /** Refuses `key` in `bucket` for `ms` (rounded up to whole seconds) from now, whatever its count. */
  async block(bucket: BucketName, key: string, ms: number): Promise<void> {
    await this.limiter(bucket).block(key, Math.max(1, Math.ceil(ms / 1000))).catch(() => {});
  }

  /** Forgets `key` in `bucket` (e.g. failed logins after a successful one). */
  async reset(bucket: BucketName, key: string): Promise<void> {
    await this.limiter(bucket).delete(key).catch(() => {});
  }

  /** Releases the Redis connection, if any. Idempotent. */
  close(): Promise<void> {
    return this.onClose();
  }

  private limiter(bucket: BucketName): RateLimiterAbstract {
    const limiter = this.limiters.get(bucket);
    if (!limiter) throw new Error(`unknown rate-limit bucket ${bucket}`);
    return limiter;
  }

  private untouched(bucket: BucketName): RateDecision {
    const { points, windowSeconds } = this.rules[bucket];
    return { bucket, allowed: true, limit: points, windowSeconds, remaining: points, consumed: 0, resetAfterMs: 0, retryAfterMs: 0 };
  }

  private decision(bucket: BucketName, allowed: boolean, res: RateLimiterRes): RateDecision {
    const { points: limit, windowSeconds } = this.rules[bucket];
    // msBeforeNext is -1 for keys without expiry, which we never create; clamp anyway.
    const resetAfterMs = Math.max(0, res.msBeforeNext);
    return {
      bucket,
      allowed,
      limit,
      windowSeconds,
      remaining: Math.max(0, Math.min(limit, res.remainingPoints)),
      consumed: res.consumedPoints,
      resetAfterMs,
      retryAfterMs: allowed ? 0 : Math.max(1, resetAfterMs),
    };
  }
}

/** A limiter counting in this process only: the zero-setup start, and one instance. */
export function createMemoryRateLimiter(rules: RateLimitRules): RateLimiter {
  return new RateLimiter(rules, (bucket, rule) => new RateLimiterMemory({ keyPrefix: bucket, points: rule.points, duration: rule.windowSeconds }));
}

/**
 * A limiter counting in Redis, so every instance shares one budget per key: on one server (`url`)
 * or a Redis Cluster (`clusterNodes`; each call touches one key, so any slot will do). Opens a
 * connection of its own that never queues commands while Redis is away (the insurance limiter
 * answers instead) and gives up on a command after `commandTimeoutMs`.
 */
export async function createRedisRateLimiter(
  rules: RateLimitRules,
  options: RedisTarget & { keyPrefix: string; connectionName?: string; connectTimeoutMs?: number; commandTimeoutMs?: number; onConnectionError?: (error: Error) => void },
): Promise<RateLimiter> {
  const redis = await openFailFast({
    ...options,
    purpose: "rate limits",
    connectionName: options.connectionName ?? "concord-rate-limits",
    commandTimeoutMs: options.commandTimeoutMs ?? 500,
    // A call charges several buckets at once (Promise.all): one write to Redis for all of them.
    autoPipelining: true,
  });
  return new RateLimiter(
    rules,
    (bucket, rule) =>
      new RateLimiterRedis({
        storeClient: redis,
        keyPrefix: `${options.keyPrefix}rl:${bucket}`,
        points: rule.points,
        duration: rule.windowSeconds,
        rejectIfRedisNotReady: true,
        // Once a key is over budget, refuse it from memory until its window ends.
        inMemoryBlockOnConsumed: rule.points + 1,
        insuranceLimiter: new RateLimiterMemory({ keyPrefix: `insurance:${bucket}`, points: rule.points, duration: rule.windowSeconds }),
      }),
    () => shutDown(redis),
  );
}
