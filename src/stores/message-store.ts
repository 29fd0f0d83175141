/** One message as stored. `createdAt` is not stored: it is the snowflake's time. */
export interface MessageRecord {
  id: bigint;
  channelId: bigint;
  authorId: bigint;
  content: string;
  editedAt: Date | null;
  replyToId: bigint | null;
  /** Users mentioned with `<@id>`, in order of first appearance, without duplicates. */
  mentionIds: bigint[];
  /** Client-chosen idempotency key, if the author sent one. */
  nonce: string | null;
}

/** A page request. Bounds are exclusive; ids are snowflakes, so they are also times. */
export interface PageQuery {
  /** Only messages with id < before. */
  before?: bigint;
  /** Only messages with id > after. */
  after?: bigint;
  /** At most this many messages (1..MAX_PAGE_SIZE + 1; the extra one lets callers detect more). */
  limit: number;
  /**
   * "newest": the `limit` newest messages in range, newest first (scrolling back).
   * "oldest": the `limit` oldest messages in range, oldest first (scrolling forward).
   */
  from: "newest" | "oldest";
}

/** Largest page a caller may request from a MessageStore, plus one look-ahead row. */
export const MAX_STORE_PAGE = 101;

/** Most ids {@link MessageStore.findByAuthor} returns per call. */
export const MAX_AUTHOR_PAGE = 1_000;

/** An id range of one author's messages: after < id < before, newest first. */
export interface AuthorQuery {
  /** Only messages with id > after (exclusive; a snowflake, so also a time: see ids/snowflake.ts). */
  after: bigint;
  /** Only messages with id < before (exclusive); absent: no upper bound. The walk's cursor. */
  before?: bigint;
  /** At most this many ids (1..MAX_AUTHOR_PAGE). */
  limit: number;
}

/** Outcome of {@link MessageStore.create}. */
export interface CreateResult {
  message: MessageRecord;
  /** False when the nonce matched an earlier message, which is returned instead. */
  created: boolean;
}

/**
 * Message history, one ordered log per channel.
 *
 * Ordering: within a channel, messages are ordered by id (a snowflake, so by creation time);
 * pages are gap-free and duplicate-free when a caller walks them by id cursor, whatever the
 * adapter's partitioning. Reads after a write on the same instance see the write (adapters use
 * a consistency level that guarantees it); other readers may lag briefly (history is eventually
 * consistent across regions).
 *
 * Adapters: Postgres (embedded PGlite or a real server) and Cassandra/ScyllaDB partitioned by
 * (channel, time bucket). Every adapter passes test/contract/message-store.contract.ts.
 */
export interface MessageStore {
  /**
   * Stores a new message. Idempotent on (channelId, authorId, nonce) when a nonce is given: a
   * repeat returns the first message (with `created: false`) and writes nothing, also when
   * both requests race. Without a nonce every call creates a message. The caller supplies the
   * id; ids must be unique per channel.
   *
   * Durability: resolves only once the message is stored at the adapter's consistency level, so
   * an acknowledged send is never lost. Adapters may group concurrent calls into one write
   * (Postgres: one INSERT per turn of the event loop); each call still gets its own outcome, and
   * one call's failure fails no other.
   */
  create(message: MessageRecord): Promise<CreateResult>;

  /** One message, or null if it does not exist in that channel (or was deleted). */
  get(channelId: bigint, id: bigint): Promise<MessageRecord | null>;

  /** The messages among `ids` that exist in the channel, in no particular order. */
  getMany(channelId: bigint, ids: readonly bigint[]): Promise<MessageRecord[]>;

  /**
   * Replaces content and mentions and sets `editedAt`; returns the new state, or null if the
   * message does not exist. Last write wins.
   */
  edit(channelId: bigint, id: bigint, patch: { content: string; mentionIds: bigint[]; editedAt: Date }): Promise<MessageRecord | null>;

  /** Deletes a message; true if it existed. Idempotent. A deleted nonce may be reused. */
  delete(channelId: bigint, id: bigint): Promise<boolean>;

  /** A page of a channel's history; see {@link PageQuery}. Messages of other channels never appear. */
  page(channelId: bigint, query: PageQuery): Promise<MessageRecord[]>;

  /**
   * Ids of the messages `authorId` wrote in the channel within the range (see {@link AuthorQuery}),
   * newest first, at most `limit`: what a ban with deleteMessageSeconds purges. A read, not a
   * delete: callers delete each id with {@link delete} (so nonces are released and each deletion
   * is reported once) and walk on with `before` = the last id returned; walked that way, every
   * matching message present for the whole walk is returned exactly once, whatever the adapter's
   * partitioning, and deleting the returned ids between calls does not disturb the walk.
   *
   * Cost: without an index on authors (Cassandra), adapters read the ids and authors of every
   * message of the channel in the range (only the time buckets the range covers), page by page,
   * and stop at the `limit`-th match; keep ranges short (a ban's is at most 7 days).
   */
  findByAuthor(channelId: bigint, authorId: bigint, range: AuthorQuery): Promise<bigint[]>;

  /** Deletes a channel's whole history (the channel or its guild was deleted). Idempotent. */
  deleteChannel(channelId: bigint): Promise<void>;
}
