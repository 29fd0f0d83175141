/** What a user shows. OFFLINE is never chosen: it is what a user without a live session is. */
export type PresenceStatus = "ONLINE" | "IDLE" | "DND" | "INVISIBLE" | "OFFLINE";

/** A status a user may choose with setPresence; it applies to all of their sessions. */
export type ChosenStatus = Exclude<PresenceStatus, "OFFLINE">;

/** One live connection (a WebSocket) of a user; `sessionId` is unique across the fleet. */
export interface SessionRef {
  userId: bigint;
  sessionId: string;
}

/** The true presence of one user (callers show INVISIBLE as OFFLINE to anyone but the user). */
export interface PresenceRecord {
  userId: bigint;
  /** OFFLINE when no session is alive, else the user's chosen status. */
  status: PresenceStatus;
}

/** An online, visible member of a guild and when they were last active. */
export interface ActiveMember {
  userId: bigint;
  lastActiveAt: Date;
}

/** A user typing in a channel, until `expiresAt`. */
export interface TypingRecord {
  userId: bigint;
  expiresAt: Date;
}

/**
 * Who is online, in which guilds, and who is typing: shared by every instance (Redis) or
 * kept in this process (memory, for the zero-setup mode and fast tests).
 *
 * Liveness: a session lives until `expiresAt` = the `now` of its last connect or heartbeat plus
 * `ttlMs`. A user is online while at least one session is alive. Expired sessions are removed
 * by {@link sweep}, which any instance may run; each expired session is reported by exactly one
 * sweep, so the OFFLINE transition it causes is reported once across the fleet.
 *
 * Guild online sets: while a user is online and not INVISIBLE, they are in the online set of
 * every guild recorded for them (at connect, or later with {@link joinGuild}), scored by their
 * last activity. That is what {@link onlineCount} and {@link activeMembers} read, so a guild of
 * 500k members is counted without reading its membership.
 *
 * Every method is atomic with respect to the others on the same user (the Redis adapter runs
 * each as one Lua script). Callers pass `now` so tests can control time. Every adapter passes
 * test/contract/presence-store.contract.ts.
 */
export interface PresenceStore {
  /**
   * Registers (or refreshes) a session and records the guilds the user belongs to. If the user
   * was offline, they come online with their chosen status (ONLINE if they never chose one) and
   * `cameOnline` is true. Idempotent: connecting the same session again only refreshes it.
   */
  connect(session: SessionRef & { guildIds: readonly bigint[] }, now: Date, ttlMs: number): Promise<{ cameOnline: boolean; status: ChosenStatus }>;

  /**
   * Extends every given session to `now + ttlMs`, in one round trip. Returns the sessions the
   * store does not know (swept after a stall, or lost with a Redis restart): the caller must
   * {@link connect} them again. Never creates sessions.
   */
  heartbeat(sessions: readonly SessionRef[], now: Date, ttlMs: number): Promise<SessionRef[]>;

  /**
   * Removes a session. If it was the user's last live session, the user goes offline (leaves
   * every guild online set) and `wentOffline` is true. Idempotent: an unknown session changes
   * nothing and reports false. `status` is the user's chosen status.
   */
  disconnect(session: SessionRef, now: Date): Promise<{ wentOffline: boolean; status: ChosenStatus }>;

  /**
   * Removes up to `limit` sessions that expired at or before `now`, oldest first, and returns
   * the users who went offline because of it (each once; never a user with a live session
   * left). Concurrent sweeps never report the same user twice for the same expiry.
   */
  sweep(now: Date, limit: number): Promise<bigint[]>;

  /**
   * Sets the user's chosen status, kept while they are offline too. Becoming INVISIBLE leaves the
   * guild online sets; leaving INVISIBLE while online joins them again. Returns whether the user
   * is online and the status they had chosen before.
   */
  setStatus(userId: bigint, status: ChosenStatus, now: Date): Promise<{ online: boolean; previous: ChosenStatus }>;

  /** True presence of each user, in the order given (OFFLINE for users never seen). */
  get(userIds: readonly bigint[], now: Date): Promise<PresenceRecord[]>;

  /** Records activity (a message, typing): moves the user up the activeMembers lists of their guilds if online. */
  touch(userId: bigint, now: Date): Promise<void>;

  /** The user joined a guild: if they are online and visible, they enter its online set now. */
  joinGuild(userId: bigint, guildId: bigint, now: Date): Promise<void>;

  /** The user left (or was removed from) a guild: they leave its online set. Idempotent. */
  leaveGuild(userId: bigint, guildId: bigint): Promise<void>;

  /** The guild was deleted: its online set is dropped. Idempotent. */
  forgetGuild(guildId: bigint): Promise<void>;

  /** Online, visible members of a guild. O(1). */
  onlineCount(guildId: bigint): Promise<number>;

  /** Online, visible members of a guild, most recently active first (ties by user id), at most `limit`. */
  activeMembers(guildId: bigint, limit: number): Promise<ActiveMember[]>;

  /**
   * The user starts (or keeps) typing in a channel until `now + ttlMs`. Returns false and changes
   * nothing when their current typing state started less than `quietMs` ago (repeated calls are
   * absorbed); otherwise stores the new expiry and returns true (the caller announces it).
   */
  startTyping(channelId: bigint, userId: bigint, now: Date, ttlMs: number, quietMs: number): Promise<boolean>;

  /** Ends the user's typing state in the channel; true if they were typing (not yet expired). */
  stopTyping(channelId: bigint, userId: bigint, now: Date): Promise<boolean>;

  /** Users typing in the channel at `now`, soonest expiry first. */
  typing(channelId: bigint, now: Date): Promise<TypingRecord[]>;

  /** Releases connections. Idempotent. */
  close(): Promise<void>;
}
