import { Prisma } from "../generated/prisma/client.js";
import { readBatcher } from "./read-batcher.js";
import type { PrismaClient } from "./prisma/database.js";
import { bigintOf, type PreparedReads } from "./prisma/prepared-reads.js";
import {
  DEFAULT_DIRECT_MESSAGE_POLICY,
  type DirectMessagePolicy,
  type DirectMessageStanding,
  type PairState,
  type PresenceCircle,
  type RelationshipKind,
  type RelationshipLimits,
  type RelationshipRecord,
  type RelationshipSide,
  type RelationshipStore,
  type RelationshipWrite,
  type UserSettingsRecord,
} from "./relationship-store.js";
import { planTransition, type RelationshipOperation } from "./relationship-transitions.js";

type Tx = Parameters<Parameters<PrismaClient["$transaction"]>[0]>[0];


/**
 * Each user's friends, and the users on either side of a block with whom they share a guild (a
 * prepared read: every socket's presence registration). Friends from each user's own range of the
 * primary key; blocks both ways (the other side through the (other_id, kind) index), kept only
 * when the two share a guild: the user's memberships, each probed for the other through the
 * members primary key.
 */
const PRESENCE_CIRCLES = `SELECT user_id AS owner, other_id AS id, true AS friend FROM relationships WHERE user_id = ANY($1::bigint[]) AND kind = 'FRIEND'
  UNION ALL
  SELECT b.owner, b.id, false FROM (
    SELECT user_id AS owner, other_id AS id FROM relationships WHERE user_id = ANY($1::bigint[]) AND kind = 'BLOCKED'
    UNION
    SELECT other_id AS owner, user_id AS id FROM relationships WHERE other_id = ANY($1::bigint[]) AND kind = 'BLOCKED'
  ) b
  WHERE EXISTS (SELECT 1 FROM members m1 JOIN members m2 ON m2.guild_id = m1.guild_id AND m2.user_id = b.id WHERE m1.user_id = b.owner)`;
/** For writes no cap applies to (removals, unblocks): never refused for a count. */
const NO_LIMITS: RelationshipLimits = { maxFriends: Infinity, maxPending: Infinity, maxBlocks: Infinity };

const side = (row: { kind: RelationshipKind; since: Date } | undefined | null): RelationshipSide => (row ? { kind: row.kind, since: row.since } : null);

/**
 * {@link RelationshipStore} on Postgres through Prisma (embedded PGlite or a real server).
 *
 * Tables (prisma/schema.prisma): `relationships` (user_id, other_id) → kind, since, one row per
 * side; `user_settings`, a row only for users who changed a setting. A write on a pair runs in one
 * transaction that first locks both users' rows in id order (`FOR NO KEY UPDATE`, as guild joins
 * lock a user to count their guilds): every write touching a user waits for the one before, so
 * the pair read after the lock is the truth, and per-user counts (friends, requests, blocks) are
 * stable until the write commits. Rows that merely reference the users can still be inserted.
 */
