import type { UserRecord } from "../stores/account-store.js";
import { ALL_SESSIONS, revokes, type Revocation } from "./session-revocation.js";

/** A session that works, as the cache keeps it. */
export interface ActiveSession {
  user: UserRecord;
  /** The session's public id (what `sessions` lists and `revokeSession` takes). */
  sessionId: bigint;
  /**
   * Until when this answer may be reused without asking the store: never past the session's
   * expiry, nor past the time its last use is due to be written again (see session-lookup.ts).
   */
  recheckAt: Date;
}

/** What a lookup finds: a working session, "expired" (it just ran out), or null (unknown or revoked). */
export type SessionLookup = ActiveSession | "expired" | null;

export interface CredentialCacheOptions {
  /** Reads a session from the store and applies the expiry policy (see session-lookup.ts). */
  lookup: (tokenHash: string) => Promise<SessionLookup>;
  /** How long a found session is trusted without asking the store again; 0 turns caching off. */
  ttlMs: number;
  /** Most sessions kept; the oldest entry goes first when full. */
  maxEntries: number;
  now?: () => number;
}

interface Entry {
  session: ActiveSession;
  /** Until when the entry is trusted: the TTL, or the session's recheck time if sooner. */
  trustedUntil: number;
}

/**
 * The sessions (token hash → session and user) this instance has seen recently, so that an HTTP
 * request or a WebSocket operation costs no store read for its token.
 *
 * Expiry: an entry is trusted for `ttlMs` or until the session's `recheckAt`, whichever comes
 * first, so a cached session never outlives its expiry (the read after that decides, and the
 * lookup deletes an expired session), and a session in use is read again when its last use is
 * due to be written: uses the cache answers are invisible to the store, so without that a busy
 * session would look idle. Both bound the store reads to about one per token per `ttlMs`, plus
 * one per hour for the last-use write (see session-lookup.ts).
 *
 * Revocation: `revoke` drops entries at once. Every revocation (logout, revokeSession,
 * revokeOtherSessions, changePassword, bot token resets) calls it on the instance that revoked,
 * and every instance calls it for the `SessionRevoked` events of the fleet-wide `revocations`
 * topic (see app.ts). When the bus may have lost events (a Redis
 * reconnect) the composition root calls `clear`, so a revoked token is honoured for at most
 * `ttlMs` only while an instance is cut off from the bus. A lookup that was in flight while a
 * revocation or clear happened is answered but not cached (an epoch check), so a stale read
 * cannot re-enter the cache.
 *
 * Unknown tokens are not cached: a flood of bad tokens reaches the store (rate limiting is the
 * answer to that, not a negative cache that would delay a fresh login on another instance).
 * Concurrent lookups of one token share one store read.
 */
export class CredentialCache {
  private readonly entries = new Map<string, Entry>();
  private readonly inFlight = new Map<string, Promise<SessionLookup>>();
  private epoch = 0;
  private readonly now: () => number;

  constructor(private readonly options: CredentialCacheOptions) {
    this.now = options.now ?? Date.now;
  }

  /** The session with this token hash (or "expired", or null); from the cache when trusted. */
  get(tokenHash: string): Promise<SessionLookup> {
    if (this.options.ttlMs <= 0) return this.options.lookup(tokenHash);
    const entry = this.entries.get(tokenHash);
    if (entry) {
      if (entry.trustedUntil > this.now()) return Promise.resolve(entry.session);
      this.entries.delete(tokenHash);
    }
    const pending = this.inFlight.get(tokenHash);
    if (pending) return pending;
    const epoch = this.epoch;
    const lookup = this.options
      .lookup(tokenHash)
      .then((found) => {
        if (found !== null && found !== "expired" && epoch === this.epoch) this.remember(tokenHash, found);
        return found;
      })
      .finally(() => this.inFlight.delete(tokenHash));
    this.inFlight.set(tokenHash, lookup);
    return lookup;
  }

  /**
   * Forgets the sessions a revocation covers (see {@link revokes}): one token hash, or every
   * session of the user but the kept one. Idempotent; cheap for one token, a scan of the cache
   * for all of a user's sessions (rare: revoking one's other sessions, password changes, bot
   * token resets).
   */
  revoke(revocation: Revocation): void {
    this.epoch++;
    if (revocation.tokenHash !== ALL_SESSIONS) {
      this.entries.delete(revocation.tokenHash);
      return;
    }
    for (const [hash, entry] of this.entries) if (revokes(revocation, entry.session.user.id, hash)) this.entries.delete(hash);
  }

  /** Forgets everything (after the bus may have dropped revocations). */
  clear(): void {
    this.epoch++;
    this.entries.clear();
  }

  /** Sessions currently cached. */
  get size(): number {
    return this.entries.size;
  }

  private remember(tokenHash: string, session: ActiveSession): void {
    this.entries.delete(tokenHash);
    const now = this.now();
    const trustedUntil = Math.min(now + this.options.ttlMs, session.recheckAt.getTime());
    // Past its recheck time already (it expired while the lookup was answered): the next use asks the store.
    if (trustedUntil <= now) return;
    this.entries.set(tokenHash, { session, trustedUntil });
    if (this.entries.size > this.options.maxEntries) this.entries.delete(this.entries.keys().next().value!);
  }
}
