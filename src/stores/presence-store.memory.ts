import type { ActiveMember, ChosenStatus, PresenceRecord, PresenceStore, SessionRef, TypingRecord } from "./presence-store.js";

/** One user's typing state in a channel. */
interface Typing {
  startedAt: number;
  expiresAt: number;
}

/**
 * {@link PresenceStore} in this process's memory, for the zero-setup mode and fast tests. No
 * timers: time comes only from the `now` arguments, and expired state is dropped lazily (by
 * {@link sweep}, and by the typing methods).
 *
 * Every method runs synchronously inside its promise, so each is atomic with respect to the
 * others. Costs: `sweep` scans every session and `activeMembers` sorts the guild's online set,
 * which is fine at one instance's scale. Chosen statuses are kept until the process ends.
 *
 * Where the port leaves room, both adapters decide alike (see RedisPresenceStore in
 * presence-store.redis.ts); test/contract/presence-store.contract.ts pins those decisions.
 */
export class MemoryPresenceStore implements PresenceStore {
  /** userId -> sessionId -> expiresAt (ms); a user is here from connect until they go offline. */
  private readonly sessions = new Map<bigint, Map<string, number>>();
  /** userId -> guilds recorded for the user while they are online. */
  private readonly guildsOf = new Map<bigint, Set<bigint>>();
  /** userId -> chosen status, absent meaning ONLINE. */
  private readonly chosen = new Map<bigint, ChosenStatus>();
  /** guildId -> online, visible userId -> last activity (ms). */
  private readonly online = new Map<bigint, Map<bigint, number>>();
  /** channelId -> userId -> typing state. */
  private readonly typists = new Map<bigint, Map<bigint, Typing>>();

  async connect(session: SessionRef & { guildIds: readonly bigint[] }, now: Date, ttlMs: number): Promise<{ cameOnline: boolean; status: ChosenStatus }> {
    const { userId, sessionId } = session;
    const at = now.getTime();
    const wasOnline = this.isLive(userId, at);
    // Sessions that expired without a sweep belong to the offline period this connect ends.
    if (!wasOnline) this.goOffline(userId);
    let own = this.sessions.get(userId);
    if (!own) this.sessions.set(userId, (own = new Map()));
    own.set(sessionId, at + ttlMs);
    let guilds = this.guildsOf.get(userId);
    if (!guilds) this.guildsOf.set(userId, (guilds = new Set()));
    const status = this.statusOf(userId);
    for (const guildId of session.guildIds) {
      guilds.add(guildId);
      if (status !== "INVISIBLE") this.enter(guildId, userId, at);
    }
    return { cameOnline: !wasOnline, status };
  }

  async heartbeat(sessions: readonly SessionRef[], now: Date, ttlMs: number): Promise<SessionRef[]> {
    const at = now.getTime();
    const unknown: SessionRef[] = [];
    for (const session of sessions) {
      const own = this.sessions.get(session.userId);
      const expiresAt = own?.get(session.sessionId);
      if (own && expiresAt !== undefined && expiresAt > at) own.set(session.sessionId, at + ttlMs);
      else unknown.push(session);
    }
    return unknown;
  }

  async disconnect(session: SessionRef, now: Date): Promise<{ wentOffline: boolean; status: ChosenStatus }> {
    const status = this.statusOf(session.userId);
    const own = this.sessions.get(session.userId);
    if (!own?.delete(session.sessionId)) return { wentOffline: false, status };
    if (this.isLive(session.userId, now.getTime())) return { wentOffline: false, status };
    this.goOffline(session.userId);
    return { wentOffline: true, status };
  }

  async sweep(now: Date, limit: number): Promise<bigint[]> {
    const at = now.getTime();
    const due: { userId: bigint; sessionId: string; expiresAt: number }[] = [];
    for (const [userId, own] of this.sessions) {
      for (const [sessionId, expiresAt] of own) if (expiresAt <= at) due.push({ userId, sessionId, expiresAt });
    }
    due.sort((a, b) => a.expiresAt - b.expiresAt);
    const offline: bigint[] = [];
    for (const { userId, sessionId } of due.slice(0, Math.max(0, limit))) {
      const own = this.sessions.get(userId)!;
      own.delete(sessionId);
      // Reported when the last session goes: earlier ones may leave expired siblings to sweep.
      if (own.size === 0) {
        this.goOffline(userId);
        offline.push(userId);
      }
    }
    return offline;
  }

  async setStatus(userId: bigint, status: ChosenStatus, now: Date): Promise<{ online: boolean; previous: ChosenStatus }> {
    const at = now.getTime();
    const previous = this.statusOf(userId);
    const online = this.isLive(userId, at);
    if (status === "ONLINE") this.chosen.delete(userId);
    else this.chosen.set(userId, status);
    const guilds = this.guildsOf.get(userId) ?? new Set<bigint>();
    if (status === "INVISIBLE") {
      for (const guildId of guilds) this.online.get(guildId)?.delete(userId);
    } else if (previous === "INVISIBLE" && online) {
      for (const guildId of guilds) this.enter(guildId, userId, at);
    }
    return { online, previous };
  }