export class PrismaRelationshipStore implements RelationshipStore {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly reads: PreparedReads,
  ) {}

  sendFriendRequest(userId: bigint, otherId: bigint, limits: RelationshipLimits): Promise<RelationshipWrite> {
    return this.write("request", userId, otherId, limits);
  }

  acceptFriendRequest(userId: bigint, otherId: bigint, limits: RelationshipLimits): Promise<RelationshipWrite> {
    return this.write("accept", userId, otherId, limits);
  }

  removeFriendRequest(userId: bigint, otherId: bigint): Promise<RelationshipWrite> {
    return this.write("remove-request", userId, otherId, NO_LIMITS);
  }

  removeFriend(userId: bigint, otherId: bigint): Promise<RelationshipWrite> {
    return this.write("remove-friend", userId, otherId, NO_LIMITS);
  }

  block(userId: bigint, otherId: bigint, limits: RelationshipLimits): Promise<RelationshipWrite> {
    return this.write("block", userId, otherId, limits);
  }

  unblock(userId: bigint, otherId: bigint): Promise<RelationshipWrite> {
    return this.write("unblock", userId, otherId, NO_LIMITS);
  }

  list(userId: bigint, page: { afterOtherId: bigint | null; limit: number }): Promise<RelationshipRecord[]> {
    return this.prisma.relationship.findMany({
      where: { userId, ...(page.afterOtherId === null ? {} : { otherId: { gt: page.afterOtherId } }) },
      orderBy: { otherId: "asc" },
      take: page.limit,
    });
  }

  async between(userId: bigint, otherIds: readonly bigint[]): Promise<Map<bigint, PairState>> {
    const ids = [...new Set(otherIds)].filter((id) => id !== userId);
    const result = new Map<bigint, PairState>(ids.map((id) => [id, { mine: null, theirs: null }]));
    if (ids.length === 0) return result;
    const rows = await this.prisma.relationship.findMany({
      where: { OR: [{ userId, otherId: { in: ids } }, { otherId: userId, userId: { in: ids } }] },
    });
    for (const row of rows) {
      if (row.userId === userId) result.get(row.otherId)!.mine = side(row);
      else result.get(row.userId)!.theirs = side(row);
    }
    return result;
  }

  /** Concurrent calls (users coming online together) are answered by one query per turn of the event loop. */
  presenceCircle(userId: bigint): Promise<PresenceCircle> {
    return this.presenceCircles(userId);
  }

  private readonly presenceCircles = readBatcher(
    async (userIds: bigint[]) => {
      const ids = userIds.map(String);
      const rows = await this.reads.rows<{ owner: string | bigint; id: string | bigint; friend: boolean }>("relationships.presence-circles", PRESENCE_CIRCLES, [ids]);
      const circles = new Map<bigint, PresenceCircle>();
      for (const row of rows) {
        const owner = bigintOf(row.owner);
        let circle = circles.get(owner);
        if (!circle) circles.set(owner, (circle = { friendIds: [], hiddenFromIds: [] }));
        (row.friend ? circle.friendIds : circle.hiddenFromIds).push(bigintOf(row.id));
      }
      return circles;
    },
    () => ({ friendIds: [], hiddenFromIds: [] }),
  );

  async directMessageStanding(userId: bigint, target: { otherId: bigint } | { channelId: bigint }): Promise<DirectMessageStanding | null> {
    const other =
      "otherId" in target
        ? Prisma.sql`SELECT id FROM users WHERE id = ${target.otherId}`
        : Prisma.sql`SELECT user_id AS id FROM channel_recipients WHERE channel_id = ${target.channelId} AND user_id <> ${userId} ORDER BY user_id LIMIT 1`;
    const rows = await this.prisma.$queryRaw<
      { id: bigint; mine_kind: RelationshipKind | null; mine_since: Date | null; theirs_kind: RelationshipKind | null; theirs_since: Date | null; policy: DirectMessagePolicy | null; shares_guild: boolean }[]
    >`
      SELECT t.id, m.kind::text AS mine_kind, m.since AS mine_since, o.kind::text AS theirs_kind, o.since AS theirs_since,
        s.allow_direct_messages_from::text AS policy,
        EXISTS (SELECT 1 FROM members a JOIN members b ON b.guild_id = a.guild_id AND b.user_id = t.id WHERE a.user_id = ${userId}) AS shares_guild
      FROM (${other}) t
      LEFT JOIN relationships m ON m.user_id = ${userId} AND m.other_id = t.id
      LEFT JOIN relationships o ON o.user_id = t.id AND o.other_id = ${userId}
      LEFT JOIN user_settings s ON s.user_id = t.id`;
    const row = rows[0];
    if (!row) return null;
    const at = (kind: RelationshipKind | null, since: Date | null): RelationshipSide => (kind === null ? null : { kind, since: new Date(since!) });
    return {
      otherId: BigInt(row.id),
      pair: { mine: at(row.mine_kind, row.mine_since), theirs: at(row.theirs_kind, row.theirs_since) },
      policy: row.policy ?? DEFAULT_DIRECT_MESSAGE_POLICY,
      sharesGuild: row.shares_guild,
    };
  }

  async getSettings(userId: bigint): Promise<UserSettingsRecord> {
    const row = await this.prisma.userSettings.findUnique({ where: { userId } });
    return { allowDirectMessagesFrom: row?.allowDirectMessagesFrom ?? DEFAULT_DIRECT_MESSAGE_POLICY };
  }

  async updateSettings(userId: bigint, patch: Partial<UserSettingsRecord>): Promise<UserSettingsRecord> {
    const row = await this.prisma.userSettings.upsert({ where: { userId }, create: { userId, ...patch }, update: { ...patch } });
    return { allowDirectMessagesFrom: row.allowDirectMessagesFrom };
  }

  /** One write on a pair: lock both users, read the pair, plan (relationship-transitions.ts), check caps, write. */
  private write(operation: RelationshipOperation, userId: bigint, otherId: bigint, limits: RelationshipLimits): Promise<RelationshipWrite> {
    if (userId === otherId) return Promise.reject(new Error("a relationship needs two different users"));
    return this.prisma.$transaction(async (tx): Promise<RelationshipWrite> => {
      // ORDER BY before the lock: rows are locked in id order, so two writes on one pair (or on
      // pairs sharing a user) queue up instead of deadlocking.
      const locked = await tx.$queryRaw<{ id: bigint }[]>`SELECT id FROM users WHERE id IN (${userId}, ${otherId}) ORDER BY id FOR NO KEY UPDATE`;
      const before = await readPair(tx, userId, otherId);
      if (locked.length < 2) return { status: "refused", reason: "unknown-user", before };
      const plan = planTransition(operation, before, limits);
      if ("refuse" in plan) return { status: "refused", ...plan.refuse, before };
      if ("unchanged" in plan) return { status: "done", changed: false, before, after: before };
      for (const check of plan.checks) {
        if (!Number.isFinite(check.limit)) continue;
        const count = await tx.relationship.count({ where: { userId: check.whose === "mine" ? userId : otherId, kind: check.kind } });
        if (count >= check.limit) return { status: "refused", reason: "limit", cap: check.cap, whose: check.whose, limit: check.limit, before };
      }
      const since = new Date();
      const sides: [bigint, bigint, RelationshipSide, RelationshipKind | null][] = [
        [userId, otherId, before.mine, plan.after.mine],
        [otherId, userId, before.theirs, plan.after.theirs],
      ];
      const after: RelationshipSide[] = [];
      for (const [owner, other, was, kind] of sides) {
        if ((was?.kind ?? null) === kind) {
          after.push(was);
          continue;
        }
        const key = { userId_otherId: { userId: owner, otherId: other } };
        if (kind === null) await tx.relationship.delete({ where: key });
        else await tx.relationship.upsert({ where: key, create: { userId: owner, otherId: other, kind, since }, update: { kind, since } });
        after.push(kind === null ? null : { kind, since });
      }
      return { status: "done", changed: true, before, after: { mine: after[0]!, theirs: after[1]! } };
    });
  }
}

/** Both sides of a pair as stored now. */
async function readPair(tx: Tx, userId: bigint, otherId: bigint): Promise<PairState> {
  const rows = await tx.relationship.findMany({
    where: { OR: [{ userId, otherId }, { userId: otherId, otherId: userId }] },
    select: { userId: true, kind: true, since: true },
  });
  return { mine: side(rows.find((r) => r.userId === userId)), theirs: side(rows.find((r) => r.userId === otherId)) };
}
