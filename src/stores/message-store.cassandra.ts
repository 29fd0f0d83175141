import { setTimeout as sleep } from "node:timers/promises";
import { types, type Client, type QueryOptions } from "cassandra-driver";
import { snowflakeAt } from "../ids/snowflake.js";
import { executeLwt, isPaxosTimeout } from "./cassandra/lwt.js";
import { sameTurn } from "./cassandra/same-turn.js";
import { translateCassandraError } from "./cassandra/unavailable.js";
import type { AuthorQuery, CreateResult, MessageRecord, MessageStore, PageQuery } from "./message-store.js";

type Long = types.Long;

/**
 * Width of a history bucket: 10 days of snowflake time, as Discord chose, for the same reasons.
 *
 * A partition is one channel's bucket. The target is at most ~100 MB per partition (beyond
 * that, compaction, repair and streaming of one partition get slow and Cassandra warns). A
 * stored message is ~250 bytes for typical chat (ids, ~80 characters, cell overhead), ~2.2 KB at
 * the 2,000-character maximum. 10 days then holds ~400,000 typical messages: a channel may
 * average 40,000 messages a day (one every ~2 s, around the clock) before its partitions pass
 * the target. Concord's 500M messages/day spread over millions of channels puts almost every
 * channel far below that; the few hotter ones reach a few hundred MB, which Cassandra and
 * ScyllaDB still serve.
 * - Smaller buckets (a day) would cut the worst case tenfold but make quiet channels, the vast
 *   majority (DMs, small guilds), spread a 50-message page over many partitions: more reads
 *   per page and ten times the partitions.
 * - Larger buckets (a month) would let the busiest channels' partitions pass 1 GB.
 * The width is part of the stored data (it is in the partition key), so it is a constant, not a
 * setting: changing it needs a data migration.
 */
export const BUCKET_MS = 10 * 86_400_000;

/** Bits below a snowflake's millisecond field (10 worker + 12 sequence; see ids/snowflake.ts). */
const TIME_SHIFT = 22n;

/** The bucket of a message id: floor(milliseconds since the Concord epoch / BUCKET_MS). */
export function bucketOf(id: bigint): number {
  return Math.floor(Number(id >> TIME_SHIFT) / BUCKET_MS);
}

const MIN_LONG = -(1n << 63n);
const MAX_LONG = (1n << 63n) - 1n;

/**
 * A bigint as a CQL bigint parameter: the client is built with `useBigIntAsLong` (client.ts),
 * so it goes as is; checked to fit, since the driver would silently keep the low 64 bits.
 */
function toLong(value: bigint): bigint {
  if (value < MIN_LONG || value > MAX_LONG) throw new RangeError(`${value} does not fit in a signed 64-bit bigint column`);
  return value;
}

/** A CQL bigint as read: a bigint on this store's client (useBigIntAsLong), a Long on a client built without it. */
function fromLong(value: Long | bigint): bigint {
  return typeof value === "bigint" ? value : BigInt(value.toString());
}

export interface CassandraMessageStoreOptions {
  /** Keyspace holding the tables of migrations/002_messages.cql. */
  keyspace: string;
  /** Reads and writes (default LOCAL_QUORUM, so a read after a write on this instance sees it). */
  consistency?: types.consistencies;
  /** Paxos level of the lightweight transactions (default LOCAL_SERIAL). */
  serialConsistency?: types.consistencies;
  /**
   * How long a create whose nonce is held by a message that cannot be read waits for that
   * message before treating the claim as abandoned (default 2 s); see {@link CassandraMessageStore}.
   */
  nonceGraceMs?: number;
}

/** How many buckets one page may read at once after the first (1, 2, 4, 8, 8, ...). */
const MAX_FAN_OUT = 8;
/** Bucket-index rows fetched per round trip. */
const INDEX_FETCH = 32;
/**
 * Rows (id and author only, ~30 bytes each) read per round trip when scanning a bucket for one
 * author's messages: a busy channel's day (~40,000 messages) is 40 round trips.
 */
