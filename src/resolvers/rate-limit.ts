import type { RequestContext } from "../context.js";
import { ConcordError } from "../errors.js";
import { BUCKETS, type BucketName, type RateLimitScope } from "../limits/rate-limit-rules.js";
import type { RateDecision } from "../limits/rate-limiter.js";

/** One bucket to charge, for one key (a user, a user in a channel, an address...). */
export interface Charge {
  bucket: BucketName;
  key: string;
  scope: RateLimitScope;
}

/** What a refused call tells the client (`extensions` of RATE_LIMITED, and the HTTP headers). */
export interface RateLimitDetails {
  retryAfterMs: number;
  bucket: BucketName | "slowmode";
  limit: number;
  remaining: number;
  resetAfterMs: number;
  scope: RateLimitScope;
}

/** The viewer's own budget in `bucket`, optionally narrowed to one thing (e.g. a channel). */
export function perUser(ctx: RequestContext, bucket: BucketName, within?: bigint | string): Charge {
  const userId = ctx.viewer?.id;
  if (userId === undefined) return perAddress(ctx, bucket, within);
  return { bucket, key: within === undefined ? `u:${userId}` : `u:${userId}:${within}`, scope: "USER" };
}

/** The client address's budget in `bucket` (for calls made before anyone is signed in). */
export function perAddress(ctx: RequestContext, bucket: BucketName, within?: bigint | string): Charge {
  return { bucket, key: within === undefined ? `ip:${ctx.client.address}` : `ip:${ctx.client.address}:${within}`, scope: "IP" };
}

/** The budget every operation of this client counts against: per user, or per address when anonymous. */
export function perClient(ctx: RequestContext): Charge {
  return ctx.viewer ? { bucket: "global", key: `u:${ctx.viewer.id}`, scope: "GLOBAL" } : { bucket: "global", key: `ip:${ctx.client.address}`, scope: "GLOBAL" };
}

/**
 * Counts one call against each of `charges` (in parallel: one round trip with Redis) before the
 * use case writes anything, and remembers the tightest budget for the response headers.
 *
 * Throws RATE_LIMITED (see {@link rateLimited}) if any bucket refuses, unless every refusing
 * bucket absorbs (typing): then it returns false and the caller skips its work silently.
 * Returns true when the call may go ahead. With rate limits off it returns true at once.
 */
export async function charge(ctx: RequestContext, ...charges: Charge[]): Promise<boolean> {
  const limiter = ctx.services.rateLimiter;
  if (!limiter) return true;
  const decisions = await Promise.all(charges.map((c) => limiter.consume(c.bucket, c.key)));
  let refused: { decision: RateDecision; scope: RateLimitScope } | undefined;
  decisions.forEach((decision, i) => {
    noteDecision(ctx, decision, charges[i]!.scope);
    if (!decision.allowed && !(BUCKETS[charges[i]!.bucket] as { absorb?: boolean }).absorb) {
      if (!refused || decision.retryAfterMs > refused.decision.retryAfterMs) refused = { decision, scope: charges[i]!.scope };
    }
  });
  if (refused) throw rateLimited(refused.decision, refused.scope);
  return decisions.every((d) => d.allowed);
}

/**
 * Records a bucket's state on the request: the response's X-RateLimit-* headers describe the
 * tightest budget the operation touched (fewest calls left, then the longest wait).
 */
export function noteDecision(ctx: RequestContext, decision: RateDecision, scope: RateLimitScope): void {
  const current = ctx.rateLimit;
  if (
    !current ||
    decision.remaining < current.remaining ||
    (decision.remaining === current.remaining && decision.resetAfterMs > current.resetAfterMs)
  ) {
    ctx.rateLimit = { ...decision, scope };
  }
}

/** The RATE_LIMITED error for a refused decision; `extensions` carry what a client needs to wait. */
export function rateLimited(decision: RateDecision, scope: RateLimitScope): ConcordError {
  const details: RateLimitDetails = {
    retryAfterMs: decision.retryAfterMs,
    bucket: decision.bucket,
    limit: decision.limit,
    remaining: decision.remaining,
    resetAfterMs: decision.resetAfterMs,
    scope,
  };
  const wait = decision.retryAfterMs < 1_000 ? `${decision.retryAfterMs} ms` : `${Math.ceil(decision.retryAfterMs / 1_000)} s`;
  if (decision.bucket === "slowmode") {
    return new ConcordError("RATE_LIMITED", `This channel has slowmode: one message per ${formatWindow(decision.windowSeconds)}; try again in ${wait}.`, { ...details });
  }
  return new ConcordError(
    "RATE_LIMITED",
    `Slow down: at most ${decision.limit} ${BUCKETS[decision.bucket as BucketName].what} per ${formatWindow(decision.windowSeconds)}; try again in ${wait}.`,
    { ...details },
  );
}

function formatWindow(seconds: number): string {
  if (seconds % 86_400 === 0) return seconds === 86_400 ? "day" : `${seconds / 86_400} days`;
  if (seconds % 3_600 === 0) return seconds === 3_600 ? "hour" : `${seconds / 3_600} hours`;
  if (seconds % 60 === 0) return seconds === 60 ? "minute" : `${seconds / 60} minutes`;
  return seconds === 1 ? "second" : `${seconds} seconds`;
}
