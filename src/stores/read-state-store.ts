/** One acknowledgement: the user has read `channelId` up to and including `messageId`. */
export interface Ack {
  userId: bigint;
  channelId: bigint;
  messageId: bigint;
}

/**
 * What one message mentions broadly: whom it reaches is decided when counting, from the
 * reader's roles, so however many members a guild has, indexing it is one row.
 */
export interface BroadMentions {
  /** `@everyone` (the author was allowed to): reaches every reader of the channel. */
  everyone: boolean;
  /** `@here` (the author was allowed to): counted like `everyone`, since who was online then is not recorded. */
  here: boolean;
  /** Roles mentioned as `<@&id>` that notify: they reach the readers who hold one of them. In order of first appearance, no duplicates. */
  roleIds: readonly bigint[];
}

/** A message that mentions nobody broadly. */
export const NO_BROAD_MENTIONS: Readonly<BroadMentions> = Object.freeze({ everyone: false, here: false, roleIds: Object.freeze([]) });

/** True if `broad` reaches anyone at all (so it needs a row). */
export function hasBroadMentions(broad: BroadMentions): boolean {
  return broad.everyone || broad.here || broad.roleIds.length > 0;
}

/** One channel of a {@link ReadStateStore.countMentions} call. */
export interface MentionCountQuery {
  channelId: bigint;
  /** The user's pointer (or a later floor the caller chose); null: every mention counts. */
  after: bigint | null;
  /**
   * The user's role ids in the channel's guild (without @everyone, which every member has):
   * broad mentions count for them, `@everyone`/`@here` always, a role mention when one of its
   * roles is here. Absent or null (a DM, or not a member): broad mentions do not count. The
   * caller has checked that the user can read the channel; the store does no permission logic.
   */
  roleIds?: readonly bigint[] | null;
}

/**
 * Of a channel's broad mentions after a pointer, countMentions examines at most this many (the
 * newest): the cost of a count stays bounded even behind a long backlog of mentions of roles
 * the reader does not hold. Beyond it older broad mentions are not counted (the displayed
 * count is capped far below anyway).
 */
export const BROAD_MENTION_SCAN = 1_000;

/**
 * Read states: a per-(user, channel) pointer to the last read message, and an index of the
 * mentions a user has not read yet. Unread counts are computed from message history and the
 * pointer; nothing here is written per message per reader, only per ack batch, per user
 * mention, and per message for broad mentions (`@everyone`, `@here`, roles: one row whatever
 * the guild's size).
 *
 * Every adapter passes test/contract/read-state-store.contract.ts.
 */
export interface ReadStateStore {
  /**
   * Moves each (user, channel) pointer to the larger of its current value and the given id, all
   * acks in one round trip; a pointer never moves back. Several acks of the same pair in one
   * batch keep the largest. Also drops that user's indexed mentions at or below the new pointer.
   * Idempotent.
   */
  advance(acks: readonly Ack[]): Promise<void>;

  /** The user's pointers for the given channels; channels never acked are absent. */
  pointers(userId: bigint, channelIds: readonly bigint[]): Promise<Map<bigint, bigint>>;

  /**
   * Indexes the mentions of one message: it counts for each of `userIds` while it is newer than
   * their pointer. Replaces what was indexed for that message before (an edit), so calling it
   * with an empty list removes the message from the index. Idempotent.
   */
  setMentions(channelId: bigint, messageId: bigint, userIds: readonly bigint[]): Promise<void>;

  /**
   * Indexes the broad mentions of one message as one row, whatever the number of people it
   * reaches. Replaces what was indexed for that message before (an edit); one that reaches
   * nobody ({@link NO_BROAD_MENTIONS}) removes the row. Idempotent. Unlike user mentions, acks
   * never drop the row: readers share it.
   */
  setBroadMentions(channelId: bigint, messageId: bigint, broad: BroadMentions): Promise<void>;

  /**
   * The broad mentions indexed for each of `messageIds` in the channel; messages with none are
   * absent. One read.
   */
  getBroadMentions(channelId: bigint, messageIds: readonly bigint[]): Promise<Map<bigint, BroadMentions>>;

  /**
   * For each channel, how many messages newer than `after` (null: every one) mention `userId`:
   * indexed user mentions of them, plus broad mentions that reach them (see
   * {@link MentionCountQuery.roleIds}; at most the {@link BROAD_MENTION_SCAN} newest broad
   * mentions are examined). A message that mentions them in several ways counts once. At most
   * `limit` per channel; the cost is bounded by `limit` and the scan, not by the backlog.
   */
  countMentions(userId: bigint, channels: readonly MentionCountQuery[], limit: number): Promise<Map<bigint, number>>;

  /** Drops every pointer and mention (user and broad) of a deleted channel. Idempotent. */
  deleteChannel(channelId: bigint): Promise<void>;
}
