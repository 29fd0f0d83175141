import type { PrismaClient } from "./prisma/database.js";
import type { Ack, ReadStateStore } from "./read-state-store.js";

/**
 * Stands for "no pointer" in SQL, so that `message_id > bound` stays an index range condition
 * (an `OR after IS NULL` would not be). Message ids are snowflakes, never negative, so no
 * message sits at or below the smallest int8.
 */
const NO_POINTER = -(2n ** 63n);

/**
 * {@link ReadStateStore} on Postgres through Prisma (embedded PGlite or a real server).
 *
 * Tables (prisma/schema.prisma): `read_states` (user_id, channel_id) → last_read_message_id, and
 * `mentions` (user_id, channel_id, message_id). Every method is one SQL statement, batches
 * travelling as arrays through `unnest`, so an ack batch or a mention count over many channels
 * is one round trip.
 */
export class PrismaReadStateStore implements ReadStateStore {
  constructor(private readonly prisma: PrismaClient) {}

  async advance(acks: readonly Ack[]): Promise<void> {
    if (acks.length === 0) return;
    // One row per pair with its largest id: ON CONFLICT DO UPDATE may not touch a row twice in
    // one statement. Sorted, so concurrent batches lock their rows in the same order.
    const best = new Map<string, Ack>();
    for (const ack of acks) {
      const key = `${ack.userId}:${ack.channelId}`;
      const seen = best.get(key);
      if (!seen || ack.messageId > seen.messageId) best.set(key, ack);
    }
    const rows = [...best.values()].sort((a, b) => cmp(a.userId, b.userId) || cmp(a.channelId, b.channelId));
    const users = rows.map((r) => r.userId);
    const channels = rows.map((r) => r.channelId);
    const messages = rows.map((r) => r.messageId);
    // The upsert keeps the larger of the stored and the acked id (evaluated against the latest
    // committed row, so racing batches end at the max); RETURNING gives the pointer as it now
    // is, moved or not, and the mentions at or below it go in the same statement.
    await this.prisma.$executeRaw`
      WITH upserted AS (
        INSERT INTO read_states (user_id, channel_id, last_read_message_id)
        SELECT a.user_id, a.channel_id, a.message_id
        FROM unnest(${users}::bigint[], ${channels}::bigint[], ${messages}::bigint[]) WITH ORDINALITY AS a(user_id, channel_id, message_id, n)
        ORDER BY a.n
        ON CONFLICT (user_id, channel_id) DO UPDATE SET
          last_read_message_id = GREATEST(read_states.last_read_message_id, EXCLUDED.last_read_message_id),
          updated_at = CASE WHEN EXCLUDED.last_read_message_id > read_states.last_read_message_id
                            THEN now() ELSE read_states.updated_at END
        RETURNING user_id, channel_id, last_read_message_id
      )
      DELETE FROM mentions m
      USING upserted p
      WHERE m.user_id = p.user_id AND m.channel_id = p.channel_id AND m.message_id <= p.last_read_message_id`;
  }

  async pointers(userId: bigint, channelIds: readonly bigint[]): Promise<Map<bigint, bigint>> {
    if (channelIds.length === 0) return new Map();
    const rows = await this.prisma.readState.findMany({
      where: { userId, channelId: { in: [...new Set(channelIds)] } },
      select: { channelId: true, lastReadMessageId: true },
    });
    return new Map(rows.map((r) => [r.channelId, r.lastReadMessageId]));
  }

  async setMentions(channelId: bigint, messageId: bigint, userIds: readonly bigint[]): Promise<void> {
    const users = [...new Set(userIds)];
    // One statement: drop the users no longer mentioned, add the new ones (the two sets are
    // disjoint, so the insert never meets a row the delete removes).
    await this.prisma.$executeRaw`
      WITH dropped AS (
        DELETE FROM mentions
        WHERE channel_id = ${channelId} AND message_id = ${messageId} AND user_id <> ALL(${users}::bigint[])
      )
      INSERT INTO mentions (user_id, channel_id, message_id)
      SELECT u, ${channelId}, ${messageId} FROM unnest(${users}::bigint[]) AS u
      ON CONFLICT DO NOTHING`;
  }

  async countMentions(
    userId: bigint,
    channels: readonly { channelId: bigint; after: bigint | null }[],
    limit: number,
  ): Promise<Map<bigint, number>> {
    if (channels.length === 0) return new Map();
    const cap = Math.max(0, Math.floor(limit));
    const ids = channels.map((c) => c.channelId);
    const afters = channels.map((c) => c.after ?? NO_POINTER);
    // Per channel, a range scan of the primary key (user_id, channel_id, message_id) that stops
    // after `cap` rows: the cost is bounded by the cap, not by the backlog.
    const rows = await this.prisma.$queryRaw<{ channel_id: bigint; n: number }[]>`
      SELECT c.channel_id, counted.n
      FROM unnest(${ids}::bigint[], ${afters}::bigint[]) AS c(channel_id, after)
      CROSS JOIN LATERAL (
        SELECT count(*)::int AS n FROM (
          SELECT 1 FROM mentions m
          WHERE m.user_id = ${userId} AND m.channel_id = c.channel_id AND m.message_id > c.after
          LIMIT ${cap}::int
        ) capped
      ) counted`;
    return new Map(rows.map((r) => [r.channel_id, Number(r.n)]));
  }

  async deleteChannel(channelId: bigint): Promise<void> {
    await this.prisma.$executeRaw`
      WITH pointers AS (DELETE FROM read_states WHERE channel_id = ${channelId})
      DELETE FROM mentions WHERE channel_id = ${channelId}`;
  }
}

function cmp(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