  async get(userIds: readonly bigint[], now: Date): Promise<PresenceRecord[]> {
    const at = now.getTime();
    return userIds.map((userId) => ({ userId, status: this.isLive(userId, at) ? this.statusOf(userId) : "OFFLINE" }));
  }

  async touch(userId: bigint, now: Date): Promise<void> {
    const at = now.getTime();
    if (!this.isLive(userId, at)) return;
    for (const guildId of this.guildsOf.get(userId) ?? []) {
      const members = this.online.get(guildId);
      // Only where they already are: INVISIBLE users (and guilds they left) stay out.
      if (members?.has(userId)) members.set(userId, Math.max(members.get(userId)!, at));
    }
  }

  async joinGuild(userId: bigint, guildId: bigint, now: Date): Promise<void> {
    const at = now.getTime();
    if (!this.isLive(userId, at)) return;
    this.guildsOf.get(userId)!.add(guildId);
    if (this.statusOf(userId) !== "INVISIBLE") this.enter(guildId, userId, at);
  }

  async leaveGuild(userId: bigint, guildId: bigint): Promise<void> {
    this.guildsOf.get(userId)?.delete(guildId);
    this.leave(guildId, userId);
  }

  async forgetGuild(guildId: bigint): Promise<void> {
    // The members in the set forget the guild too, so nothing they do later brings it back.
    for (const userId of this.online.get(guildId)?.keys() ?? []) this.guildsOf.get(userId)?.delete(guildId);
    this.online.delete(guildId);
  }

  async onlineCount(guildId: bigint): Promise<number> {
    return this.online.get(guildId)?.size ?? 0;
  }

  async activeMembers(guildId: bigint, limit: number): Promise<ActiveMember[]> {
    const members = [...(this.online.get(guildId) ?? [])];
    members.sort(([idA, atA], [idB, atB]) => atB - atA || (idA < idB ? -1 : idA > idB ? 1 : 0));
    return members.slice(0, Math.max(0, limit)).map(([userId, at]) => ({ userId, lastActiveAt: new Date(at) }));
  }

  async startTyping(channelId: bigint, userId: bigint, now: Date, ttlMs: number, quietMs: number): Promise<boolean> {
    const at = now.getTime();
    const current = this.typists.get(channelId)?.get(userId);
    if (current && current.expiresAt > at && at - current.startedAt < quietMs) return false;
    const channel = this.liveTypists(channelId, at);
    channel.set(userId, { startedAt: at, expiresAt: at + ttlMs });
    this.typists.set(channelId, channel);
    return true;
  }

  async stopTyping(channelId: bigint, userId: bigint, now: Date): Promise<boolean> {
    const channel = this.typists.get(channelId);
    const current = channel?.get(userId);
    if (!channel || !current) return false;
    channel.delete(userId);
    if (channel.size === 0) this.typists.delete(channelId);
    return current.expiresAt > now.getTime();
  }

  async typing(channelId: bigint, now: Date): Promise<TypingRecord[]> {
    const at = now.getTime();
    const channel = this.liveTypists(channelId, at);
    if (channel.size === 0) this.typists.delete(channelId);
    return [...channel]
      .sort(([idA, a], [idB, b]) => a.expiresAt - b.expiresAt || (idA < idB ? -1 : idA > idB ? 1 : 0))
      .map(([userId, { expiresAt }]) => ({ userId, expiresAt: new Date(expiresAt) }));
  }

  async close(): Promise<void> {}

  /** True if the user has a session expiring after `at`. */
  private isLive(userId: bigint, at: number): boolean {
    for (const expiresAt of this.sessions.get(userId)?.values() ?? []) if (expiresAt > at) return true;
    return false;
  }

  private statusOf(userId: bigint): ChosenStatus {
    return this.chosen.get(userId) ?? "ONLINE";
  }

  /** Leaves every online set and forgets the user's sessions and guilds (their chosen status stays). */
  private goOffline(userId: bigint): void {
    for (const guildId of this.guildsOf.get(userId) ?? []) this.leave(guildId, userId);
    this.guildsOf.delete(userId);
    this.sessions.delete(userId);
  }

  /** Puts the user in a guild's online set; their last activity never moves back. */
  private enter(guildId: bigint, userId: bigint, at: number): void {
    let members = this.online.get(guildId);
    if (!members) this.online.set(guildId, (members = new Map()));
    members.set(userId, Math.max(members.get(userId) ?? at, at));
  }

  private leave(guildId: bigint, userId: bigint): void {
    const members = this.online.get(guildId);
    if (members?.delete(userId) && members.size === 0) this.online.delete(guildId);
  }

  /** The channel's typists with expired ones dropped (the stored map, or a new empty one). */
  private liveTypists(channelId: bigint, at: number): Map<bigint, Typing> {
    const channel = this.typists.get(channelId) ?? new Map<bigint, Typing>();
    for (const [userId, { expiresAt }] of channel) if (expiresAt <= at) channel.delete(userId);
    return channel;
  }
}
