import { randomBytes } from "node:crypto";
import type { Logger } from "../logger.js";
import type { PresenceAnnouncer } from "../resolvers/presence-announcer.js";
import { ALL_SESSIONS, revokes, type Revocation } from "../resolvers/session-revocation.js";
import type { AccountStore, UserRecord } from "../stores/account-store.js";
import type { PresenceStore, SessionRef } from "../stores/presence-store.js";

export interface SessionRegistryOptions {
  presence: PresenceStore;
  announcer: PresenceAnnouncer;
  accounts: AccountStore;
  logger: Logger;
  now: () => Date;
  /** How often this instance refreshes its sessions and sweeps expired ones (see {@link presenceTiming}). */
  heartbeatMs: number;
}

/** Sessions refreshed per round trip to the PresenceStore. */
const HEARTBEAT_BATCH = 1_000;
/** Expired sessions removed per sweep round trip. */
const SWEEP_BATCH = 1_000;

/**
 * The timing that keeps "a dead instance's users are OFFLINE within 2x the heartbeat": sessions
 * are refreshed every heartbeat and live 1.75 heartbeats past their last refresh, and every
 * instance sweeps expired sessions every quarter heartbeat. The worst case (an instance dies
 * right after refreshing) is 1.75 + 0.25 = 2 heartbeats; a live instance has 0.75 of a
 * heartbeat of slack for a late refresh (event-loop stalls, GC) before its users flicker.
 */
export function presenceTiming(heartbeatMs: number): { ttlMs: number; sweepEveryMs: number } {
  return { ttlMs: Math.round(heartbeatMs * 1.75), sweepEveryMs: Math.max(25, Math.round(heartbeatMs / 4)) };
}

interface LiveSession extends SessionRef {
  user: UserRecord;
}

/** One socket's session as the registry tracks it: opening (or open, or failed: null). */
interface Entry {
  opening: Promise<LiveSession | null>;
  userId: bigint;
  /** The token the session was opened with (null: not known), to find it when that token is revoked. */
  tokenHash: string | null;
}

/**
 * This instance's live sessions (one per authenticated WebSocket), kept in the PresenceStore:
 * opening the first session of a user announces them online, closing the last one announces
 * them offline, a timer refreshes all local sessions in batches, and a sweep turns the sessions
 * of dead instances into OFFLINE announcements (each exactly once across the fleet, because the
 * store's sweep is atomic).
 *
 * Cost per connect: one PresenceStore call, the audience queries (guilds; friends and blocks) and the
 * events of the announcer; per heartbeat, one store call per 1,000 local sessions.
 */
export class SessionRegistry {
  private readonly sessions = new Map<object, Entry>();
  /** Owners by the token their session was opened with: the owner itself while it is the only one (most tokens have one socket), a set past that. */
  private readonly byToken = new Map<string, object | Set<object>>();
  private readonly timing: { ttlMs: number; sweepEveryMs: number };
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private sweepTimer: NodeJS.Timeout | undefined;
  private closed = false;
  /** Session closes under way (presence disconnect and the offline announcement); stop() awaits them. */
  private readonly closing = new Set<Promise<void>>();

  constructor(private readonly options: SessionRegistryOptions) {
    this.timing = presenceTiming(options.heartbeatMs);
  }

  /** Local live sessions. */
  get size(): number {
    return this.sessions.size;
  }

  /** Starts the heartbeat and sweep timers. */
  start(): void {
    this.heartbeatTimer = setInterval(() => void this.heartbeat(), this.options.heartbeatMs);
    this.sweepTimer = setInterval(() => void this.sweep(), this.timing.sweepEveryMs);
    this.heartbeatTimer.unref();
    this.sweepTimer.unref();
  }

  /**
   * Opens the session of `owner` (a socket) for `user`, once: later calls for the same owner
   * change nothing (a socket is one session, of the first user it authenticated as).
   */
  open(owner: object, user: UserRecord, tokenHash: string | null = null): Promise<void> {
    if (this.closed || this.sessions.has(owner)) return Promise.resolve();
    const session: LiveSession = { userId: user.id, sessionId: randomBytes(12).toString("base64url"), user };
    const opening = this.connect(session).then(
      () => session,
      (error) => {
        this.options.logger.error("presence connect failed", { error, userId: String(user.id) });
        return null;
      },
    );
    this.sessions.set(owner, { opening, userId: user.id, tokenHash });
    if (tokenHash !== null) {
      const owners = this.byToken.get(tokenHash);
      if (owners === undefined) this.byToken.set(tokenHash, owner);
      else if (owners instanceof Set) owners.add(owner);
      else this.byToken.set(tokenHash, new Set([owners, owner]));
    }
    return opening.then(() => {});
  }

