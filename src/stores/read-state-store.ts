/** One acknowledgement: the user has read `channelId` up to and including `messageId`. */
export interface Ack {
  userId: bigint;
  channelId: bigint;
  messageId: bigint;
}

/**
 * Read states: a per-(user, channel) pointer to the last read message, and an index of the
 * mentions a user has not read yet. Unread counts are computed from message history and the
 * pointer; nothing here is written per message per reader, only per ack batch and per mention.
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
   * For each channel, how many indexed mentions of `userId` are newer than the given pointer
   * (null: never acked, so every mention counts), counting at most `limit` per channel.
   */
  countMentions(userId: bigint, channels: readonly { channelId: bigint; after: bigint | null }[], limit: number): Promise<Map<bigint, number>>;

  /** Drops every pointer and mention of a deleted channel. Idempotent. */
  deleteChannel(channelId: bigint): Promise<void>;
}
