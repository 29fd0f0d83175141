import type { PrismaClient } from "./prisma/database.js";
import { bigintOf, type PreparedReads } from "./prisma/prepared-reads.js";
import { readBatcher } from "./read-batcher.js";
import { DEFAULT_EVERYONE_PERMISSIONS } from "../permissions/permission-set.js";
import { CHANNEL_FIELDS } from "./channel-store.prisma.js";
import { isForeignKeyViolation, isUniqueViolation } from "./prisma/prisma-errors.js";
import { LimitReachedError, MissingReferenceError } from "./store-errors.js";
import type { GuildRecord, GuildStore, InviteRecord, MemberPageQuery, MemberRecord, NewGuild, RedeemResult, TimeoutRecord } from "./guild-store.js";
import type { AuditActor } from "./audit-log-store.js";
import { change } from "./audit-log-store.js";
import { recordAudit } from "./audit-log-store.prisma.js";

type Tx = Parameters<Parameters<PrismaClient["$transaction"]>[0]>[0];


/** Each user's guilds with their sizes, in join order (every socket's presence registration; a prepared read). */
const GUILD_SIZES_OF_USERS = `SELECT m.user_id, m.guild_id, g.member_count FROM members m JOIN guilds g ON g.id = m.guild_id
  WHERE m.user_id = ANY($1::bigint[]) ORDER BY m.user_id, m.joined_at, m.guild_id`;
/**
 * How many guilds `userId` belongs to, with the user's row locked until the transaction ends, so
 * that one user's concurrent creates and joins count one after another. NO KEY UPDATE, not
 * UPDATE: rows that merely reference the user (sessions, messages) can still be inserted.
 */
async function lockedGuildCount(tx: Tx, userId: bigint): Promise<number> {
  await tx.$queryRaw`SELECT id FROM users WHERE id = ${userId} FOR NO KEY UPDATE`;
  return tx.member.count({ where: { userId } });
}

/** {@link GuildStore} on Postgres through Prisma (embedded PGlite or a real server). */
/** Thrown inside a join's transaction to roll it back: the user is banned. */
class Banned extends Error {}

