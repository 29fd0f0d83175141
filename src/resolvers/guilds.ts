import { randomBytes } from "node:crypto";
import type { AuditActor } from "../stores/audit-log-store.js";
import type { RequestContext } from "../context.js";
import { badInput, ConcordError, conflict, forbidden, notFound } from "../errors.js";
import { topics } from "../pubsub/topics.js";
import type { UserRecord } from "../stores/account-store.js";
import type { GuildRecord, InviteRecord, MemberRecord } from "../stores/guild-store.js";
import { guildWithPermission, intoGuild, outranks, ownedGuild, requireViewer, visibleGuild } from "./access.js";
import { announcePermissionChange } from "./permission-changes.js";
import { capReached, withinCap } from "./resource-caps.js";
import { auditActor, auditReason } from "./audit-log.js";
import { charge, perUser } from "./rate-limit.js";
import { pageWindow, windowPage, type WindowArgs } from "./page-window.js";
import { nameText, optionalInt } from "./validate.js";

const guildName = (field: string, value: string) => nameText(field, value, 2, 100);

/** Creates a guild owned by the viewer, with a `general` text channel; LIMIT_EXCEEDED at MAX_GUILDS_PER_USER guilds. */
export async function createGuild(ctx: RequestContext, input: { name: string }): Promise<GuildRecord> {
  const viewer = requireViewer(ctx);
  await charge(ctx, perUser(ctx, "guild.create"));
  const name = guildName("name", input.name);
  const { services } = ctx;
  const { guild } = await withinCap(
    services.guilds.createGuild({
      id: services.newId(),
      name,
      ownerId: viewer.id,
      firstChannel: { id: services.newId(), name: "general" },
      // Counted in the store's transaction: concurrent creates and joins cannot pass it together.
      maxGuildsPerUser: services.settings.caps.guildsPerUser,
    }),
  );
  await services.bus.publish(topics.user(viewer.id), { type: "GuildJoined", userId: viewer.id, guild });
  return guild;
}

/** Renames a guild (MANAGE_GUILD). */
export async function updateGuild(ctx: RequestContext, input: { guildId: bigint; name: string }): Promise<GuildRecord> {
  requireViewer(ctx);
  await charge(ctx, perUser(ctx, "guild.manage"));
  const name = guildName("name", input.name);
  await guildWithPermission(ctx, input.guildId, "MANAGE_GUILD", "rename it");
  const guild = await ctx.services.guilds.renameGuild(input.guildId, name, auditActor(ctx));
  if (!guild) throw notFound("Guild", String(input.guildId));
  await ctx.services.bus.publish(topics.guild(guild.id), { type: "GuildUpdated", guild });
  return guild;
}

/**
 * Deletes a guild with its channels, memberships, invites and message history (owner only).
 * Every member is told through their user topic, which also ends their channel subscriptions.
 */
export async function deleteGuild(ctx: RequestContext, guildId: bigint): Promise<boolean> {
  requireViewer(ctx);
  await charge(ctx, perUser(ctx, "guild.manage"));
  await ownedGuild(ctx, guildId, "delete it");
  const { services } = ctx;
  // Collect members before deleting: afterwards there is nobody left to tell.
  const members: MemberRecord[] = [];
  for (let after: bigint | null = null; ; ) {
    const page = await services.guilds.listMembers(guildId, { afterUserId: after, limit: 1000 });
    members.push(...page);
    if (page.length < 1000) break;
    after = page[page.length - 1]!.userId;
  }
  const deleted = await services.guilds.deleteGuild(guildId);
  if (!deleted) throw notFound("Guild", String(guildId));
  await announcePermissionChange(services, { guildId, userId: null });
  await services.bus.publish(topics.guild(guildId), { type: "GuildDeleted", guildId });
  for (const channelId of deleted.channelIds) {
    await services.bus.publish(topics.channel(channelId), { type: "ChannelDeleted", channelId, guildId });
  }
  for (const member of members) {
    await services.bus.publish(topics.user(member.userId), { type: "GuildLeft", userId: member.userId, guildId, reason: "GUILD_DELETED" });
  }
  // History goes last: a failure here leaves orphaned rows nobody can read, not a broken guild.
  await services.presence.forgetGuild(guildId);
  for (const channelId of deleted.channelIds) {
    await services.messages.deleteChannel(channelId);
    await services.readStates.deleteChannel(channelId);
  }
  return true;
}

