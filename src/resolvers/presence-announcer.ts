import type { Logger } from "../logger.js";
import { Coalescer } from "../pubsub/coalescer.js";
import type { EventBus } from "../pubsub/event-bus.js";
import type { EventOf } from "../pubsub/events.js";
import { topics, type Topic } from "../pubsub/topics.js";
import type { UserRecord } from "../stores/account-store.js";
import type { GuildStore } from "../stores/guild-store.js";
import type { PresenceStatus, PresenceStore } from "../stores/presence-store.js";
import type { RelationshipStore } from "../stores/relationship-store.js";

/**
 * Who hears about one user's presence: their guilds (split by size) and their friends; never
 * the users with a block between them and this user.
 */
export interface PresenceAudience {
  guildIds: bigint[];
  /** Guilds below the large-guild threshold: they get a PresenceUpdated per member change. */
  smallGuildIds: bigint[];
  /** Guilds at or above it: they get OnlineCountUpdated at a bounded rate instead. */
  largeGuildIds: bigint[];
  /** The user's friends: told on their own user topic. */
  friendIds: bigint[];
  /**
   * Guildmates with a block between them and this user, either way: the small guilds' events
   * name them in `hiddenFrom`, and their subscriptions drop those events (no read per event).
   */
  hiddenFrom: bigint[];
}

export interface PresenceAnnouncerOptions {
  guilds: GuildStore;
  relationships: RelationshipStore;
  presence: PresenceStore;
  bus: EventBus;
  logger: Logger;
  now: () => Date;
  largeGuildThreshold: number;
  /** Per topic and user, at most one PresenceUpdated per this many ms (last state wins). */
  coalesceMs: number;
  /** Per large guild, at most one OnlineCountUpdated per this many ms from this instance. */
  onlineCountRefreshMs: number;
}

/** activeMembers order is by last activity to within this resolution. */
export const ACTIVITY_RESOLUTION_MS = 30_000;

/** What others may see of a true status: INVISIBLE looks OFFLINE. */
export function publicStatus(status: PresenceStatus): PresenceStatus {
  return status === "INVISIBLE" ? "OFFLINE" : status;
}

/**
 * Turns presence transitions into events, with bounded cost:
 * - one PresenceUpdated per small guild of the user, per friend and on the user's own topic,
 *   each coalesced to at most one per `coalesceMs` per (topic, user) with the last state winning;
 *   guild events name the guildmates a block hides them from (`hiddenFrom`), who never get them;
 * - for large guilds, no per-member event: the guild is marked changed, and a timer publishes its
 *   online count (read from the PresenceStore in O(1)) at most once per `onlineCountRefreshMs`.
 *
 * So a user coming online costs O(guilds + friends) events whatever the guild sizes, and a
 * reconnect storm of N users costs O(N) of that, not O(N x members).
 */
export class PresenceAnnouncer {
  private readonly coalescer: Coalescer<string, { topic: Topic; event: EventOf<"PresenceUpdated"> }>;
  private readonly changedLargeGuilds = new Set<bigint>();
  private lastTouch = new Map<bigint, number>();
  private readonly lastCounts = new Map<bigint, number>();
  private readonly timer: NodeJS.Timeout;
  private readonly inflight = new Set<Promise<unknown>>();
  private closed = false;
  /** Events published, by type (for tests and the cost report). */
  readonly published = { presence: 0, onlineCount: 0 };

  constructor(private readonly options: PresenceAnnouncerOptions) {
    this.coalescer = new Coalescer(options.coalesceMs, (_key, { topic, event }) => this.publish(topic, event));
    this.timer = setInterval(() => void this.refreshCounts(), options.onlineCountRefreshMs);
    this.timer.unref();
  }

  /** The guilds and friends of a user, with guilds split by the large-guild threshold, and whom a block hides them from. */
  async audience(userId: bigint): Promise<PresenceAudience> {
    const { guilds, relationships, largeGuildThreshold } = this.options;
    // Two reads in parallel, whatever the number of guilds, friends and blocks.
    const [sizes, circle] = await Promise.all([guilds.listGuildSizesOfUser(userId), relationships.presenceCircle(userId)]);
    const isLarge = (g: { memberCount: number }) => g.memberCount >= largeGuildThreshold;
    return {
      guildIds: sizes.map((g) => g.guildId),
      smallGuildIds: sizes.filter((g) => !isLarge(g)).map((g) => g.guildId),
      largeGuildIds: sizes.filter(isLarge).map((g) => g.guildId),
      friendIds: circle.friendIds,
      hiddenFrom: circle.hiddenFromIds,
    };
  }

