import type { RequestContext } from "../context.js";
import { badInput, conflict, forbidden, notFound } from "../errors.js";
import { topics } from "../pubsub/topics.js";
import type { BanRecord, GuildRecord } from "../stores/guild-store.js";
import { guildWithPermission, outranks, ownedGuild, requireViewer } from "./access.js";
import { announceDeparture } from "./guilds.js";
import { announcePermissionChange } from "./permission-changes.js";
import { charge, perUser } from "./rate-limit.js";
import { optionalInt, text } from "./validate.js";

/** Longest ban reason (Discord's audit-log reason limit). */
const MAX_REASON = 512;

/**
 * Bans a user from a guild (BAN_MEMBERS; not yourself, and only users ranked below you: never
 * the owner). A member is removed at once (GuildLeft / MemberLeft with reason BANNED, which ends
 * their streams of the guild); a non-member can be banned too, before they ever join. No invite
 * lets a banned user in until unbanMember. Banning again returns the standing ban unchanged.
 */
export async function banMember(ctx: RequestContext, input: { guildId: bigint; userId: bigint; reason?: string | null }): Promise<BanRecord> {
  const viewer = requireViewer(ctx);
  await charge(ctx, perUser(ctx, "guild.manage"));
  const reason = input.reason === null || input.reason === undefined ? null : text("reason", input.reason, 1, MAX_REASON);
  const { state } = await guildWithPermission(ctx, input.guildId, "BAN_MEMBERS", "ban members");
  if (input.userId === viewer.id) throw badInput("userId", "You cannot ban yourself.");
  if (!(await outranks(ctx, state, input.userId))) throw forbidden("You can only ban users ranked below you (the owner cannot be banned).");
  const result = await ctx.services.guilds.banMember({ guildId: input.guildId, userId: input.userId, moderatorId: viewer.id, reason });
  if (!result) throw notFound("User", String(input.userId));
  if (result.removedMember) await announceDeparture(ctx, result.guild, input.userId, "BANNED");
  return result.ban;
}

/** Lifts a ban (BAN_MEMBERS): the user may join again with an invite. False if they were not banned. */
export async function unbanMember(ctx: RequestContext, input: { guildId: bigint; userId: bigint }): Promise<boolean> {
  requireViewer(ctx);
  await charge(ctx, perUser(ctx, "guild.manage"));
  await guildWithPermission(ctx, input.guildId, "BAN_MEMBERS", "lift bans");
  return ctx.services.guilds.unbanMember(input.guildId, input.userId);
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
  const guild = await ctx.services.guilds.transferOwnership(input.guildId, viewer.id, input.userId);
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
