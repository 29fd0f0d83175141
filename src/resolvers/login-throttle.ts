import type { RequestContext } from "../context.js";
import { charge, noteDecision, perAddress, rateLimited } from "./rate-limit.js";

/**
 * Brute-force protection for password logins, in three budgets (see limits/rate-limit-rules.ts):
 * - `login.ip`: every attempt from an address;
 * - `login.failures`: failed attempts per (username, address). The first few in the window are
 *   free (a person mistyping); each one after that blocks the pair for twice as long as the last
 *   (5 s, 10 s, 20 s ... up to the window), so an attacker gets a handful of guesses per minute
 *   while the owner, from another address, is not locked out;
 * - `login.username`: failures per username from any address, which slows a guessing attack
 *   spread over many addresses (it blocks password logins of that account for the rest of the
 *   window; sessions already signed in keep working).
 * Every check runs before the password hash is computed: a refused attempt costs no scrypt.
 */

/** The first block after the free failures; each further failure doubles it. */
const FIRST_BLOCK_MS = 5_000;

const pairKey = (ctx: RequestContext, usernameKey: string) => `${usernameKey}|${ctx.client.address}`;

/** Throws RATE_LIMITED if this attempt may not check a password now; counts it for the address. */
export async function beforeLoginAttempt(ctx: RequestContext, usernameKey: string): Promise<void> {
  const limiter = ctx.services.rateLimiter;
  if (!limiter) return;
  await charge(ctx, perAddress(ctx, "login.ip"));
  const [blocked, username] = await Promise.all([limiter.peek("login.failures", `block:${pairKey(ctx, usernameKey)}`), limiter.peek("login.username", usernameKey)]);
  if (!blocked.allowed) throw rateLimited(blocked, "IP");
  // The budget is of failures: once they are all used, the next attempt is not checked at all.
  if (username.consumed >= username.limit) throw rateLimited({ ...username, allowed: false, retryAfterMs: Math.max(1, username.resetAfterMs) }, "USER");
}

/** Counts a wrong password; past the free failures, blocks the (username, address) pair for a growing time. */
export async function afterLoginFailure(ctx: RequestContext, usernameKey: string): Promise<void> {
  const limiter = ctx.services.rateLimiter;
  if (!limiter) return;
  const pair = pairKey(ctx, usernameKey);
  const [failures, username] = await Promise.all([limiter.consume("login.failures", pair), limiter.consume("login.username", usernameKey)]);
  noteDecision(ctx, failures, "IP");
  noteDecision(ctx, username, "USER");
  const excess = failures.consumed - failures.limit;
  if (excess > 0) {
    const blockMs = Math.min(FIRST_BLOCK_MS * 2 ** Math.min(excess - 1, 20), failures.windowSeconds * 1_000);
    await limiter.block("login.failures", `block:${pair}`, blockMs);
  }
}

/** A correct password: the pair's failures are forgiven (the username-wide count stays). */
export async function afterLoginSuccess(ctx: RequestContext, usernameKey: string): Promise<void> {
  const limiter = ctx.services.rateLimiter;
  if (!limiter) return;
  const pair = pairKey(ctx, usernameKey);
  await Promise.all([limiter.reset("login.failures", pair), limiter.reset("login.failures", `block:${pair}`)]);
}
