import type { Logger } from "../logger.js";
import { Coalescer } from "../pubsub/coalescer.js";
import type { EventBus } from "../pubsub/event-bus.js";
import type { EventOf } from "../pubsub/events.js";
import { topics, type Topic } from "../pubsub/topics.js";
import type { UserRecord } from "../stores/account-store.js";
import type { ChannelStore } from "../stores/channel-store.js";
import type { GuildStore } from "../stores/guild-store.js";
import type { PresenceStatus, PresenceStore } from "../stores/presence-store.js";

/** Who hears about one user's presence: their guilds (split by size) and their DM partners. */
export interface PresenceAudience {
  guildIds: bigint[];
  /** Guilds below the large-guild threshold: they get a PresenceUpdated per member change. */
  smallGuildIds: bigint[];
  /** Guilds at or above it: they get OnlineCountUpdated at a bounded rate instead. */
  largeGuildIds: bigint[];
  /** Users sharing a DM or group DM with this user. */
  partnerIds: bigint[];
}

export interface PresenceAnnouncerOptions {
  guilds: GuildStore;
  channels: ChannelStore;
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
 * - one PresenceUpdated per small guild of the user, per DM partner and on the user's own topic,
 *   each coalesced to at most one per `coalesceMs` per (topic, user) with the last state winning;
 * - for large guilds, no per-member event: the guild is marked changed, and a timer publishes its
 *   online count (read from the PresenceStore in O(1)) at most once per `onlineCountRefreshMs`.
 *
 * So a user coming online costs O(guilds + DM partners) events whatever the guild sizes, and a
 * reconnect storm of N users costs O(N) of that, not O(N x members).
 */
export class PresenceAnnouncer {
  private readonly coalescer: Coalescer<string, { topic: Topic; event: EventOf<"PresenceUpdated"> }>;
  private readonly changedLargeGuilds = new Set<bigint>();
  private lastTouch = new Map<bigint, number>();
  private readonly lastCounts = new Map<bigint, number>();
  private readonly timer: NodeJS.Timeout;
  private readonly inflight = new Set<Promise<unknown>>();
  /** Events published, by type (for tests and the cost report). */
  readonly published = { presence: 0, onlineCount: 0 };

  constructor(private readonly options: PresenceAnnouncerOptions) {
    this.coalescer = new Coalescer(options.coalesceMs, (_key, { topic, event }) => this.publish(topic, event));
    this.timer = setInterval(() => void this.refreshCounts(), options.onlineCountRefreshMs);
    this.timer.unref();
  }

  /** The guilds and DM partners of a user, with guilds split by the large-guild threshold. */
  async audience(userId: bigint): Promise<PresenceAudience> {
    const { guilds, channels, largeGuildThreshold } = this.options;
    // Two reads in parallel, whatever the number of guilds and DMs.
    const [sizes, partnerIds] = await Promise.all([guilds.listGuildSizesOfUser(userId), channels.listDirectPartners(userId)]);
    const isLarge = (g: { memberCount: number }) => g.memberCount >= largeGuildThreshold;
    return {
      guildIds: sizes.map((g) => g.guildId),
      smallGuildIds: sizes.filter((g) => !isLarge(g)).map((g) => g.guildId),
      largeGuildIds: sizes.filter(isLarge).map((g) => g.guildId),
      partnerIds,
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
    const self: EventOf<"PresenceUpdated"> = { type: "PresenceUpdated", guildId: null, user, status, at };
    if (options.toSelf !== false) this.offer(topics.user(user.id), self);
    if (options.othersChanged === false) return;
    const audience = options.audience ?? (await this.audience(user.id));
    const seen = publicStatus(status);
    for (const guildId of audience.smallGuildIds) this.offer(topics.guild(guildId), { ...self, guildId, status: seen });
    for (const partnerId of audience.partnerIds) this.offer(topics.user(partnerId), { ...self, status: seen });
    for (const guildId of audience.largeGuildIds) this.changedLargeGuilds.add(guildId);
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
    await Promise.all([...this.inflight]);
  }

  private offer(topic: Topic, event: EventOf<"PresenceUpdated">): void {
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