const INVITE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";

/** 10 characters from a 56-letter alphabet without look-alikes: about 58 bits, not guessable. */
function inviteCode(): string {
  const bytes = randomBytes(10);
  return [...bytes].map((b) => INVITE_ALPHABET[b % INVITE_ALPHABET.length]).join("");
}

/** Creates an invite to a guild (CREATE_INSTANT_INVITE, which @everyone has by default). */
export async function createInvite(
  ctx: RequestContext,
  input: { guildId: bigint; maxUses?: number | null; expiresInSeconds?: number | null },
): Promise<InviteRecord> {
  const viewer = requireViewer(ctx);
  await charge(ctx, perUser(ctx, "invite.create"));
  const maxUses = optionalInt("maxUses", input.maxUses, 1, 1_000_000);
  const expiresIn = optionalInt("expiresInSeconds", input.expiresInSeconds, 1, 30 * 24 * 3600);
  await guildWithPermission(ctx, input.guildId, "CREATE_INSTANT_INVITE", "create invites");
  const now = ctx.services.now();
  return intoGuild(
    input.guildId,
    ctx.services.guilds.createInvite({
      code: inviteCode(),
      guildId: input.guildId,
      inviterId: viewer.id,
      maxUses,
      expiresAt: expiresIn === null ? null : new Date(now.getTime() + expiresIn * 1000),
    }, auditActor(ctx)),
  );
}

/**
 * Joins the guild of an invite. Joining a guild one already belongs to is a CONFLICT; one more
 * than MAX_GUILDS_PER_USER is LIMIT_EXCEEDED, and a banned user is FORBIDDEN (neither uses the
 * invite).
 */
export async function joinGuild(ctx: RequestContext, code: string): Promise<GuildRecord> {
  const viewer = requireViewer(ctx);
  await charge(ctx, perUser(ctx, "guild.join"));
  const trimmed = code.trim();
  if (!/^[A-Za-z0-9]{1,32}$/.test(trimmed)) throw badInput("code", "code must be an invite code (letters and digits).");
  const { services } = ctx;
  const result = await services.guilds.redeemInvite(trimmed, viewer.id, services.now(), { maxGuildsPerUser: services.settings.caps.guildsPerUser });
  switch (result.status) {
    case "guild-limit":
      throw capReached("guildsPerUser", result.limit);
    case "unknown":
      throw notFound("Invite", trimmed);
    case "expired":
      throw new ConcordError("NOT_FOUND", `Invite ${trimmed} has expired; ask for a new one.`);
    case "exhausted":
      throw new ConcordError("NOT_FOUND", `Invite ${trimmed} has been used its maximum number of times; ask for a new one.`);
    case "already-member":
      throw conflict("You are already a member of this guild.");
    case "banned":
      throw forbidden("You are banned from this guild.");
  }
  // This instance (and the others) may remember the viewer as not a member.
  await announcePermissionChange(services, { guildId: result.guild.id, userId: viewer.id });
  await services.presence.joinGuild(viewer.id, result.guild.id, services.now());
  if (result.guild.memberCount >= services.settings.largeGuildThreshold) services.announcer.countChanged(result.guild.id);
  await services.bus.publish(topics.guild(result.guild.id), { type: "MemberJoined", guildId: result.guild.id, user: viewer });
  await services.bus.publish(topics.user(viewer.id), { type: "GuildJoined", userId: viewer.id, guild: result.guild });
  return result.guild;
}

