import type { RequestContext } from "../context.js";
import { badInput, conflict, forbidden, notFound } from "../errors.js";
import { ALL_PERMISSIONS, PERMISSIONS } from "../permissions/permission-set.js";
import { topics } from "../pubsub/topics.js";
import { guildPermissions } from "../permissions/compute.js";

import type { BanRecord, GuildRecord, InviteRecord, MemberRecord } from "../stores/guild-store.js";
import { guildPermissionsOf, guildWithPermission, outranks, ownedGuild, requireViewer, visibleGuild } from "./access.js";
import { auditActor, auditReason } from "./audit-log.js";
import { announceDeparture } from "./guilds.js";
import { deleteMessageSecondsOf, startBanPurge } from "./ban-message-purge.js";
import { announcePermissionChange } from "./permission-changes.js";
import { charge, perUser } from "./rate-limit.js";
import { optionalInt } from "./validate.js";

/** Longest timeout, as in Discord: 28 days. */
export const MAX_TIMEOUT_MS = 28 * 86_400_000;

/**
 * Bans a user from a guild (BAN_MEMBERS; not yourself, and only users ranked below you: never
 * the owner). A member is removed at once (GuildLeft / MemberLeft with reason BANNED, which ends
 * their streams of the guild); a non-member can be banned too, before they ever join. No invite
 * lets a banned user in until unbanMember. Banning again returns the standing ban unchanged.
 * With deleteMessageSeconds (0 to 604800), their messages of that many last seconds in the
 * guild's channels are deleted after the ban, in the background (ban-message-purge.ts).
 */
export async function banMember(ctx: RequestContext, input: { guildId: bigint; userId: bigint; reason?: string | null; deleteMessageSeconds?: number | null }): Promise<BanRecord> {
  const viewer = requireViewer(ctx);
  await charge(ctx, perUser(ctx, "guild.manage"));
  const reason = auditReason(input.reason);
  const purgeSeconds = deleteMessageSecondsOf(input.deleteMessageSeconds);
  const { state } = await guildWithPermission(ctx, input.guildId, "BAN_MEMBERS", "ban members");
  if (input.userId === viewer.id) throw badInput("userId", "You cannot ban yourself.");
  if (!(await outranks(ctx, state, input.userId))) throw forbidden("You can only ban users ranked below you (the owner cannot be banned).");
  const result = await ctx.services.guilds.banMember({ guildId: input.guildId, userId: input.userId, moderatorId: viewer.id, reason }, auditActor(ctx, reason));
  if (!result) throw notFound("User", String(input.userId));
  if (result.removedMember) await announceDeparture(ctx, result.guild, input.userId, "BANNED");
  // In the background: the ban does not wait for the deletions (see ban-message-purge.ts).
  void startBanPurge(ctx.services, { guildId: input.guildId, userId: input.userId, seconds: purgeSeconds });
  return result.ban;
}

/** Lifts a ban (BAN_MEMBERS): the user may join again with an invite. False if they were not banned. */
export async function unbanMember(ctx: RequestContext, input: { guildId: bigint; userId: bigint; reason?: string | null }): Promise<boolean> {
  requireViewer(ctx);
  await charge(ctx, perUser(ctx, "guild.manage"));
  const reason = auditReason(input.reason);
  await guildWithPermission(ctx, input.guildId, "BAN_MEMBERS", "lift bans");
  return ctx.services.guilds.unbanMember(input.guildId, input.userId, auditActor(ctx, reason));
}

/**
 * Times a member out until `until` (MODERATE_MEMBERS; only members ranked below you, never an
 * administrator), or lifts their timeout (`until` null). Until
 * then they keep VIEW_CHANNEL and READ_MESSAGE_HISTORY and lose everything else (sending,
 * typing, ...), on every instance at once; the timeout survives leaving and rejoining. At most
 * 28 days ahead. Returns the membership.
 */
export async function timeoutMember(
  ctx: RequestContext,
  input: { guildId: bigint; userId: bigint; until: Date | null; reason?: string | null },
): Promise<MemberRecord> {
  const viewer = requireViewer(ctx);
  await charge(ctx, perUser(ctx, "guild.manage"));
  const reason = auditReason(input.reason);
  const now = ctx.services.now();
  if (input.until !== null) {
    if (input.until.getTime() <= now.getTime()) throw badInput("until", "until must be in the future (give null to lift a timeout).");
    if (input.until.getTime() > now.getTime() + MAX_TIMEOUT_MS) throw badInput("until", "A timeout lasts at most 28 days.");
  }
  const { state } = await guildWithPermission(ctx, input.guildId, "MODERATE_MEMBERS", "time out members");
  if (input.userId === viewer.id) throw badInput("userId", "You cannot time yourself out.");
  const target = await ctx.services.permissions.get(input.guildId, input.userId);
  if (!target || target.roleIds === null) throw notFound("Member", String(input.userId));
  if (!(await outranks(ctx, state, input.userId))) throw forbidden("You can only time out members ranked below you (the owner cannot be timed out).");
  if (guildPermissions(state.access, input.userId, target.roleIds) === ALL_PERMISSIONS) throw forbidden("Administrators cannot be timed out.");
  const result = await ctx.services.guilds.setMemberTimeout(
    { guildId: input.guildId, userId: input.userId, until: input.until, moderatorId: viewer.id, reason, now },
    auditActor(ctx, reason),
  );
  if (result === "not-member") throw notFound("Member", String(input.userId));
  const until = result.timeout?.until ?? null;
  // Every instance re-reads the guild's access (timeouts are part of it).
  await announcePermissionChange(ctx.services, { guildId: input.guildId, userId: null });
  const event = { type: "MemberTimeoutUpdated", guildId: input.guildId, userId: input.userId, until } as const;
  await ctx.services.bus.publish(topics.guild(input.guildId), event);
  await ctx.services.bus.publish(topics.user(input.userId), event);
  const member = await ctx.services.guilds.getMember(input.guildId, input.userId);
  if (!member) throw notFound("Member", String(input.userId));
  return member;
}

