export type ChannelKind = "GUILD_TEXT" | "DM" | "GROUP_DM";

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
  createdAt: Date;
}

/** Guild channels, DMs and group DMs, and who may read DMs. */
export interface ChannelStore {
  /**
   * Creates a text channel at the end of the guild's list. With `maxChannels`, a guild that
   * already has that many channels gets none: `LimitReachedError("channelsPerGuild")`, nothing
   * written. The count is taken under the same per-guild serialisation as the position, so
   * concurrent creates at `maxChannels - 1` cannot both pass. A guild that does not exist (deleted
   * since the caller checked it) gets none either: `MissingReferenceError("guild")`.
   */
  createGuildChannel(input: { id: bigint; guildId: bigint; name: string; maxChannels?: number }): Promise<ChannelRecord>;

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
   * Renames and/or moves a guild channel. Moving to `position` p places it at index p of the
   * list (clamped to the end) and renumbers the others 0..n-1 in one transaction, so positions
   * stay dense and unique. Null if the channel does not exist.
   */
  updateGuildChannel(id: bigint, patch: { name?: string; position?: number }): Promise<ChannelRecord | null>;

  /** Deletes a channel (and its recipients) and closes the gap in its guild's positions; false if it did not exist. */
  deleteChannel(id: bigint): Promise<boolean>;

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
   * The users who share at least one DM or group DM with `userId` (never `userId` itself), in no
   * particular order, in one read.
   */
  listDirectPartners(userId: bigint): Promise<bigint[]>;

  /**
   * The DM and group DM channels `userId` is a recipient of, newest first (by channel id), only
   * those older than `beforeChannelId` when given, at most `limit`.
   */
  listDirectChannelsOfUser(userId: bigint, page: { beforeChannelId: bigint | null; limit: number }): Promise<ChannelRecord[]>;
}
