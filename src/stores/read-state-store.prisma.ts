import type { PrismaClient } from "./prisma/database.js";
import { BROAD_MENTION_SCAN, hasBroadMentions, type Ack, type BroadMentions, type MentionCountQuery, type ReadStateStore } from "./read-state-store.js";

/**
 * Stands for "no pointer" in SQL, so that `message_id > bound` stays an index range condition
 * (an `OR after IS NULL` would not be). Message ids are snowflakes, never negative, so no
 * message sits at or below the smallest int8.
 */
const NO_POINTER = -(2n ** 63n);

/**
 * {@link ReadStateStore} on Postgres through Prisma (embedded PGlite or a real server).
 *
 * Tables (prisma/schema.prisma): `read_states` (user_id, channel_id) → last_read_message_id,
 * `mentions` (user_id, channel_id, message_id), and `channel_broad_mentions` (channel_id,
 * message_id) → everyone, here, role_ids. Every method is one SQL statement, batches
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

  async setBroadMentions(channelId: bigint, messageId: bigint, broad: BroadMentions): Promise<void> {
    if (!hasBroadMentions(broad)) {
      await this.prisma.$executeRaw`DELETE FROM channel_broad_mentions WHERE channel_id = ${channelId} AND message_id = ${messageId}`;
      return;
    }
    const roleIds = [...new Set(broad.roleIds)];
    await this.prisma.$executeRaw`
      INSERT INTO channel_broad_mentions (channel_id, message_id, everyone, here, role_ids)
      VALUES (${channelId}, ${messageId}, ${broad.everyone}, ${broad.here}, ${roleIds}::bigint[])
      ON CONFLICT (channel_id, message_id) DO UPDATE SET
        everyone = EXCLUDED.everyone, here = EXCLUDED.here, role_ids = EXCLUDED.role_ids`;
  }

  async getBroadMentions(channelId: bigint, messageIds: readonly bigint[]): Promise<Map<bigint, BroadMentions>> {
    if (messageIds.length === 0) return new Map();
    const rows = await this.prisma.broadMention.findMany({
      where: { channelId, messageId: { in: [...new Set(messageIds)] } },
      select: { messageId: true, everyone: true, here: true, roleIds: true },
    });
    return new Map(rows.map((r) => [r.messageId, { everyone: r.everyone, here: r.here, roleIds: r.roleIds ?? [] }]));
  }

  async countMentions(userId: bigint, channels: readonly MentionCountQuery[], limit: number): Promise<Map<bigint, number>> {
    if (channels.length === 0) return new Map();
    const cap = Math.max(0, Math.floor(limit));
    const ids = channels.map((c) => c.channelId);
    const afters = channels.map((c) => c.after ?? NO_POINTER);
    const broad = channels.map((c) => c.roleIds !== undefined && c.roleIds !== null);
    // The user's roles per channel travel flat, keyed by the channel's position in the call (a
    // ragged bigint[][] is not a Postgres array).
    const roleOf = channels.flatMap((c, i) => (c.roleIds ?? []).map(() => i + 1));
    const roleIds = channels.flatMap((c) => [...(c.roleIds ?? [])]);
    // Per channel: the user's own mention rows (a range scan of the primary key, stopped after
    // `cap`), united with the broad mentions that reach them among the newest BROAD_MENTION_SCAN
    // after the pointer (a backward range scan of channel_broad_mentions' primary key). UNION
    // counts a message mentioning them both ways once; each side stopping at `cap` is enough
    // for min(cap, |union|) to be exact.
    const rows = await this.prisma.$queryRaw<{ channel_id: bigint; n: number }[]>`
      WITH roles AS (
        SELECT r.n, r.role_id FROM unnest(${roleOf}::int[], ${roleIds}::bigint[]) AS r(n, role_id)
      )
      SELECT c.channel_id, counted.n
      FROM unnest(${ids}::bigint[], ${afters}::bigint[], ${broad}::boolean[]) WITH ORDINALITY AS c(channel_id, after, broad, n)
      CROSS JOIN LATERAL (SELECT ARRAY(SELECT roles.role_id FROM roles WHERE roles.n = c.n) AS mine) held
      CROSS JOIN LATERAL (
        SELECT count(*)::int AS n FROM (
          SELECT u.message_id FROM (
            (SELECT m.message_id FROM mentions m
             WHERE m.user_id = ${userId} AND m.channel_id = c.channel_id AND m.message_id > c.after
             LIMIT ${cap}::int)
            UNION
            (SELECT b.message_id FROM (
               SELECT b.message_id, b.everyone, b.here, b.role_ids FROM channel_broad_mentions b
               WHERE c.broad AND b.channel_id = c.channel_id AND b.message_id > c.after
               ORDER BY b.message_id DESC
               LIMIT ${BROAD_MENTION_SCAN}::int
             ) b
             WHERE b.everyone OR b.here OR b.role_ids && held.mine
             LIMIT ${cap}::int)
          ) u
          LIMIT ${cap}::int
        ) capped
      ) counted`;
    return new Map(rows.map((r) => [r.channel_id, Number(r.n)]));
  }

  async deleteChannel(channelId: bigint): Promise<void> {
    await this.prisma.$executeRaw`
      WITH pointers AS (DELETE FROM read_states WHERE channel_id = ${channelId}),
           broad AS (DELETE FROM channel_broad_mentions WHERE channel_id = ${channelId})
      DELETE FROM mentions WHERE channel_id = ${channelId}`;
  }
}

function cmp(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
