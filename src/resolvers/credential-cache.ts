import type { UserRecord } from "../stores/account-store.js";

export interface CredentialCacheOptions {
  /** Reads the user of a session from the store (null: unknown or revoked token). */
  lookup: (tokenHash: string) => Promise<UserRecord | null>;
  /** How long a found session is trusted without asking the store again; 0 turns caching off. */
  ttlMs: number;
  /** Most sessions kept; the oldest entry goes first when full. */
  maxEntries: number;
  now?: () => number;
}

interface Entry {
  user: UserRecord;
  expiresAt: number;
}

/**
 * The sessions (token hash → user) this instance has seen recently, so that an HTTP request or
 * a WebSocket operation costs no store read for its token.
 *
 * Revocation: `revoke` drops entries at once. Logout and bot token resets call it on the
 * instance that revoked, and every instance calls it for the `SessionRevoked` events of the
 * fleet-wide `revocations` topic (see app.ts). When the bus may have lost events (a Redis
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
  private readonly inFlight = new Map<string, Promise<UserRecord | null>>();
  private epoch = 0;
  private readonly now: () => number;

  constructor(private readonly options: CredentialCacheOptions) {
    this.now = options.now ?? Date.now;
  }

  /** The user of the session with this token hash, or null; from the cache when fresh. */
  get(tokenHash: string): Promise<UserRecord | null> {
    if (this.options.ttlMs <= 0) return this.options.lookup(tokenHash);
    const entry = this.entries.get(tokenHash);
    if (entry) {
      if (entry.expiresAt > this.now()) return Promise.resolve(entry.user);
      this.entries.delete(tokenHash);
    }
    const pending = this.inFlight.get(tokenHash);
    if (pending) return pending;
    const epoch = this.epoch;
    const lookup = this.options
      .lookup(tokenHash)
      .then((user) => {
        if (user && epoch === this.epoch) this.remember(tokenHash, user);
        return user;
      })
      .finally(() => this.inFlight.delete(tokenHash));
    this.inFlight.set(tokenHash, lookup);
    return lookup;
  }

  /**
   * Forgets a revoked session: one token hash, or every session of `userId` when `tokenHash`
   * is "*". Idempotent; cheap for one token, a scan of the cache for "*" (bot token resets).
   */
  revoke(userId: bigint, tokenHash: string): void {
    this.epoch++;
    if (tokenHash !== "*") {
      this.entries.delete(tokenHash);
      return;
    }
    for (const [hash, entry] of this.entries) if (entry.user.id === userId) this.entries.delete(hash);
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

  private remember(tokenHash: string, user: UserRecord): void {
    this.entries.delete(tokenHash);
    this.entries.set(tokenHash, { user, expiresAt: this.now() + this.options.ttlMs });
    if (this.entries.size > this.options.maxEntries) this.entries.delete(this.entries.keys().next().value!);
  }
}
