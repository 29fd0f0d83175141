import DataLoader from "dataloader";
import type { PreparedReads, PrismaClient } from "./prisma/database.js";
import { bigintOf, nullableBigintOf } from "./prisma/prepared-reads.js";
import type { AuthorQuery, CreateResult, MessageRecord, MessageStore, PageQuery } from "./message-store.js";

const FIELDS = {
  id: true, channelId: true, authorId: true, content: true, editedAt: true, replyToId: true, mentionIds: true, nonce: true,
} as const;

type Row = Omit<MessageRecord, "mentionIds"> & { mentionIds: bigint[] | null };
const toRecord = (row: Row): MessageRecord => ({ ...row, mentionIds: row.mentionIds ?? [] });

type Int8 = string | bigint;
/** A `messages` row as {@link PreparedReads} returns it. */
interface SqlRow {
  id: Int8;
  channel_id: Int8;
  author_id: Int8;
  content: string;
  edited_at: Date | null;
  reply_to_id: Int8 | null;
  mention_ids: Int8[] | null;
  nonce: string | null;
}
const fromSql = (row: SqlRow): MessageRecord => ({
  id: bigintOf(row.id),
  channelId: bigintOf(row.channel_id),
  authorId: bigintOf(row.author_id),
  content: row.content,
  editedAt: row.edited_at,
  replyToId: nullableBigintOf(row.reply_to_id),
  mentionIds: row.mention_ids?.map(bigintOf) ?? [],
  nonce: row.nonce,
});

const COLUMNS = "id, channel_id, author_id, content, edited_at, reply_to_id, mention_ids, nonce";
/** A null nonce never conflicts (NULLs are distinct in the unique index); a primary-key clash still raises. */
const INSERT = `INSERT INTO messages (channel_id, id, author_id, content, edited_at, reply_to_id, mention_ids, nonce) VALUES ($1, $2, $3, $4, $5, $6, $7::bigint[], $8) ON CONFLICT (channel_id, author_id, nonce) DO NOTHING RETURNING ${COLUMNS}`;
/**
 * Many sends in one statement (group commit): one round trip, one transaction and one WAL flush
 * for every send that reached the store in the same turn of the event loop. Arrays in, a row per
 * element; `mention_ids` travels as array literals (`{1,2}`), since unnest flattens a 2-D array.
 * Duplicate nonces inside one batch are fine: DO NOTHING skips the later rows.
 */
const INSERT_MANY = `INSERT INTO messages (channel_id, id, author_id, content, edited_at, reply_to_id, mention_ids, nonce)
  SELECT c, i, a, t, e, r, m::bigint[], n FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::text[], $5::timestamptz[], $6::bigint[], $7::text[], $8::text[]) AS u(c, i, a, t, e, r, m, n)
  ON CONFLICT (channel_id, author_id, nonce) DO NOTHING RETURNING ${COLUMNS}`;
/** Most sends one INSERT_MANY carries. */
const MAX_INSERT_BATCH = 200;
const BY_NONCE = `SELECT ${COLUMNS} FROM messages WHERE channel_id = $1 AND author_id = $2 AND nonce = $3`;

/**
 * The page statements, one text per shape (which bounds, which end first), so that each keeps an
 * index range scan of the primary key (channel_id, id) as its plan, generic or custom.
 */
function pageStatement(query: PageQuery): { name: string; text: string } {
  const bounds: string[] = [];
  if (query.before !== undefined) bounds.push(`id < $${bounds.length + 3}`);
  if (query.after !== undefined) bounds.push(`id > $${bounds.length + 3}`);
  const order = query.from === "newest" ? "DESC" : "ASC";
  return {
    name: `messages.page.${order}.${query.before !== undefined ? "b" : ""}${query.after !== undefined ? "a" : ""}`,
    text: `SELECT ${COLUMNS} FROM messages WHERE channel_id = $1${bounds.map((b) => ` AND ${b}`).join("")} ORDER BY id ${order} LIMIT $2`,
  };
}

/**
 * {@link MessageStore} on Postgres (embedded PGlite or a real server). The table's primary key
 * is (channel_id, id), so a page is one range scan of that index; nonce idempotency is a unique
 * index on (channel_id, author_id, nonce), which also settles races between duplicate sends.
 */
export class PostgresMessageStore implements MessageStore {
  /** Sends of one turn of the event loop, inserted together (see {@link insertBatch}). */
  private readonly inserts: DataLoader<MessageRecord, SqlRow | null>;

  constructor(
    private readonly prisma: PrismaClient,
    private readonly reads: PreparedReads,
  ) {
    this.inserts = new DataLoader((batch) => this.insertBatch(batch), { cache: false, maxBatchSize: MAX_INSERT_BATCH, batchScheduleFn: (run) => setImmediate(run) });
  }