  /**
   * Announces that `user`'s true status is now `status` (after a connect, disconnect, expiry or
   * setPresence). `othersChanged` false skips everyone but the user (e.g. ONLINE to INVISIBLE to
   * OFFLINE looks the same to others). `toSelf` false skips the user's own topic: coming online
   * and going offline are heard by none of the user's sessions (there is no other one), so only
   * setPresence tells them. Returns once events are handed to the coalescer.
   */
  async announce(
    user: UserRecord,
    status: PresenceStatus,
    options: { audience?: PresenceAudience; othersChanged?: boolean; toSelf?: boolean } = {},
  ): Promise<void> {
    const at = this.options.now();
    const self: EventOf<"PresenceUpdated"> = { type: "PresenceUpdated", guildId: null, user, status, at, hiddenFrom: [] };
    if (options.toSelf !== false) this.offer(topics.user(user.id), self);
    if (options.othersChanged === false) return;
    const audience = options.audience ?? (await this.audience(user.id));
    const seen = publicStatus(status);
    for (const guildId of audience.smallGuildIds) this.offer(topics.guild(guildId), { ...self, guildId, status: seen, hiddenFrom: audience.hiddenFrom });
    for (const friendId of audience.friendIds) this.offer(topics.user(friendId), { ...self, status: seen });
    for (const guildId of audience.largeGuildIds) this.changedLargeGuilds.add(guildId);
  }

  /**
   * Tells one user (on their user topic) the presence of `user` as they may now see it, after
   * the two became friends, stopped being friends, blocked or unblocked: `status` is what they
   * see (OFFLINE when they may no longer see it). Coalesced with the user's other announcements.
   */
  tell(viewerId: bigint, user: UserRecord, status: PresenceStatus): void {
    this.offer(topics.user(viewerId), { type: "PresenceUpdated", guildId: null, user, status: publicStatus(status), at: this.options.now(), hiddenFrom: [] });
  }

  /**
   * Records activity of `userId` (a message, typing) for the guilds' activeMembers lists, at most
   * once per {@link ACTIVITY_RESOLUTION_MS} per user on this instance: a busy sender costs one
   * PresenceStore write per half minute, not one per message. Fire and forget.
   */
  touch(userId: bigint): void {
    const now = this.options.now().getTime();
    const last = this.lastTouch.get(userId);
    if (last !== undefined && now - last < ACTIVITY_RESOLUTION_MS) return;
    this.lastTouch.set(userId, now);
    void this.track(this.options.presence.touch(userId, new Date(now))).catch((error) =>
      this.options.logger.error("presence touch failed", { error, userId: String(userId) }),
    );
  }

  /** Marks a large guild's online count as possibly changed (a member joined or left while online). */
  countChanged(guildId: bigint): void {
    this.changedLargeGuilds.add(guildId);
  }

  /** Publishes online counts of changed large guilds whose count differs from the last one published here. */
  async refreshCounts(): Promise<void> {
    if (this.lastTouch.size > 0) {
      const cutoff = this.options.now().getTime() - ACTIVITY_RESOLUTION_MS;
      for (const [userId, at] of this.lastTouch) if (at < cutoff) this.lastTouch.delete(userId);
    }
    const changed = [...this.changedLargeGuilds];
    this.changedLargeGuilds.clear();
    await Promise.all(
      changed.map(async (guildId) => {
        try {
          const onlineCount = await this.options.presence.onlineCount(guildId);
          if (this.lastCounts.get(guildId) === onlineCount) return;
          this.lastCounts.set(guildId, onlineCount);
          if (this.lastCounts.size > 100_000) this.lastCounts.delete(this.lastCounts.keys().next().value!);
          this.published.onlineCount++;
          await this.track(this.options.bus.publish(topics.guild(guildId), { type: "OnlineCountUpdated", guildId, onlineCount }));
        } catch (error) {
          this.options.logger.error("online count refresh failed", { error, guildId: String(guildId) });
        }
      }),
    );
  }

  /** Publishes what is held and stops the timer; later announcements are dropped. Idempotent. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    this.coalescer.flush();
    await this.refreshCounts();
    this.closed = true;
    await Promise.all([...this.inflight]);
  }

  private offer(topic: Topic, event: EventOf<"PresenceUpdated">): void {
    if (this.closed) return;
    this.coalescer.offer(`${topic}|${event.user.id}`, { topic, event });
  }

  private publish(topic: Topic, event: EventOf<"PresenceUpdated">): void {
    this.published.presence++;
    void this.track(this.options.bus.publish(topic, event)).catch((error) =>
      this.options.logger.error("presence publish failed", { error, topic }),
    );
  }

  private track<T>(promise: Promise<T>): Promise<T> {
    this.inflight.add(promise);
    void promise.finally(() => this.inflight.delete(promise)).catch(() => {});
    return promise;
  }
}