/** A page of a guild's invites, newest first (MANAGE_GUILD; FORBIDDEN otherwise), expired and used-up ones included; at most 100 (default 50). */
export async function listInvites(
  ctx: RequestContext,
  guild: GuildRecord,
  args: { first?: number | null; after?: string | null },
): Promise<{ invites: InviteRecord[]; hasNextPage: boolean }> {
  const first = optionalInt("first", args.first, 1, 100) ?? 50;
  await guildWithPermission(ctx, guild.id, "MANAGE_GUILD", "see the guild's invites");
  let before: { createdAt: Date; code: string } | null = null;
  if (args.after !== null && args.after !== undefined) {
    const cursor = await ctx.services.guilds.getInvite(args.after);
    if (!cursor || cursor.guildId !== guild.id) throw badInput("after", "after must be the code of one of this guild's invites (an endCursor).");
    before = cursor;
  }
  const page = await ctx.services.guilds.listInvites(guild.id, { beforeCreatedAt: before?.createdAt ?? null, beforeCode: before?.code ?? null, limit: first + 1 });
  return { invites: page.slice(0, first), hasNextPage: page.length > first };
}

/**
 * Deletes an invite: its creator may, and anyone with MANAGE_GUILD in its guild. An invite the
 * viewer cannot see (an unknown code, or another guild's) is NOT_FOUND, as is one revoked already.
 */
export async function revokeInvite(ctx: RequestContext, input: { code: string; reason?: string | null }): Promise<InviteRecord> {
  const viewer = requireViewer(ctx);
  await charge(ctx, perUser(ctx, "guild.manage"));
  const code = input.code.trim();
  if (!/^[A-Za-z0-9]{1,32}$/.test(code)) throw badInput("code", "code must be an invite code (letters and digits).");
  const reason = auditReason(input.reason);
  const invite = await ctx.services.guilds.getInvite(code);
  if (!invite) throw notFound("Invite", code);
  await visibleGuild(ctx, invite.guildId).catch(() => {
    throw notFound("Invite", code);
  });
  if (invite.inviterId !== viewer.id && (await guildPermissionsOf(ctx, invite.guildId) & PERMISSIONS.MANAGE_GUILD) === 0n) {
    throw forbidden("You need the MANAGE_GUILD permission to revoke other people's invites.");
  }
  if (!(await ctx.services.guilds.revokeInvite(invite.guildId, code, auditActor(ctx, reason)))) throw notFound("Invite", code);
  return invite;
}

/** A page of a guild's bans by user id (BAN_MEMBERS; FORBIDDEN otherwise), at most 100 (default 50). */
export async function listBans(
  ctx: RequestContext,
  guild: GuildRecord,
  args: { first?: number | null; after?: bigint | null },
): Promise<{ bans: BanRecord[]; hasNextPage: boolean }> {
  const first = optionalInt("first", args.first, 1, 100) ?? 50;
  await guildWithPermission(ctx, guild.id, "BAN_MEMBERS", "see the guild's bans");
  const page = await ctx.services.guilds.listBans(guild.id, { afterUserId: args.after ?? null, limit: first + 1 });
  return { bans: page.slice(0, first), hasNextPage: page.length > first };
}

/**
 * Makes another member the guild's owner (owner only). The old owner stays a member with their
 * roles; every instance recomputes permissions at once, and the guild hears GuildUpdated.
 */
export async function transferGuildOwnership(ctx: RequestContext, input: { guildId: bigint; userId: bigint }): Promise<GuildRecord> {
  const viewer = requireViewer(ctx);
  await charge(ctx, perUser(ctx, "guild.manage"));
  await ownedGuild(ctx, input.guildId, "transfer it");
  if (input.userId === viewer.id) throw badInput("userId", "You already own this guild.");
  const target = await ctx.loaders.user.load(input.userId);
  if (!target) throw notFound("User", String(input.userId));
  if (target.bot) throw badInput("userId", "A bot cannot own a guild: choose a person.");
  const guild = await ctx.services.guilds.transferOwnership(input.guildId, viewer.id, input.userId, auditActor(ctx));
  if (!guild) {
    // Not a member, or the guild changed hands (or went) since the check.
    const [still] = await ctx.services.guilds.getGuilds([input.guildId]);
    if (still && still.ownerId === viewer.id) throw badInput("userId", "The new owner must be a member of the guild.");
    throw conflict("The guild is no longer yours to transfer.");
  }
  await announcePermissionChange(ctx.services, { guildId: guild.id, userId: null });
  await ctx.services.bus.publish(topics.guild(guild.id), { type: "GuildUpdated", guild });
  return guild;
}