export class PrismaGuildStore implements GuildStore {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly reads: PreparedReads,
  ) {}

  async createGuild(input: NewGuild) {
    return this.prisma.$transaction(async (tx) => {
      if (input.maxGuildsPerUser !== undefined && (await lockedGuildCount(tx, input.ownerId)) >= input.maxGuildsPerUser) {
        throw new LimitReachedError("guildsPerUser", input.maxGuildsPerUser);
      }
      const guild = await tx.guild.create({ data: { id: input.id, name: input.name, ownerId: input.ownerId, memberCount: 1 } });
      await tx.member.create({ data: { guildId: input.id, userId: input.ownerId } });
      await tx.role.create({
        data: { id: input.id, guildId: input.id, name: "@everyone", permissions: input.everyonePermissions ?? DEFAULT_EVERYONE_PERMISSIONS, position: 0 },
      });
      const channel = await tx.channel.create({
        data: { id: input.firstChannel.id, kind: "GUILD_TEXT", guildId: input.id, name: input.firstChannel.name, position: 0 },
        select: CHANNEL_FIELDS,
      });
      return { guild, channel };
    });
  }

  getGuilds(ids: readonly bigint[]): Promise<GuildRecord[]> {
    if (ids.length === 0) return Promise.resolve([]);
    return this.prisma.guild.findMany({ where: { id: { in: [...ids] } } });
  }

  async renameGuild(id: bigint, name: string, audit?: AuditActor): Promise<GuildRecord | null> {
    return this.prisma.$transaction(async (tx) => {
      const before = await tx.$queryRaw<{ name: string }[]>`SELECT name FROM guilds WHERE id = ${id} FOR UPDATE`;
      if (before.length === 0) return null;
      const guild = await tx.guild.update({ where: { id }, data: { name } });
      if (before[0]!.name !== name) await recordAudit(tx, audit, { guildId: id, action: "GUILD_UPDATE", targetKind: "GUILD", targetId: id, changes: [change("name", before[0]!.name, name)] });
      return guild;
    });
  }

  async deleteGuild(id: bigint): Promise<{ channelIds: bigint[] } | null> {
    return this.prisma.$transaction(async (tx) => {
      const channels = await tx.channel.findMany({ where: { guildId: id }, select: { id: true } });
      const { count } = await tx.guild.deleteMany({ where: { id } });
      return count === 0 ? null : { channelIds: channels.map((c) => c.id) };
    });
  }

  getMember(guildId: bigint, userId: bigint): Promise<MemberRecord | null> {
    return this.prisma.member.findUnique({ where: { guildId_userId: { guildId, userId } } });
  }

  async listGuildIdsOfUser(userId: bigint): Promise<bigint[]> {
    const rows = await this.prisma.member.findMany({ where: { userId }, orderBy: [{ joinedAt: "asc" }, { guildId: "asc" }], select: { guildId: true } });
    return rows.map((r) => r.guildId);
  }

  /** Concurrent calls (users coming online together) are answered by one query per turn of the event loop. */
  listGuildSizesOfUser(userId: bigint): Promise<{ guildId: bigint; memberCount: number }[]> {
    return this.guildSizesOfUser(userId);
  }

  private readonly guildSizesOfUser = readBatcher(
    async (userIds: bigint[]) => {
      const rows = await this.reads.rows<{ user_id: string | bigint; guild_id: string | bigint; member_count: number }>("members.guild-sizes", GUILD_SIZES_OF_USERS, [userIds.map(String)]);
      const byUser = new Map<bigint, { guildId: bigint; memberCount: number }[]>();
      for (const r of rows) {
        const userId = bigintOf(r.user_id);
        let list = byUser.get(userId);
        if (!list) byUser.set(userId, (list = []));
        list.push({ guildId: bigintOf(r.guild_id), memberCount: Number(r.member_count) });
      }
      return byUser;
    },
    () => [],
  );

  async filterGuildmates(userId: bigint, userIds: readonly bigint[]): Promise<bigint[]> {
    if (userIds.length === 0) return [];
    const candidates = [...new Set(userIds)];
    // The user's memberships (index on user_id), each probed for the candidates through the
    // primary key (guild_id, user_id): the cost follows the user's guild count and the list
    // length, never the guilds' sizes.
    const rows = await this.prisma.$queryRaw<{ user_id: bigint }[]>`
      SELECT DISTINCT m2.user_id
      FROM members m1
      JOIN members m2 ON m2.guild_id = m1.guild_id
      WHERE m1.user_id = ${userId} AND m2.user_id = ANY(${candidates}::bigint[])`;
    return rows.map((r) => r.user_id);
  }

  listMembers(guildId: bigint, page: MemberPageQuery): Promise<MemberRecord[]> {
    // Both ends of the walk are the primary key (guild_id, user_id): an index range scan either way.
    const after = page.afterUserId == null ? {} : { gt: page.afterUserId };
    const before = page.beforeUserId == null ? {} : { lt: page.beforeUserId };
    return this.prisma.member.findMany({
      where: { guildId, userId: { ...after, ...before } },
      orderBy: { userId: page.from === "last" ? "desc" : "asc" },
      take: page.limit,
    });
  }

  async createInvite(invite: Omit<InviteRecord, "uses" | "createdAt">, audit?: AuditActor): Promise<InviteRecord> {
    try {
      return await this.prisma.$transaction(async (tx) => {
        const created = await tx.invite.create({ data: invite });
        await recordAudit(tx, audit, {
          guildId: invite.guildId,
          action: "INVITE_CREATE",
          targetKind: "INVITE",
          targetId: invite.code,
          changes: [change("code", undefined, invite.code), change("max_uses", undefined, invite.maxUses), change("expires_at", undefined, invite.expiresAt)],
        });
        return created;
      });
    } catch (error) {
      // The only foreign key an invite has is its guild's (inviter_id has none).
      if (isForeignKeyViolation(error)) throw new MissingReferenceError("guild");
      throw error;
    }
  }

  listInvites(guildId: bigint, page: { beforeCreatedAt: Date | null; beforeCode: string | null; limit: number }): Promise<InviteRecord[]> {
    const before =
      page.beforeCreatedAt === null || page.beforeCode === null
        ? {}
        : { OR: [{ createdAt: { lt: page.beforeCreatedAt } }, { createdAt: page.beforeCreatedAt, code: { lt: page.beforeCode } }] };
    return this.prisma.invite.findMany({ where: { guildId, ...before }, orderBy: [{ createdAt: "desc" }, { code: "desc" }], take: page.limit });
  }

  getInvite(code: string): Promise<InviteRecord | null> {
    return this.prisma.invite.findUnique({ where: { code } });
  }

  async revokeInvite(guildId: bigint, code: string, audit?: AuditActor): Promise<boolean> {
    return this.prisma.$transaction(async (tx) => {
      const gone = await tx.$queryRaw<{ uses: number; inviter_id: bigint }[]>`
        DELETE FROM invites WHERE guild_id = ${guildId} AND code = ${code} RETURNING uses, inviter_id`;
      const invite = gone[0];
      if (!invite) return false;
      await recordAudit(tx, audit, {
        guildId,
        action: "INVITE_DELETE",
        targetKind: "INVITE",
        targetId: code,
        changes: [change("code", code, undefined), change("uses", invite.uses, undefined), change("inviter_id", invite.inviter_id, undefined)],
      });
      return true;
    });
  }

  async redeemInvite(code: string, userId: bigint, now: Date, options: { maxGuildsPerUser?: number } = {}): Promise<RedeemResult> {
    try {
      return await this.redeemOnce(code, userId, now, options.maxGuildsPerUser);
    } catch (error) {
      // Two joins by the same user raced: the loser's INSERT hit the membership key.
      if (!isUniqueViolation(error)) throw error;
      const invite = await this.prisma.invite.findUnique({ where: { code }, include: { guild: true } });
      if (!invite) return { status: "unknown" };
      return { status: "already-member", guild: invite.guild };
    }
  }

  private async redeemOnce(code: string, userId: bigint, now: Date, maxGuildsPerUser: number | undefined): Promise<RedeemResult> {
    try {
      return await this.joinOnce(code, userId, now, maxGuildsPerUser);
    } catch (error) {
      if (error instanceof Banned) return { status: "banned" };
      throw error;
    }
  }

  private joinOnce(code: string, userId: bigint, now: Date, maxGuildsPerUser: number | undefined): Promise<RedeemResult> {
    return this.prisma.$transaction(async (tx): Promise<RedeemResult> => {
      const invite = await tx.invite.findUnique({ where: { code } });
      if (!invite) return { status: "unknown" };
      const existing = await tx.member.findUnique({ where: { guildId_userId: { guildId: invite.guildId, userId } } });
      if (existing) {
        const guild = await tx.guild.findUniqueOrThrow({ where: { id: invite.guildId } });
        return { status: "already-member", guild };
      }
      if (invite.expiresAt !== null && invite.expiresAt <= now) return { status: "expired" };
      if (maxGuildsPerUser !== undefined && (await lockedGuildCount(tx, userId)) >= maxGuildsPerUser) return { status: "guild-limit", limit: maxGuildsPerUser };
      // The use is counted with a guarded UPDATE, so concurrent joins cannot exceed maxUses.
      const { count } = await tx.invite.updateMany({
        where: { code, ...(invite.maxUses === null ? {} : { uses: { lt: invite.maxUses } }) },
        data: { uses: { increment: 1 } },
      });
      if (count === 0) return { status: "exhausted" };
      const member = await tx.member.create({ data: { guildId: invite.guildId, userId } });
      const guild = await tx.guild.update({ where: { id: invite.guildId }, data: { memberCount: { increment: 1 } } });
      // Checked holding the guild row's lock (the update above took it), which banMember takes
      // first: a ban committed before this point is seen here, and a later one removes this join.
      // Throwing rolls back the membership and the invite use.
      if (await tx.ban.findUnique({ where: { guildId_userId: { guildId: invite.guildId, userId } }, select: { userId: true } })) throw new Banned();
      return { status: "joined", guild, member };
    });
  }

  async banMember(input: { guildId: bigint; userId: bigint; moderatorId: bigint; reason: string | null }, audit?: AuditActor) {
    const { guildId, userId } = input;
    return this.prisma.$transaction(async (tx) => {
      const locked = await tx.$queryRaw<{ id: bigint }[]>`SELECT id FROM guilds WHERE id = ${guildId} FOR UPDATE`;
      if (locked.length === 0) return null;
      if (!(await tx.user.findUnique({ where: { id: userId }, select: { id: true } }))) return null;
      const standing = await tx.ban.findUnique({ where: { guildId_userId: { guildId, userId } } });
      if (standing) return { ban: standing, removedMember: false, guild: await tx.guild.findUniqueOrThrow({ where: { id: guildId } }) };
      const ban = await tx.ban.create({ data: { guildId, userId, moderatorId: input.moderatorId, reason: input.reason } });
      const { count } = await tx.member.deleteMany({ where: { guildId, userId } });
      const guild = count === 0 ? await tx.guild.findUniqueOrThrow({ where: { id: guildId } }) : await tx.guild.update({ where: { id: guildId }, data: { memberCount: { decrement: 1 } } });
      await recordAudit(tx, audit, { guildId, action: "MEMBER_BAN_ADD", targetKind: "USER", targetId: userId, changes: [] });
      return { ban, removedMember: count > 0, guild };
    });
  }

  async unbanMember(guildId: bigint, userId: bigint, audit?: AuditActor): Promise<boolean> {
    return this.prisma.$transaction(async (tx) => {
      const { count } = await tx.ban.deleteMany({ where: { guildId, userId } });
      if (count > 0) await recordAudit(tx, audit, { guildId, action: "MEMBER_BAN_REMOVE", targetKind: "USER", targetId: userId, changes: [] });
      return count > 0;
    });
  }

  async setMemberTimeout(
    input: { guildId: bigint; userId: bigint; until: Date | null; moderatorId: bigint; reason: string | null; now: Date },
    audit?: AuditActor,
  ): Promise<{ timeout: TimeoutRecord | null } | "not-member"> {
    const { guildId, userId, now } = input;
    // A timeout that would already be over is no timeout: the same as lifting it.
    const until = input.until !== null && input.until > now ? input.until : null;
    return this.prisma.$transaction(async (tx) => {
      const existing = await tx.memberTimeout.findUnique({ where: { guildId_userId: { guildId, userId } } });
      const standing = existing && existing.until > now ? existing.until : null;
      let timeout: TimeoutRecord | null = null;
      if (until === null) {
        if (existing) await tx.memberTimeout.delete({ where: { guildId_userId: { guildId, userId } } });
      } else {
        if (!(await tx.member.findUnique({ where: { guildId_userId: { guildId, userId } }, select: { userId: true } }))) return "not-member" as const;
        const data = { until, moderatorId: input.moderatorId, reason: input.reason };
        timeout = await tx.memberTimeout.upsert({ where: { guildId_userId: { guildId, userId } }, create: { guildId, userId, ...data }, update: data });
      }
      if (standing?.getTime() !== until?.getTime()) {
        await recordAudit(tx, audit, { guildId, action: "MEMBER_UPDATE", targetKind: "USER", targetId: userId, changes: [change("communication_disabled_until", standing, until)] });
      }
      return { timeout: timeout && { guildId, userId, until: timeout.until, moderatorId: timeout.moderatorId, reason: timeout.reason } };
    });
  }

  listBans(guildId: bigint, page: { afterUserId: bigint | null; limit: number }) {
    return this.prisma.ban.findMany({
      where: { guildId, ...(page.afterUserId === null ? {} : { userId: { gt: page.afterUserId } }) },
      orderBy: { userId: "asc" },
      take: page.limit,
    });
  }

  async transferOwnership(guildId: bigint, fromUserId: bigint, toUserId: bigint, audit?: AuditActor): Promise<GuildRecord | null> {
    return this.prisma.$transaction(async (tx) => {
      const rows = await tx.$queryRaw<{ id: bigint }[]>`
        UPDATE guilds SET owner_id = ${toUserId}
        WHERE id = ${guildId} AND owner_id = ${fromUserId}
          AND EXISTS (SELECT 1 FROM members WHERE guild_id = ${guildId} AND user_id = ${toUserId})
        RETURNING id`;
      if (rows.length === 0) return null;
      if (fromUserId !== toUserId) {
        await recordAudit(tx, audit, { guildId, action: "GUILD_UPDATE", targetKind: "GUILD", targetId: guildId, changes: [change("owner_id", fromUserId, toUserId)] });
      }
      return tx.guild.findUnique({ where: { id: guildId } });
    });
  }

  async removeMember(guildId: bigint, userId: bigint, audit?: AuditActor): Promise<boolean> {
    return this.prisma.$transaction(async (tx) => {
      const { count } = await tx.member.deleteMany({ where: { guildId, userId } });
      if (count === 0) return false;
      await tx.guild.update({ where: { id: guildId }, data: { memberCount: { decrement: 1 } } });
      await recordAudit(tx, audit, { guildId, action: "MEMBER_KICK", targetKind: "USER", targetId: userId, changes: [] });
      return true;
    });
  }
}
