import type { GuildAccess, Overwrite, RoleRank } from "../permissions/compute.js";
import type { ChannelRecord } from "./channel-store.js";
import type { PreparedReads, PrismaClient } from "./prisma/database.js";
import { bigintOf } from "./prisma/prepared-reads.js";
import { isForeignKeyViolation } from "./prisma/prisma-errors.js";
import type { OverwriteRecord, PermissionStore, RolePatch, RoleRecord } from "./permission-store.js";
import { LimitReachedError, MissingReferenceError } from "./store-errors.js";
import { auditedOverwrite, change, diff, removedFields, type AuditActor } from "./audit-log-store.js";
import { recordAudit } from "./audit-log-store.prisma.js";

const ROLE_FIELDS = { id: true, guildId: true, name: true, permissions: true, position: true, color: true, hoist: true, mentionable: true, createdAt: true } as const;

type Tx = Parameters<Parameters<PrismaClient["$transaction"]>[0]>[0];

/** Serialises changes to one guild's role positions (create, move, delete); false if the guild is gone. */
async function lockGuildRoles(tx: Tx, guildId: bigint): Promise<boolean> {
  const rows = await tx.$queryRaw<{ id: bigint }[]>`SELECT id FROM guilds WHERE id = ${guildId} FOR UPDATE`;
  return rows.length > 0;
}

/** A row of loadAccess: bigints travel as text inside JSON (JSON numbers would lose precision). */
interface AccessRow {
  owner_id: bigint;
  roles: { id: string; permissions: string; position: number }[];
  channels: AccessChannelRow[];
  overwrites: { channelId: string; kind: Overwrite["targetKind"]; targetId: string; allow: string; deny: string }[];
  is_member: boolean | null;
  member_roles: string[] | null;
  timeouts: { userId: string; until: string }[];
}

/** A guild channel inside loadAccess's JSON (ids as text, the creation time in ms as text). */
interface AccessChannelRow {
  id: string;
  kind: ChannelRecord["kind"];
  name: string | null;
  position: number;
  parentId: string | null;
  topic: string | null;
  rateLimitPerUser: number;
  createdAt: string;
}

const channelOf = (guildId: bigint, c: AccessChannelRow): ChannelRecord => ({
  id: BigInt(c.id),
  kind: c.kind,
  guildId,
  name: c.name,
  position: c.position,
  ownerId: null,
  parentId: c.parentId === null ? null : BigInt(c.parentId),
  topic: c.topic,
  rateLimitPerUser: c.rateLimitPerUser,
  createdAt: new Date(Number(c.createdAt)),
});

/** The role ids of some members of one guild (a user who is not a member has no row). */
const MEMBER_ROLE_IDS = `
  SELECT m.user_id, (SELECT array_agg(mr.role_id::text) FROM member_roles mr WHERE mr.guild_id = m.guild_id AND mr.user_id = m.user_id) AS role_ids
  FROM members m WHERE m.guild_id = $1::bigint AND m.user_id = ANY($2::bigint[])`;

/**
 * {@link PermissionStore} on Postgres through Prisma (embedded PGlite or a real server). The
 * member read of every first connect and subscription in a guild is a prepared statement
 * ({@link PreparedReads}): through Prisma's raw query it was the connect path's largest Prisma cost.
 */
