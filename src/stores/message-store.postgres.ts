import type { PrismaClient } from "./prisma/database.js";
import { isUniqueViolation } from "./prisma/prisma-errors.js";
import type { AuthorQuery, CreateResult, MessageRecord, MessageStore, PageQuery } from "./message-store.js";

const FIELDS = {
  id: true, channelId: true, authorId: true, content: true, editedAt: true, replyToId: true, mentionIds: true, nonce: true,
} as const;

type Row = Omit<MessageRecord, "mentionIds"> & { mentionIds: bigint[] | null };
const toRecord = (row: Row): MessageRecord => ({ ...row, mentionIds: row.mentionIds ?? [] });

/**
 * {@link MessageStore} on Postgres (embedded PGlite or a real server). The table's primary key
 * is (channel_id, id), so a page is one range scan of that index; nonce idempotency is a unique
 * index on (channel_id, author_id, nonce), which also settles races between duplicate sends.
 */
export class PostgresMessageStore implements MessageStore {
  constructor(private readonly prisma: PrismaClient) {}

  async create(message: MessageRecord): Promise<CreateResult> {
    try {
      const row = await this.prisma.message.create({ data: message, select: FIELDS });
      return { message: toRecord(row), created: true };
    } catch (error) {
      if (message.nonce === null || !isUniqueViolation(error)) throw error;
      const first = await this.prisma.message.findUnique({
        where: { channelId_authorId_nonce: { channelId: message.channelId, authorId: message.authorId, nonce: message.nonce } },
        select: FIELDS,
      });
      // Null only if the first message was deleted in between; then the caller's send may retry.
      if (!first) throw error;
      return { message: toRecord(first), created: false };
    }
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

  async page(channelId: bigint, query: PageQuery): Promise<MessageRecord[]> {
    const id: { lt?: bigint; gt?: bigint } = {};
    if (query.before !== undefined) id.lt = query.before;
    if (query.after !== undefined) id.gt = query.after;
    const rows = await this.prisma.message.findMany({
      where: { channelId, ...(query.before !== undefined || query.after !== undefined ? { id } : {}) },
      orderBy: { id: query.from === "newest" ? "desc" : "asc" },
      take: query.limit,
      select: FIELDS,
    });
    return rows.map(toRecord);
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
