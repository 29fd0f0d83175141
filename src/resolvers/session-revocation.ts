import type { Services } from "../context.js";
import type { EventOf } from "../pubsub/events.js";
import { topics } from "../pubsub/topics.js";

/**
 * What one `SessionRevoked` event revokes: the session of `tokenHash`, or, when it is
 * {@link ALL_SESSIONS}, every session of `userId` except `keepTokenHash` (when set). One event
 * covers any number of sessions, so revoking a user's 500 other sessions is one message on the
 * bus, not 500.
 */
export type Revocation = Omit<EventOf<"SessionRevoked">, "type">;

/** The `tokenHash` of a revocation that covers every session of the user (but the kept one). */
export const ALL_SESSIONS = "*";

/**
 * True if the revocation covers the session of `userId` opened with `tokenHash` (null: a
 * session whose token is not known, which only a revocation of all the user's sessions covers).
 * Every consumer (credential caches, socket registries, live subscriptions) decides with this
 * one rule, so they cannot disagree about who is signed out.
 */
export function revokes(revocation: Revocation, userId: bigint, tokenHash: string | null): boolean {
  if (revocation.tokenHash !== ALL_SESSIONS) return tokenHash === revocation.tokenHash;
  return userId === revocation.userId && (revocation.keepTokenHash === null || tokenHash !== revocation.keepTokenHash);
}

/**
 * After sessions were deleted from the store: forgets them in this instance's credential cache
 * at once, ends the subscriptions opened with them (the user's topic), and tells every other
 * instance (the revocations topic: caches forget, sockets close with 4401).
 *
 * The deletion is what counts, so a bus failure does not fail the request: instances that miss
 * the event clear their caches when they reconnect to the bus (see app.ts).
 */
export async function announceRevocation(services: Services, revocation: Revocation): Promise<void> {
  services.credentials.revoke(revocation);
  const event = { type: "SessionRevoked", ...revocation } as const;
  const results = await Promise.allSettled([services.bus.publish(topics.user(revocation.userId), event), services.bus.publish(topics.revocations, event)]);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (failed) {
    services.logger.warn("revocation stored but not announced; other instances forget it when they reconnect to the bus", {
      error: failed.reason,
      userId: String(revocation.userId),
    });
  }
}