export class PrismaPermissionStore implements PermissionStore {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly reads: PreparedReads,
  ) {}

  async loadAccess(guildId: bigint, userId: bigint | null) {
    const rows = await this.prisma.$queryRaw<AccessRow[]>`
      SELECT g.owner_id,
        COALESCE((SELECT json_agg(json_build_object('id', r.id::text, 'permissions', r.permissions::text, 'position', r.position))
                  FROM roles r WHERE r.guild_id = g.id), '[]'::json) AS roles,
        COALESCE((SELECT json_agg(json_build_object('id', c.id::text, 'kind', c.kind, 'name', c.name, 'position', c.position,
                                                    'parentId', c.parent_id::text, 'topic', c.topic, 'rateLimitPerUser', c.rate_limit_per_user,
                                                    'createdAt', (extract(epoch from c.created_at) * 1000)::bigint::text))
                  FROM channels c WHERE c.guild_id = g.id), '[]'::json) AS channels,
        COALESCE((SELECT json_agg(json_build_object('channelId', o.channel_id::text, 'kind', o.target_kind, 'targetId', o.target_id::text,
                                                    'allow', o.allow::text, 'deny', o.deny::text))
                  FROM channels c JOIN permission_overwrites o ON o.channel_id = c.id WHERE c.guild_id = g.id), '[]'::json) AS overwrites,
        EXISTS (SELECT 1 FROM members m WHERE m.guild_id = g.id AND m.user_id = ${userId ?? -1n}) AS is_member,
        (SELECT array_agg(mr.role_id::text) FROM member_roles mr WHERE mr.guild_id = g.id AND mr.user_id = ${userId ?? -1n}) AS member_roles,
        COALESCE((SELECT json_agg(json_build_object('userId', t.user_id::text, 'until', (extract(epoch from t.until) * 1000)::bigint::text))
                  FROM member_timeouts t WHERE t.guild_id = g.id AND t.until > now()), '[]'::json) AS timeouts
      FROM guilds g WHERE g.id = ${guildId}`;
    const row = rows[0];
    if (!row) return null;
    const roles = new Map<bigint, RoleRank>(row.roles.map((r) => [BigInt(r.id), { permissions: BigInt(r.permissions), position: r.position }]));
    const overwrites = new Map<bigint, Overwrite[]>();
    for (const o of row.overwrites) {
      const channelId = BigInt(o.channelId);
      const list = overwrites.get(channelId) ?? [];
      list.push({ targetKind: o.kind, targetId: BigInt(o.targetId), allow: BigInt(o.allow), deny: BigInt(o.deny) });
      overwrites.set(channelId, list);
    }
    const timeouts = new Map<bigint, number>(row.timeouts.map((t) => [BigInt(t.userId), Number(t.until)]));
    const channels = new Map<bigint, ChannelRecord>(row.channels.map((c) => [BigInt(c.id), channelOf(guildId, c)]));
    const access: GuildAccess = { guildId, ownerId: BigInt(row.owner_id), roles, channels, overwrites, timeouts };
    const memberRoleIds = userId !== null && row.is_member ? (row.member_roles ?? []).map(BigInt) : null;
    return { access, memberRoleIds };
  }

  async getMemberRoleIds(guildId: bigint, userIds: readonly bigint[]): Promise<Map<bigint, bigint[] | null>> {
    const result = new Map<bigint, bigint[] | null>(userIds.map((id) => [id, null]));
    if (userIds.length === 0) return result;
    const rows = await this.reads.rows<{ user_id: string | bigint; role_ids: string[] | null }>("members.role-ids", MEMBER_ROLE_IDS, [String(guildId), userIds.map(String)]);
    for (const row of rows) result.set(bigintOf(row.user_id), (row.role_ids ?? []).map(BigInt));
    return result;
  }

  listRoles(guildId: bigint): Promise<RoleRecord[]> {
    return this.prisma.role.findMany({ where: { guildId }, orderBy: [{ position: "desc" }, { id: "asc" }], select: ROLE_FIELDS });
  }

  getRoles(ids: readonly bigint[]): Promise<RoleRecord[]> {
    if (ids.length === 0) return Promise.resolve([]);
    return this.prisma.role.findMany({ where: { id: { in: [...ids] } }, select: ROLE_FIELDS });
  }

  createRole(
    input: { id: bigint; guildId: bigint; name: string; permissions: bigint; color: number; hoist: boolean; mentionable: boolean; maxRoles?: number },
    audit?: AuditActor,
  ): Promise<RoleRecord> {
    const { maxRoles, ...role } = input;
    return this.prisma.$transaction(async (tx) => {
      if (!(await lockGuildRoles(tx, input.guildId))) throw new MissingReferenceError("guild");
      const count = await tx.role.count({ where: { guildId: input.guildId } });
      if (maxRoles !== undefined && count >= maxRoles) throw new LimitReachedError("rolesPerGuild", maxRoles);
      await tx.role.updateMany({ where: { guildId: input.guildId, position: { gte: 1 } }, data: { position: { increment: 1 } } });
      const created = await tx.role.create({ data: { ...role, position: 1 }, select: ROLE_FIELDS });
      await recordAudit(tx, audit, { guildId: input.guildId, action: "ROLE_CREATE", targetKind: "ROLE", targetId: created.id, changes: diff({}, auditedRole(created)) });
      return created;
    });
  }

  async updateRole(guildId: bigint, roleId: bigint, patch: RolePatch, audit?: AuditActor): Promise<RoleRecord | null> {
    // Nothing to change: read it. (Prisma's count for an empty updateMany depends on the driver:
    // 0 on PGlite even when the row exists, which would read as "no such role".)
    if (Object.values(patch).every((value) => value === undefined)) {
      return this.prisma.role.findFirst({ where: { id: roleId, guildId }, select: ROLE_FIELDS });
    }
    return this.prisma.$transaction(async (tx) => {
      const locked = await tx.$queryRaw<{ id: bigint }[]>`SELECT id FROM roles WHERE id = ${roleId} AND guild_id = ${guildId} FOR UPDATE`;
      if (locked.length === 0) return null;
      const before = await tx.role.findUniqueOrThrow({ where: { id: roleId }, select: ROLE_FIELDS });
      const after = await tx.role.update({ where: { id: roleId }, data: patch, select: ROLE_FIELDS });
      const changes = diff(auditedRole(before), auditedRole(after));
      if (changes.length > 0) await recordAudit(tx, audit, { guildId, action: "ROLE_UPDATE", targetKind: "ROLE", targetId: roleId, changes });
      return after;
    });
  }

  deleteRole(guildId: bigint, roleId: bigint, audit?: AuditActor): Promise<boolean> {
    if (roleId === guildId) return Promise.resolve(false);
    return this.prisma.$transaction(async (tx) => {
      if (!(await lockGuildRoles(tx, guildId))) return false;
      const role = await tx.role.findFirst({ where: { id: roleId, guildId }, select: ROLE_FIELDS });
      if (!role) return false;
      await tx.permissionOverwrite.deleteMany({ where: { targetKind: "ROLE", targetId: roleId, channel: { guildId } } });
      await tx.role.delete({ where: { id: roleId } });
      await tx.role.updateMany({ where: { guildId, position: { gt: role.position } }, data: { position: { decrement: 1 } } });
      await recordAudit(tx, audit, { guildId, action: "ROLE_DELETE", targetKind: "ROLE", targetId: roleId, changes: removedFields(auditedRole(role)) });
      return true;
    });
  }

  moveRole(guildId: bigint, roleId: bigint, position: number, audit?: AuditActor): Promise<RoleRecord[] | null> {
    if (roleId === guildId) return Promise.resolve(null);
    return this.prisma.$transaction(async (tx) => {
      if (!(await lockGuildRoles(tx, guildId))) return null;
      const roles = await tx.role.findMany({ where: { guildId }, orderBy: [{ position: "asc" }, { id: "asc" }], select: { id: true, position: true } });
      const moving = roles.find((r) => r.id === roleId);
      if (!moving) return null;
      // @everyone stays at 0; the others are renumbered 1..n-1 around the moved role.
      const others = roles.filter((r) => r.id !== roleId && r.id !== guildId);
      const at = Math.max(1, Math.min(position, others.length + 1));
      others.splice(at - 1, 0, moving);
      if (moving.position !== at) {
        await recordAudit(tx, audit, { guildId, action: "ROLE_UPDATE", targetKind: "ROLE", targetId: roleId, changes: [change("position", moving.position, at)] });
      }
      for (const [index, role] of others.entries()) {
        if (role.position !== index + 1) await tx.role.update({ where: { id: role.id }, data: { position: index + 1 } });
      }
      return tx.role.findMany({ where: { guildId }, orderBy: [{ position: "desc" }, { id: "asc" }], select: ROLE_FIELDS });
    });
  }

  async addMemberRole(guildId: bigint, userId: bigint, roleId: bigint, audit?: AuditActor): Promise<"added" | "already" | "not-member" | "no-role"> {
    if (roleId === guildId) return "no-role";
    // One statement: the role must be the guild's and the user a member, checked with the insert.
    let inserted = 0;
    try {
      inserted = await this.prisma.$transaction(async (tx) => {
        const count = await tx.$executeRaw`
          INSERT INTO member_roles (guild_id, user_id, role_id)
          SELECT ${guildId}, ${userId}, ${roleId}
          WHERE EXISTS (SELECT 1 FROM roles WHERE id = ${roleId} AND guild_id = ${guildId})
            AND EXISTS (SELECT 1 FROM members WHERE guild_id = ${guildId} AND user_id = ${userId})
          ON CONFLICT DO NOTHING`;
        if (count > 0) await recordAudit(tx, audit, { guildId, action: "MEMBER_ROLE_UPDATE", targetKind: "USER", targetId: userId, changes: [change("$add", undefined, [roleId])] });
        return count;
      });
    } catch (error) {
      // The role or the membership was deleted between the checks and the insert (a concurrent
      // deleteRole or leave): nothing was written; say which one is gone, below.
      if (!isForeignKeyViolation(error)) throw error;
    }
    if (inserted > 0) return "added";
    const [role, member, has] = await Promise.all([
      this.prisma.role.count({ where: { id: roleId, guildId } }),
      this.prisma.member.count({ where: { guildId, userId } }),
      this.prisma.memberRole.count({ where: { guildId, userId, roleId } }),
    ]);
    if (role === 0) return "no-role";
    if (member === 0) return "not-member";
    return has > 0 ? "already" : "not-member";
  }

  async removeMemberRole(guildId: bigint, userId: bigint, roleId: bigint, audit?: AuditActor): Promise<boolean> {
    return this.prisma.$transaction(async (tx) => {
      const { count } = await tx.memberRole.deleteMany({ where: { guildId, userId, roleId } });
      if (count > 0) await recordAudit(tx, audit, { guildId, action: "MEMBER_ROLE_UPDATE", targetKind: "USER", targetId: userId, changes: [change("$remove", undefined, [roleId])] });
      return count > 0;
    });
  }

  async setOverwrite(overwrite: OverwriteRecord, audit?: AuditActor): Promise<OverwriteRecord> {
    const { channelId, targetKind, targetId, allow, deny } = overwrite;
    const where = { channelId_targetKind_targetId: { channelId, targetKind, targetId } };
    try {
      return await this.prisma.$transaction(async (tx) => {
        const channel = await tx.$queryRaw<{ guild_id: bigint | null }[]>`SELECT guild_id FROM channels WHERE id = ${channelId} FOR UPDATE`;
        if (channel.length === 0) throw new MissingReferenceError("channel");
        const before = await tx.permissionOverwrite.findUnique({ where });
        const row = await tx.permissionOverwrite.upsert({ where, create: { channelId, targetKind, targetId, allow, deny }, update: { allow, deny } });
        const guildId = channel[0]!.guild_id;
        const changes = diff(before ? auditedOverwrite(before) : {}, auditedOverwrite(row));
        if (guildId !== null && changes.length > 0) {
          await recordAudit(tx, audit, { guildId, action: before ? "CHANNEL_OVERWRITE_UPDATE" : "CHANNEL_OVERWRITE_CREATE", targetKind: "CHANNEL", targetId: channelId, changes });
        }
        return row;
      });
    } catch (error) {
      if (isForeignKeyViolation(error)) throw new MissingReferenceError("channel");
      throw error;
    }
  }

  async deleteOverwrite(channelId: bigint, targetKind: Overwrite["targetKind"], targetId: bigint, audit?: AuditActor): Promise<boolean> {
    return this.prisma.$transaction(async (tx) => {
      const gone = await tx.$queryRaw<{ allow: bigint; deny: bigint; guild_id: bigint | null }[]>`
        DELETE FROM permission_overwrites o USING channels c
        WHERE o.channel_id = ${channelId} AND o.target_kind = ${targetKind}::"OverwriteTarget" AND o.target_id = ${targetId} AND c.id = o.channel_id
        RETURNING o.allow, o.deny, c.guild_id`;
      const row = gone[0];
      if (!row) return false;
      if (row.guild_id !== null) {
        const changes = removedFields(auditedOverwrite({ targetKind, targetId, allow: BigInt(row.allow), deny: BigInt(row.deny) }));
        await recordAudit(tx, audit, { guildId: BigInt(row.guild_id), action: "CHANNEL_OVERWRITE_DELETE", targetKind: "CHANNEL", targetId: channelId, changes });
      }
      return true;
    });
  }

  async listOverwrites(channelIds: readonly bigint[]): Promise<Map<bigint, OverwriteRecord[]>> {
    const result = new Map<bigint, OverwriteRecord[]>(channelIds.map((id) => [id, []]));
    if (channelIds.length === 0) return result;
    const rows = await this.prisma.permissionOverwrite.findMany({
      where: { channelId: { in: [...channelIds] } },
      orderBy: [{ channelId: "asc" }, { targetKind: "asc" }, { targetId: "asc" }],
    });
    for (const row of rows) result.get(row.channelId)?.push(row);
    return result;
  }
}

/** A role's audited fields, with Discord's keys. */
function auditedRole(role: RoleRecord): Record<string, unknown> {
  return { name: role.name, permissions: role.permissions, color: role.color, hoist: role.hoist, mentionable: role.mentionable };
}