const AUTHOR_SCAN_FETCH = 1_000;
/** Channels whose bucket-index rows this instance remembers having written. */
const KNOWN_CHANNELS = 20_000;

const COLUMNS = "message_id, author_id, content, edited_at, reply_to_id, mention_ids, nonce";


/**
 * {@link MessageStore} on Apache Cassandra or ScyllaDB (only features both have: no SASI, no
 * materialized views, no UDFs; LWT where noted). Tables: migrations/002_messages.cql.
 *
 * Layout: `messages` is partitioned by (channel_id, bucket) with message_id clustering newest
 * first ({@link BUCKET_MS}). `channel_buckets` lists, per channel, the buckets that received a
 * message; it is written (idempotently, once per channel and bucket per instance) before the
 * message, so a message is never in a bucket the index lacks.
 *
 * Walking: a page reads the index for the buckets within its bounds, in page order, then reads
 * those buckets, each with the page's id bounds and the rows still missing as LIMIT. The first
 * round reads one bucket (a page of an active channel is usually the head of one partition),
 * later rounds 2, 4, then 8 buckets in parallel, so a sparse channel needs few round trips.
 * The likely first bucket (the cursor's, or the current one) is read in parallel with the
 * index, so the common page costs one round trip of latency, not two.
 * Empty time costs nothing: the index skips it, however long a channel was quiet, and the walk
 * ends at the channel's first bucket. The alternative (range from bucket(channelId) to now)
 * would read every empty bucket, and cannot bound histories whose ids predate the channel id
 * (imports, and the contract suite's fake clocks).
 *
 * Nonces: `message_nonces` (channel, author, nonce) → message id, claimed with LWT
 * `INSERT ... IF NOT EXISTS` before the message is written. A loser reads the holder's message
 * and returns it (created: false); if it is briefly not there yet, it polls for up to
 * `nonceGraceMs`. A claim whose message stays missing (its writer died between the two writes,
 * or the channel was deleted) is taken over with `UPDATE ... IF message_id = <holder>`, so a
 * nonce is never blocked forever. A winner whose own write took longer than half the grace
 * re-checks its claim and, if it was taken over meanwhile, withdraws its message. Deleting a
 * message deletes its nonce row (`IF message_id = ?`), so the nonce may be reused.
 *
 * Edits and deletes are LWTs (`UPDATE ... IF EXISTS`, `DELETE ... IF EXISTS`): an edit can never
 * resurrect a deleted message as a partial row, and of two racing deletes exactly one returns
 * true, as on Postgres. They cost a Paxos round (about 4x a plain write); sends, the hot path,
 * stay plain writes. The read-then-write alternative is cheaper but racy: an edit landing after
 * a concurrent delete would write a row with content and no author. As a second line of defence,
 * rows without an author (only possible if plain and LWT write times cross under clock skew)
 * read as absent. The client should use server-side timestamps (openCassandra does).
 *
 * deleteChannel deletes every bucket partition listed in the index, then the index. Nonce rows of
 * the channel stay (they are keyed by author and cannot be listed without reading the whole
 * history); channel ids are never reused, and the takeover above frees them if ever needed.
 * The per-instance memory of written index rows is cleared here, but not on other instances:
 * a message created in a channel after another instance deleted it may be missing from pages
 * (the resolvers do not create messages in deleted channels).
 *
 * All statements are prepared, run at the configured consistency, and marked idempotent when
 * retrying them cannot change the outcome. Ids travel as JavaScript bigints: the client must be
 * built with `encoding: { useBigIntAsLong: true }`, as openCassandra (cassandra/client.ts) does.
 */
export class CassandraMessageStore implements MessageStore {
  private readonly consistency: types.consistencies;
  private readonly serialConsistency: types.consistencies;
  private readonly nonceGraceMs: number;
  /** Bucket-index rows this instance already wrote: channel → buckets (insertion-ordered LRU). */
  private readonly knownBuckets = new Map<bigint, Set<number>>();
  private readonly q;

