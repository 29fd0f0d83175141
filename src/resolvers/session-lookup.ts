import type { Logger } from "../logger.js";
import type { AccountStore } from "../stores/account-store.js";
import type { SessionLookup } from "./credential-cache.js";
import { isExpired, sessionExpiresAt, touchDue, type SessionPolicy } from "./session-expiry.js";

export interface SessionLookupDeps {
  accounts: AccountStore;
  policy: SessionPolicy;
  now: () => Date;
  logger: Logger;
}

/**
 * Reads the session of a token hash from the store and applies the expiry policy: the
 * credential cache's `lookup`, so it runs at most about once per token per cache TTL per
 * instance.
 *
 * - An expired session is deleted and reported as "expired" (refused like a revoked token, with
 *   a message that says why); later presentations of the token find nothing.
 * - The last use is written only when the stored one is at least the policy's `touchEveryMs`
 *   old (an hour by default): a busy session costs one write per hour per instance, not one per
 *   request. The answer's `recheckAt` makes the cache ask again by the time the next write is
 *   due, so uses the cache answered are recorded within `touchEveryMs`, and idle expiry is exact
 *   to within that (never more than a tenth of the idle time).
 *
 * A failed delete or touch is logged and does not fail the request: the answer is still right
 * (the session is expired, or valid), and a later lookup tries the write again.
 */
export async function lookupSession(deps: SessionLookupDeps, tokenHash: string): Promise<SessionLookup> {
  const { accounts, policy, logger } = deps;
  const found = await accounts.findSession(tokenHash);
  if (!found) return null;
  const { session, user } = found;
  const now = deps.now();
  if (isExpired(session, user, policy, now)) {
    await accounts.deleteSession(tokenHash).catch((error: unknown) => logger.warn("deleting an expired session failed", { error, userId: String(user.id) }));
    return "expired";
  }
  let lastUsedAt = session.lastUsedAt;
  // When to write the last use next: a failed write is retried a period later, not on every request.
  let writeDueAt = lastUsedAt.getTime() + policy.touchEveryMs;
  if (touchDue(session, policy, now)) {
    writeDueAt = now.getTime() + policy.touchEveryMs;
    try {
      await accounts.touchSession(tokenHash, now);
      lastUsedAt = now;
    } catch (error) {
      logger.warn("recording a session's last use failed", { error, userId: String(user.id) });
    }
  }
  const expiresAt = sessionExpiresAt({ createdAt: session.createdAt, lastUsedAt }, user, policy);
  return { user, sessionId: session.id, recheckAt: new Date(Math.min(writeDueAt, expiresAt?.getTime() ?? Infinity)) };
}