  /**
   * Group commit: the sends that reach the store in one turn of the event loop are one INSERT
   * (prepared, skipping Prisma's engine; see prepared-reads.ts), so a busy instance pays one
   * round trip and one commit for many sends, and a lone send waits one turn. Each call resolves
   * only once its row is committed. A repeated nonce inserts nothing and returns the first
   * message; if that one was deleted in between, the insert is tried once more, alone (then it
   * succeeds: nothing conflicts). A batch that fails as a whole is retried row by row, so one
   * bad row fails only its own send.
   */
  async create(message: MessageRecord): Promise<CreateResult> {
    const inserted = await this.inserts.load(message);
    if (inserted) return { message: fromSql(inserted), created: true };
    for (let attempt = 0; ; attempt++) {
      const [first] = await this.reads.rows<SqlRow>("messages.by_nonce", BY_NONCE, [String(message.channelId), String(message.authorId), message.nonce]);
      if (first) return { message: fromSql(first), created: false };
      if (attempt === 1) throw new Error(`message ${message.id}: its nonce conflicted twice with a message that was deleted meanwhile`);
      const [again] = await this.insertOne(message);
      if (again) return { message: fromSql(again), created: true };
    }
  }

  /** One row per message in `batch`, in order: the inserted row, null where its nonce conflicted, or the Error of that message alone. */
  private async insertBatch(batch: readonly MessageRecord[]): Promise<(SqlRow | null | Error)[]> {
    if (batch.length === 1) return [(await this.insertOne(batch[0]!))[0] ?? null];
    let rows: SqlRow[];
    try {
      rows = await this.reads.rows<SqlRow>("messages.insert-many", INSERT_MANY, [
        batch.map((m) => String(m.channelId)),
        batch.map((m) => String(m.id)),
        batch.map((m) => String(m.authorId)),
        batch.map((m) => m.content),
        batch.map((m) => m.editedAt),
        batch.map((m) => (m.replyToId === null ? null : String(m.replyToId))),
        batch.map((m) => `{${m.mentionIds.join(",")}}`),
        batch.map((m) => m.nonce),
      ]);
    } catch {
      // One row broke the statement (a channel deleted meanwhile, say): each send on its own.
      return Promise.all(batch.map((m) => this.insertOne(m).then((inserted) => inserted[0] ?? null, (error: unknown) => (error instanceof Error ? error : new Error(String(error))))));
    }
    const byId = new Map(rows.map((row) => [String(row.id), row]));
    return batch.map((m) => byId.get(String(m.id)) ?? null);
  }

  private insertOne(message: MessageRecord): Promise<SqlRow[]> {
    return this.reads.rows<SqlRow>("messages.insert", INSERT, [
      String(message.channelId),
      String(message.id),
      String(message.authorId),
      message.content,
      message.editedAt,
      message.replyToId === null ? null : String(message.replyToId),
      message.mentionIds.map(String),
      message.nonce,
    ]);
  }

  async get(channelId: bigint, id: bigint): Promise<MessageRecord | null> {
    const row = await this.prisma.message.findUnique({ where: { channelId_id: { channelId, id } }, select: FIELDS });
    return row ? toRecord(row) : null;
  }

  async getMany(channelId: bigint, ids: readonly bigint[]): Promise<MessageRecord[]> {
    if (ids.length === 0) return [];
    const rows = await this.prisma.message.findMany({ where: { channelId, id: { in: [...ids] } }, select: FIELDS });
    return rows.map(toRecord);
  }

  async edit(channelId: bigint, id: bigint, patch: { content: string; mentionIds: bigint[]; editedAt: Date }): Promise<MessageRecord | null> {
    const { count } = await this.prisma.message.updateMany({ where: { channelId, id }, data: patch });
    return count === 0 ? null : this.get(channelId, id);
  }

  async delete(channelId: bigint, id: bigint): Promise<boolean> {
    const { count } = await this.prisma.message.deleteMany({ where: { channelId, id } });
    return count > 0;
  }

  /** One prepared statement (see prepared-reads.ts): scroll-back runs it for every page view. */
  async page(channelId: bigint, query: PageQuery): Promise<MessageRecord[]> {
    const { name, text } = pageStatement(query);
    const values: unknown[] = [String(channelId), query.limit];
    if (query.before !== undefined) values.push(String(query.before));
    if (query.after !== undefined) values.push(String(query.after));
    const rows = await this.reads.rows<SqlRow>(name, text, values);
    return rows.map(fromSql);
  }

  /**
   * The planner serves it from the primary key (channel_id, id) range or the (channel_id,
   * author_id, nonce) unique index, whichever it estimates cheaper; both bound the read to one
   * channel. (No index on (channel_id, author_id, id): purges are rare, sends are not.)
   */
  async findByAuthor(channelId: bigint, authorId: bigint, range: AuthorQuery): Promise<bigint[]> {
    if (range.limit <= 0) return [];
    const rows = await this.prisma.message.findMany({
      where: { channelId, authorId, id: { gt: range.after, ...(range.before === undefined ? {} : { lt: range.before }) } },
      orderBy: { id: "desc" },
      take: range.limit,
      select: { id: true },
    });
    return rows.map((row) => row.id);
  }

  async deleteChannel(channelId: bigint): Promise<void> {
    await this.prisma.message.deleteMany({ where: { channelId } });
  }
}
