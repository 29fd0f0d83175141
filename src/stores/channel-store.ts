import type { AuditActor } from "./audit-log-store.js";
import type { OverwriteRecord } from "./permission-store.js";

export type ChannelKind = "GUILD_TEXT" | "GUILD_CATEGORY" | "DM" | "GROUP_DM";

export interface ChannelRecord {
  id: bigint;
  kind: ChannelKind;
  /** Set for guild channels only. */
  guildId: bigint | null;
  /** Null for one-to-one DMs. */
  name: string | null;
  /** Order within the guild's channel list (0 first); 0 for DMs. */
  position: number;
  /** Creator of a group DM; null otherwise. */
  ownerId: bigint | null;
  /** The category a guild channel sits in; null when none (and for categories and DMs). */
  parentId: bigint | null;
  /** What the channel is about; null when not set. */
  topic: string | null;
  /** Slowmode: seconds a member must wait between two messages here; 0 when off. */
  rateLimitPerUser: number;
  createdAt: Date;
}

/** Guild channels, DMs and group DMs, and who may read DMs. */
export interface ChannelStore {
  /**
   * Creates a guild channel (a text channel unless `kind` says category) at the end of the
   * guild's list, with its overwrites, all or nothing. With `maxChannels`, a guild that already
   * has that many channels gets none: `LimitReachedError("channelsPerGuild")`, nothing written.
   * The count is taken under the same per-guild serialisation as the position, so concurrent
   * creates at `maxChannels - 1` cannot both pass. A guild that does not exist (deleted since
   * the caller checked it) gets none either: `MissingReferenceError("guild")`; nor does a
   * `parentId` that is not a category of the same guild: `MissingReferenceError("parent")`.
   *
   * Category sync (Discord's): a text channel created with a `parentId` and without `overwrites`
   * (absent, not `[]`) gets a copy of the category's overwrites as they are in the same
   * transaction. Given `overwrites` (even empty) are stored as given.
   *
   * Audited as CHANNEL_CREATE (its fields and overwrites) given an actor, in the same transaction.
   */
  createGuildChannel(input: {
    id: bigint;
    guildId: bigint;
    name: string;
    kind?: "GUILD_TEXT" | "GUILD_CATEGORY";
    parentId?: bigint | null;
    topic?: string | null;
    rateLimitPerUser?: number;
    overwrites?: readonly Omit<OverwriteRecord, "channelId">[];
    maxChannels?: number;
  }, audit?: AuditActor): Promise<ChannelRecord>;

  /** The channels among `ids` that exist, in no particular order. */
  getChannels(ids: readonly bigint[]): Promise<ChannelRecord[]>;

  /**
   * The channels among `ids` that `userId` may read: guild channels of a guild they belong to,
   * DMs and group DMs they are a recipient of. One read for the channel and the permission (the
   * hot path of every send, ack and typing call). In no particular order; missing and
   * unreadable ids are absent alike, so callers cannot tell one from the other.
   */
  getReadableChannels(userId: bigint, ids: readonly bigint[]): Promise<ChannelRecord[]>;

  /** A guild's channels in display order (position, then id). */
  listGuildChannels(guildId: bigint): Promise<ChannelRecord[]>;

  /**
   * Changes a guild channel. Moving to `position` p places it at index p of the list (clamped to
   * the end) and renumbers the others 0..n-1 in one transaction, so positions stay dense and
   * unique. `parentId` (null: out of any category) must be a category of the same guild, else
   * `MissingReferenceError("parent")` and nothing changes. Moving into a category leaves the
   * channel's overwrites alone unless `lockPermissions`: then, in the same transaction and after
   * the move, they are replaced by a copy of its category's (idempotent);
   * `MissingReferenceError("category")` and nothing changes if it is then in none. Null if the
   * channel does not exist. Audited as CHANNEL_UPDATE (the fields that changed, and the
   * overwrites when synced) given an actor, only when something changed.
   */
  updateGuildChannel(
    id: bigint,
    patch: { name?: string; position?: number; topic?: string | null; rateLimitPerUser?: number; parentId?: bigint | null; lockPermissions?: boolean },
    audit?: AuditActor,
  ): Promise<ChannelRecord | null>;

  /**
   * Deletes a channel (and its recipients and overwrites) and closes the gap in its guild's
   * positions; a deleted category's channels are left without a category. False if it did not
   * exist. A guild channel's deletion is audited as CHANNEL_DELETE given an actor.
   */
  deleteChannel(id: bigint, audit?: AuditActor): Promise<boolean>;

  /**
   * The one-to-one DM between two users, created with `id` if it does not exist yet. Idempotent
   * and safe under concurrency: both users, in either order, always get the same channel.
   */
  openDirectMessage(id: bigint, userA: bigint, userB: bigint): Promise<{ channel: ChannelRecord; created: boolean }>;

  /** Creates a group DM whose recipients are `userIds` (the owner included). */
  createGroupDirectMessage(input: { id: bigint; ownerId: bigint; userIds: readonly bigint[] }): Promise<ChannelRecord>;

  /** Recipients of DM channels, keyed by channel id (user ids in ascending order). */
  getRecipients(channelIds: readonly bigint[]): Promise<Map<bigint, bigint[]>>;

  /**
   * The DM and group DM channels `userId` is a recipient of, newest first (by channel id), only
   * those older than `beforeChannelId` when given, at most `limit`; closed ones included (the
   * user's own list leaves them out: DirectMessageStore.listOpen).
   */
  listDirectChannelsOfUser(userId: bigint, page: { beforeChannelId: bigint | null; limit: number }): Promise<ChannelRecord[]>;
}