async function removeMember(ctx: RequestContext, guild: GuildRecord, user: UserRecord | { id: bigint }, reason: "LEFT" | "KICKED", audit?: AuditActor) {
  const removed = await ctx.services.guilds.removeMember(guild.id, user.id, audit);
  if (!removed) throw notFound("Member", String(user.id));
  await announceDeparture(ctx, guild, user.id, reason);
}

/**
 * Tells everyone concerned that a member is gone (their membership already removed): every
 * instance's permission cache, presence, the member's sessions (GuildLeft, which ends their
 * streams of the guild) and the guild (MemberLeft).
 */
export async function announceDeparture(ctx: RequestContext, guild: GuildRecord, userId: bigint, reason: "LEFT" | "KICKED" | "BANNED"): Promise<void> {
  const { services } = ctx;
  await announcePermissionChange(services, { guildId: guild.id, userId });
  await services.presence.leaveGuild(userId, guild.id);
  if (guild.memberCount >= services.settings.largeGuildThreshold) services.announcer.countChanged(guild.id);
  await services.bus.publish(topics.user(userId), { type: "GuildLeft", userId, guildId: guild.id, reason });
  await services.bus.publish(topics.guild(guild.id), { type: "MemberLeft", guildId: guild.id, userId, reason });
}

/** Leaves a guild. The owner cannot leave: they delete the guild instead. */
export async function leaveGuild(ctx: RequestContext, guildId: bigint): Promise<boolean> {
  const viewer = requireViewer(ctx);
  const guild = await visibleGuild(ctx, guildId);
  if (guild.ownerId === viewer.id) throw conflict("The owner cannot leave their guild; delete it instead.");
  await removeMember(ctx, guild, viewer, "LEFT");
  return true;
}

/** Removes a member ranked below the viewer from a guild (KICK_MEMBERS; not themselves, never the owner); audited with `reason`. */
export async function kickMember(ctx: RequestContext, input: { guildId: bigint; userId: bigint; reason?: string | null }): Promise<boolean> {
  const viewer = requireViewer(ctx);
  await charge(ctx, perUser(ctx, "guild.manage"));
  const reason = auditReason(input.reason);
  const { guild, state } = await guildWithPermission(ctx, input.guildId, "KICK_MEMBERS", "kick members");
  if (input.userId === viewer.id) throw badInput("userId", "You cannot kick yourself; leave the guild instead.");
  if (!(await outranks(ctx, state, input.userId))) throw forbidden("You can only kick members ranked below you (the owner cannot be kicked).");
  await removeMember(ctx, guild, { id: input.userId }, "KICKED", auditActor(ctx, reason));
  return true;
}

/** Page sizes of `Guild.members`. */
export const MEMBERS_PAGE = { default: 50, max: 100 } as const;

/** A page of a guild's members and how many it has. */
export interface MembersPage {
  members: MemberRecord[];
  hasPreviousPage: boolean;
  hasNextPage: boolean;
  /** The guild's member count as read with the guild: exact (kept in the transaction of each join and leave), no count query. */
  totalCount: number;
}

/**
 * A page of a guild's members ordered by user id (the cursor), either way: `first`/`after`
 * forward, `last`/`before` backward, both cursors for a window (see page-window.ts).
 */
export async function listMembers(ctx: RequestContext, guild: GuildRecord, args: WindowArgs): Promise<MembersPage> {
  const window = pageWindow(args, MEMBERS_PAGE);
  const rows = await ctx.services.guilds.listMembers(guild.id, { afterUserId: window.after, beforeUserId: window.before, limit: window.limit + 1, from: window.from });
  const { items, ...flags } = windowPage(window, rows);
  return { members: items, ...flags, totalCount: guild.memberCount };
}

/** The viewer's guilds, oldest membership first. */
export async function listMyGuilds(ctx: RequestContext): Promise<GuildRecord[]> {
  const viewer = requireViewer(ctx);
  const ids = await ctx.services.guilds.listGuildIdsOfUser(viewer.id);
  const guilds = await ctx.loaders.guild.loadMany(ids);
  return guilds.filter((g): g is GuildRecord => g !== null && !(g instanceof Error));
}