  /**
   * The owners whose session was opened with a token the revocation covers (see
   * {@link revokes}): one token, or every token of the user but a kept one. The caller closes
   * them (which closes their sessions).
   */
  ownersOfRevoked(revocation: Revocation): object[] {
    if (revocation.tokenHash !== ALL_SESSIONS) {
      const owners = this.byToken.get(revocation.tokenHash);
      return owners === undefined ? [] : owners instanceof Set ? [...owners] : [owners];
    }
    const owners: object[] = [];
    for (const [owner, entry] of this.sessions) if (revokes(revocation, entry.userId, entry.tokenHash)) owners.push(owner);
    return owners;
  }

  /**
   * Closes the session of `owner`, if any; announces the user offline if it was their last.
   * {@link stop} waits for every close under way, so none announces after the bus has closed.
   */
  close(owner: object): Promise<void> {
    const entry = this.sessions.get(owner);
    if (!entry) return Promise.resolve();
    this.sessions.delete(owner);
    if (entry.tokenHash !== null) {
      const owners = this.byToken.get(entry.tokenHash);
      if (owners === owner || (owners instanceof Set && owners.delete(owner) && owners.size === 0)) this.byToken.delete(entry.tokenHash);
    }
    const closing = this.closeEntry(entry);
    this.closing.add(closing);
    void closing.finally(() => this.closing.delete(closing));
    return closing;
  }

  private async closeEntry(entry: Entry): Promise<void> {
    const session = await entry.opening;
    if (!session) return;
    try {
      const { presence, announcer, now } = this.options;
      const { wentOffline, status } = await presence.disconnect(session, now());
      // An invisible user already looked offline to everyone else.
      if (wentOffline) await announcer.announce(session.user, "OFFLINE", { othersChanged: status !== "INVISIBLE", toSelf: false });
    } catch (error) {
      this.options.logger.error("presence disconnect failed", { error, userId: String(session.userId) });
    }
  }

  /** Refreshes every local session; reconnects those the store lost (Redis restart, long stall). */
  async heartbeat(): Promise<void> {
    const live = (await Promise.all([...this.sessions.values()].map((e) => e.opening))).filter((s): s is LiveSession => s !== null);
    const { presence, now } = this.options;
    for (let i = 0; i < live.length; i += HEARTBEAT_BATCH) {
      const batch = live.slice(i, i + HEARTBEAT_BATCH);
      try {
        const unknown = await presence.heartbeat(batch, now(), this.timing.ttlMs);
        if (unknown.length === 0) continue;
        const byId = new Map(batch.map((s) => [s.sessionId, s]));
        for (const ref of unknown) {
          const session = byId.get(ref.sessionId);
          if (session) await this.connect(session);
        }
      } catch (error) {
        this.options.logger.error("presence heartbeat failed", { error, sessions: batch.length });
      }
    }
  }

  /** Removes expired sessions fleet-wide and announces the users who went offline. */
  async sweep(): Promise<number> {
    const { presence, accounts, announcer, now } = this.options;
    let total = 0;
    try {
      for (;;) {
        const offline = await presence.sweep(now(), SWEEP_BATCH);
        total += offline.length;
        if (offline.length > 0) {
          const users = await accounts.getUsers(offline);
          await Promise.all(users.map((user) => announcer.announce(user, "OFFLINE", { toSelf: false })));
        }
        if (offline.length < SWEEP_BATCH) return total;
      }
    } catch (error) {
      this.options.logger.error("presence sweep failed", { error });
      return total;
    }
  }

  /** Graceful stop: closes every local session (announcing offline users) and the timers. */
  async stop(): Promise<void> {
    this.closed = true;
    clearInterval(this.heartbeatTimer);
    clearInterval(this.sweepTimer);
    await Promise.all([...this.sessions.keys()].map((owner) => this.close(owner)));
    await Promise.all([...this.closing]);
  }

  private async connect(session: LiveSession): Promise<void> {
    const { presence, announcer, now } = this.options;
    const audience = await announcer.audience(session.userId);
    const { cameOnline, status } = await presence.connect({ ...session, guildIds: audience.guildIds }, now(), this.timing.ttlMs);
    // The first session of the user: nobody else of theirs to tell (toSelf false).
    if (cameOnline) await announcer.announce(session.user, status, { audience, othersChanged: status !== "INVISIBLE", toSelf: false });
  }
}