  constructor(
    private readonly client: Client,
    options: CassandraMessageStoreOptions,
  ) {
    if (!/^[a-z][a-z0-9_]{0,47}$/.test(options.keyspace)) throw new RangeError(`invalid keyspace name ${JSON.stringify(options.keyspace)}`);
    this.consistency = options.consistency ?? types.consistencies.localQuorum;
    this.serialConsistency = options.serialConsistency ?? types.consistencies.localSerial;
    this.nonceGraceMs = options.nonceGraceMs ?? 2_000;
    const ks = options.keyspace;
    const page = (order: "ASC" | "DESC") =>
      `SELECT ${COLUMNS} FROM ${ks}.messages WHERE channel_id = ? AND bucket = ? AND message_id >= ? AND message_id <= ? ORDER BY message_id ${order} LIMIT ?`;
    const buckets = (order: "ASC" | "DESC") =>
      `SELECT bucket FROM ${ks}.channel_buckets WHERE channel_id = ? AND bucket >= ? AND bucket <= ? ORDER BY bucket ${order}`;
    const nonceKey = "channel_id = ? AND author_id = ? AND nonce = ?";
    this.q = {
      insert: `INSERT INTO ${ks}.messages (channel_id, bucket, ${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      get: `SELECT ${COLUMNS} FROM ${ks}.messages WHERE channel_id = ? AND bucket = ? AND message_id = ?`,
      getMany: `SELECT ${COLUMNS} FROM ${ks}.messages WHERE channel_id = ? AND bucket = ? AND message_id IN ?`,
      pageDesc: page("DESC"),
      pageAsc: page("ASC"),
      authorScan: `SELECT message_id, author_id FROM ${ks}.messages WHERE channel_id = ? AND bucket = ? AND message_id >= ? AND message_id <= ? ORDER BY message_id DESC`,
      edit: `UPDATE ${ks}.messages SET content = ?, mention_ids = ?, edited_at = ? WHERE channel_id = ? AND bucket = ? AND message_id = ? IF EXISTS`,
      delete: `DELETE FROM ${ks}.messages WHERE channel_id = ? AND bucket = ? AND message_id = ? IF EXISTS`,
      deleteRow: `DELETE FROM ${ks}.messages WHERE channel_id = ? AND bucket = ? AND message_id = ?`,
      deleteBucket: `DELETE FROM ${ks}.messages WHERE channel_id = ? AND bucket = ?`,
      addBucket: `INSERT INTO ${ks}.channel_buckets (channel_id, bucket) VALUES (?, ?)`,
      bucketsDesc: buckets("DESC"),
      bucketsAsc: buckets("ASC"),
      allBuckets: `SELECT bucket FROM ${ks}.channel_buckets WHERE channel_id = ?`,
      deleteBuckets: `DELETE FROM ${ks}.channel_buckets WHERE channel_id = ?`,
      claimNonce: `INSERT INTO ${ks}.message_nonces (channel_id, author_id, nonce, message_id) VALUES (?, ?, ?, ?) IF NOT EXISTS`,
      takeOverNonce: `UPDATE ${ks}.message_nonces SET message_id = ? WHERE ${nonceKey} IF message_id = ?`,
      releaseNonce: `DELETE FROM ${ks}.message_nonces WHERE ${nonceKey} IF message_id = ?`,
      readNonce: `SELECT message_id FROM ${ks}.message_nonces WHERE ${nonceKey}`,
    };
  }

  /** The store's defaults (prepared, its consistency levels) under `options`. */
  private queryOptions(options: QueryOptions & { isIdempotent: boolean }): QueryOptions {
    return { prepare: true, consistency: this.consistency, serialConsistency: this.serialConsistency, ...options };
  }

  /** Runs one statement; an outage of the cluster rejects with StoreUnavailableError (its cause the driver's error). */
  private async run(cql: string, params: unknown[], options: QueryOptions & { isIdempotent: boolean }): Promise<types.ResultSet> {
    try {
      return await this.client.execute(cql, params, this.queryOptions(options));
    } catch (error) {
      throw translateCassandraError(error);
    }
  }

  /** `run` for lightweight transactions and SERIAL reads: retries Paxos timeouts (see executeLwt). */
  private async runLwt(cql: string, params: unknown[], options: QueryOptions & { isIdempotent: boolean }): Promise<types.ResultSet> {
    try {
      return await executeLwt(this.client, cql, params, this.queryOptions(options));
    } catch (error) {
      throw translateCassandraError(error);
    }
  }

  private toRecord(channelId: bigint, row: types.Row): MessageRecord | null {
    const author = row.get("author_id") as Long | bigint | null;
    // A row without an author is the remnant of a deleted message (see the class JSDoc).
    if (author === null || author === undefined) return null;
    const replyTo = row.get("reply_to_id") as Long | bigint | null;
    const mentions = row.get("mention_ids") as (Long | bigint)[] | null;
    return {
      id: fromLong(row.get("message_id")),
      channelId,
      authorId: fromLong(author),
      content: (row.get("content") as string | null) ?? "",
      editedAt: (row.get("edited_at") as Date | null) ?? null,
      replyToId: replyTo === null || replyTo === undefined ? null : fromLong(replyTo),
      mentionIds: (mentions ?? []).map(fromLong),
      nonce: (row.get("nonce") as string | null) ?? null,
    };
  }

  /** Writes the bucket-index row for (channel, bucket) unless this instance already did. */
  private async ensureBucket(channelId: bigint, bucket: number): Promise<void> {
    const known = this.knownBuckets.get(channelId);
    if (known?.has(bucket)) return;
    await this.run(this.q.addBucket, [toLong(channelId), bucket], { isIdempotent: true });
    const set = known ?? new Set<number>();
    set.add(bucket);
    this.knownBuckets.delete(channelId);
    this.knownBuckets.set(channelId, set);
    if (this.knownBuckets.size > KNOWN_CHANNELS) this.knownBuckets.delete(this.knownBuckets.keys().next().value!);
  }

  /** The sends of one turn of the event loop are written to the driver together: one socket write for all (see same-turn.ts). */
  private readonly insert = sameTurn((message: MessageRecord) => this.insertNow(message));

  private insertNow(message: MessageRecord): Promise<types.ResultSet> {
    const unsetIfNull = <T>(value: T | null) => (value === null ? types.unset : value);
    return this.run(
      this.q.insert,
      [
        toLong(message.channelId),
        bucketOf(message.id),
        toLong(message.id),
        toLong(message.authorId),
        message.content,
        unsetIfNull(message.editedAt),
        message.replyToId === null ? types.unset : toLong(message.replyToId),
        // Unset rather than null or []: no tombstone for an absent value.
        message.mentionIds.length === 0 ? types.unset : message.mentionIds.map(toLong),
        unsetIfNull(message.nonce),
      ],
      { isIdempotent: true },
    );
  }

  async create(message: MessageRecord): Promise<CreateResult> {
    const record: MessageRecord = { ...message, mentionIds: [...message.mentionIds] };
    const bucket = bucketOf(message.id);
    if (message.nonce === null) {
      await this.ensureBucket(message.channelId, bucket);
      await this.insert(record);
      return { message: record, created: true };
    }
    const started = Date.now();
    const [claim] = await Promise.all([this.claimNonce(record, message.nonce), this.ensureBucket(message.channelId, bucket)]);
    if (claim) return { message: claim, created: false };
    try {
      await this.insert(record);
    } catch (error) {
      await this.releaseNonce(record, message.nonce).catch(() => {});
      throw error;
    }
    if (Date.now() - started > this.nonceGraceMs / 2) {
      // Slow enough that a racer may have judged our claim abandoned and taken it over.
      const rs = await this.runLwt(this.q.readNonce, this.nonceKey(record, message.nonce), { isIdempotent: true, consistency: this.serialConsistency });
      const holder = rs.first()?.get("message_id") as Long | null | undefined;
      if (holder !== null && holder !== undefined && fromLong(holder) !== record.id) {
        await this.run(this.q.deleteRow, [toLong(record.channelId), bucket, toLong(record.id)], { isIdempotent: true });
        const winner = await this.waitForMessage(record.channelId, fromLong(holder));
        if (winner) return { message: winner, created: false };
        throw new Error(`nonce ${JSON.stringify(message.nonce)} was taken over while message ${record.id} was being written; retry the send`);
      }
    }
    return { message: record, created: true };
  }

  private nonceKey(message: MessageRecord, nonce: string): unknown[] {
    return [toLong(message.channelId), toLong(message.authorId), nonce];
  }

  /**
   * Claims (channel, author, nonce) for `message`. Returns null when this message now holds the
   * nonce, or the earlier message that holds it.
   */
  private async claimNonce(message: MessageRecord, nonce: string): Promise<MessageRecord | null> {
    const key = this.nonceKey(message, nonce);
    const lwt = { isIdempotent: true };
    for (let attempt = 0; attempt < 5; attempt++) {
      const claim = await this.runLwt(this.q.claimNonce, [...key, toLong(message.id)], lwt);
      if (claim.wasApplied()) return null;
      let holder = (claim.first().get("message_id") as Long | null | undefined) ?? null;
      while (holder !== null) {
        // Our own id: a retried INSERT whose first attempt won.
        if (fromLong(holder) === message.id) return null;
        const first = await this.waitForMessage(message.channelId, fromLong(holder));
        if (first) return first;
        // The holder never appeared: take the abandoned claim over.
        const takeover = await this.runLwt(this.q.takeOverNonce, [toLong(message.id), ...key, holder], lwt);
        if (takeover.wasApplied()) return null;
        holder = (takeover.first()?.get("message_id") as Long | null | undefined) ?? null;
        if (++attempt >= 5) break;
      }
      // holder === null: the row was deleted (its message was deleted), so claim afresh.
    }
    throw new Error(`could not claim nonce ${JSON.stringify(nonce)} in channel ${message.channelId}: it kept changing hands; retry the send`);
  }

  /** Reads a message, polling for up to nonceGraceMs while it is not there (a racing writer). */
  private async waitForMessage(channelId: bigint, id: bigint): Promise<MessageRecord | null> {
    const deadline = Date.now() + this.nonceGraceMs;
    for (let delay = 5; ; delay = Math.min(delay * 2, 200)) {
      const found = await this.get(channelId, id);
      if (found || Date.now() >= deadline) return found;
      await sleep(Math.min(delay, Math.max(0, deadline - Date.now())));
    }
  }

  private async releaseNonce(message: MessageRecord, nonce: string): Promise<void> {
    await this.runLwt(this.q.releaseNonce, [...this.nonceKey(message, nonce), toLong(message.id)], { isIdempotent: true });
  }

  async get(channelId: bigint, id: bigint): Promise<MessageRecord | null> {
    const rs = await this.run(this.q.get, [toLong(channelId), bucketOf(id), toLong(id)], { isIdempotent: true });
    const row = rs.first();
    return row ? this.toRecord(channelId, row) : null;
  }

  async getMany(channelId: bigint, ids: readonly bigint[]): Promise<MessageRecord[]> {
    const byBucket = new Map<number, bigint[]>();
    for (const id of new Set(ids)) {
      const bucket = bucketOf(id);
      const list = byBucket.get(bucket);
      if (list) list.push(id);
      else byBucket.set(bucket, [id]);
    }
    const channel = toLong(channelId);
    const reads: Promise<types.ResultSet>[] = [];
    for (const [bucket, list] of byBucket) {
      // IN on the clustering key within one partition; chunks keep each request small.
      for (let i = 0; i < list.length; i += 100) {
        reads.push(this.run(this.q.getMany, [channel, bucket, list.slice(i, i + 100).map(toLong)], { isIdempotent: true }));
      }
    }
    const results = await Promise.all(reads);
    return results.flatMap((rs) => rs.rows.map((row) => this.toRecord(channelId, row)).filter((m): m is MessageRecord => m !== null));
  }

  async edit(channelId: bigint, id: bigint, patch: { content: string; mentionIds: bigint[]; editedAt: Date }): Promise<MessageRecord | null> {
    const rs = await this.runLwt(
      this.q.edit,
      [patch.content, patch.mentionIds.length === 0 ? null : patch.mentionIds.map(toLong), patch.editedAt, toLong(channelId), bucketOf(id), toLong(id)],
      // Retrying sets the same values again, still only if the row exists.
      { isIdempotent: true },
    );
    if (!rs.wasApplied()) return null;
    return this.get(channelId, id);
  }

  async delete(channelId: bigint, id: bigint): Promise<boolean> {
    const existing = await this.get(channelId, id);
    if (!existing) return false;
    // Not idempotent for the driver: a retry after a lost reply would report false.
    let deleted: boolean;
    try {
      const rs = await this.run(this.q.delete, [toLong(channelId), bucketOf(id), toLong(id)], { isIdempotent: false });
      deleted = rs.wasApplied();
    } catch (error) {
      // A Paxos timeout leaves the outcome unknown: a SERIAL read settles it (and finishes any
      // half-done round), then the delete is tried again if the row is still there.
      if (!isPaxosTimeout(error)) throw error;
      const row = (await this.runLwt(this.q.get, [toLong(channelId), bucketOf(id), toLong(id)], { isIdempotent: true, consistency: this.serialConsistency })).first();
      if (row && this.toRecord(channelId, row)) {
        deleted = (await this.runLwt(this.q.delete, [toLong(channelId), bucketOf(id), toLong(id)], { isIdempotent: true })).wasApplied();
      } else {
        deleted = true;
      }
    }
    if (!deleted) return false;
    if (existing.nonce !== null) await this.releaseNonce(existing, existing.nonce);
    return true;
  }

  async page(channelId: bigint, query: PageQuery): Promise<MessageRecord[]> {
    // Inclusive id bounds, clamped to the column's range.
    const lo = query.after === undefined ? MIN_LONG : query.after + 1n;
    const hi = query.before === undefined ? MAX_LONG : query.before - 1n;
    if (query.limit <= 0 || lo > hi || lo > MAX_LONG || hi < MIN_LONG) return [];
    const newest = query.from === "newest";
    const channel = toLong(channelId);
    const loBucket = bucketOf(lo);
    const hiBucket = bucketOf(hi);
    // The bucket the page most likely starts in, read while the index is fetched: saves a round
    // trip for active channels and costs an empty-partition read (a bloom-filter miss) otherwise.
    const guess = newest ? (query.before !== undefined ? hiBucket : bucketOf(snowflakeAt(Date.now()))) : query.after !== undefined ? loBucket : undefined;
    let speculative: { bucket: number; rows: Promise<MessageRecord[]> } | undefined;
    if (guess !== undefined && guess >= loBucket && guess <= hiBucket) {
      const rows = this.readBucket(channelId, channel, guess, lo, hi, query.limit, newest);
      rows.catch(() => {}); // awaited below if the guess was right; otherwise dropped
      speculative = { bucket: guess, rows };
    }
    const buckets = this.buckets(channel, loBucket, hiBucket, newest);
    const out: MessageRecord[] = [];
    try {
      for (let fan = 1; out.length < query.limit; fan = Math.min(fan * 2, MAX_FAN_OUT)) {
        const batch: number[] = [];
        for (let i = 0; i < fan; i++) {
          const next = await buckets.next();
          if (next.done) break;
          batch.push(next.value);
        }
        if (batch.length === 0) break;
        const need = query.limit - out.length;
        // Buckets are disjoint time ranges in page order, so concatenating keeps the order
        // (the speculative read may return more than `need`; the slice below drops the excess).
        const pages = await Promise.all(
          batch.map((bucket) => (speculative?.bucket === bucket ? speculative.rows : this.readBucket(channelId, channel, bucket, lo, hi, need, newest))),
        );
        for (const rows of pages) out.push(...rows);
      }
    } finally {
      await buckets.return(undefined);
    }
    return out.slice(0, query.limit);
  }

  /** The channel's non-empty buckets within [loBucket, hiBucket], in page order, fetched lazily. */
  private async *buckets(channel: bigint, loBucket: number, hiBucket: number, newest: boolean): AsyncGenerator<number, void, undefined> {
    let pageState: string | undefined;
    do {
      const rs = await this.run(newest ? this.q.bucketsDesc : this.q.bucketsAsc, [channel, loBucket, hiBucket], {
        isIdempotent: true,
        fetchSize: INDEX_FETCH,
        ...(pageState ? { pageState } : {}),
      });
      for (const row of rs.rows) yield row.get("bucket") as number;
      pageState = rs.pageState ?? undefined;
    } while (pageState);
  }

  /** Up to `need` messages of one bucket within [lo, hi], in page order. */
  private async readBucket(channelId: bigint, channel: bigint, bucket: number, lo: bigint, hi: bigint, need: number, newest: boolean): Promise<MessageRecord[]> {
    const found: MessageRecord[] = [];
    while (found.length < need && lo <= hi) {
      const limit = need - found.length;
      const rs = await this.run(newest ? this.q.pageDesc : this.q.pageAsc, [channel, bucket, toLong(lo), toLong(hi), limit], { isIdempotent: true, fetchSize: limit + 1 });
      for (const row of rs.rows) {
        const record = this.toRecord(channelId, row);
        if (record) found.push(record);
      }
      if (rs.rows.length < limit) break;
      // A full read that held author-less remnants: continue past the last row read.
      const last = fromLong(rs.rows.at(-1)!.get("message_id"));
      if (newest) hi = last - 1n;
      else lo = last + 1n;
    }
    return found;
  }

  /**
   * No secondary index or ALLOW FILTERING (a filtered page can scan a whole partition before
   * answering, and time out): the range's buckets come from the bucket index, newest first, so
   * only buckets the range covers that hold messages are read; each is read newest first in
   * pages of {@link AUTHOR_SCAN_FETCH} rows of (id, author), filtered here, stopping at the
   * `limit`-th match. Author-less remnants (see the class JSDoc) are skipped.
   */
  async findByAuthor(channelId: bigint, authorId: bigint, range: AuthorQuery): Promise<bigint[]> {
    // Inclusive id bounds, clamped to the column's range.
    const lo = range.after < MIN_LONG ? MIN_LONG : range.after + 1n;
    const hi = range.before === undefined || range.before > MAX_LONG ? MAX_LONG : range.before - 1n;
    if (range.limit <= 0 || lo > hi || lo > MAX_LONG || hi < MIN_LONG) return [];
    const channel = toLong(channelId);
    const bounds = [toLong(lo), toLong(hi)];
    const found: bigint[] = [];
    for await (const bucket of this.buckets(channel, bucketOf(lo), bucketOf(hi), true)) {
      let pageState: string | undefined;
      do {
        const rs = await this.run(this.q.authorScan, [channel, bucket, ...bounds], { isIdempotent: true, fetchSize: AUTHOR_SCAN_FETCH, ...(pageState ? { pageState } : {}) });
        for (const row of rs.rows) {
          const author = row.get("author_id") as Long | bigint | null;
          if (author === null || author === undefined || fromLong(author) !== authorId) continue;
          found.push(fromLong(row.get("message_id")));
          // Returning from inside the for-await closes the bucket walk.
          if (found.length >= range.limit) return found;
        }
        pageState = rs.pageState ?? undefined;
      } while (pageState);
    }
    return found;
  }

  async deleteChannel(channelId: bigint): Promise<void> {
    const channel = toLong(channelId);
    const buckets: number[] = [];
    let pageState: string | undefined;
    do {
      const rs = await this.run(this.q.allBuckets, [channel], { isIdempotent: true, fetchSize: 1_000, ...(pageState ? { pageState } : {}) });
      for (const row of rs.rows) buckets.push(row.get("bucket") as number);
      pageState = rs.pageState ?? undefined;
    } while (pageState);
    for (let i = 0; i < buckets.length; i += MAX_FAN_OUT) {
      await Promise.all(buckets.slice(i, i + MAX_FAN_OUT).map((bucket) => this.run(this.q.deleteBucket, [channel, bucket], { isIdempotent: true })));
    }
    // The index goes last, so an interrupted call can be repeated and still finds every bucket.
    await this.run(this.q.deleteBuckets, [channel], { isIdempotent: true });
    this.knownBuckets.delete(channelId);
  }
}
