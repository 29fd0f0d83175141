import type { RequestContext } from "../context.js";
import { forbidden, notFound, unauthenticated } from "../errors.js";
import { channelPermissions, guildPermissions, highestPosition, timedOutUntil } from "../permissions/compute.js";
import type { MemberAccess } from "../permissions/permission-cache.js";
import { has, PERMISSIONS, type PermissionName } from "../permissions/permission-set.js";
import type { UserRecord } from "../stores/account-store.js";
import type { ChannelRecord } from "../stores/channel-store.js";
import type { GuildRecord } from "../stores/guild-store.js";
import { MissingReferenceError } from "../stores/store-errors.js";

/**
 * Who may see and do what. The rule of thumb: what a viewer may not see answers NOT_FOUND (so
 * private ids cannot be probed); what they can see but may not change answers FORBIDDEN.
 *
 * Guild permissions are Discord's (roles, channel overwrites; src/permissions/compute.ts),
 * computed from the instance's permission cache: no store read when it is warm. DMs are not
 * governed by roles: their recipients may view, read and send.
 */

/** What a recipient of a DM or group DM may do in it. */
export const DIRECT_MESSAGE_PERMISSIONS = PERMISSIONS.VIEW_CHANNEL | PERMISSIONS.SEND_MESSAGES | PERMISSIONS.READ_MESSAGE_HISTORY;

/** The signed-in user, or UNAUTHENTICATED. */
export function requireViewer(ctx: RequestContext): UserRecord {
  if (!ctx.viewer) throw ctx.authFailure ? unauthenticated(ctx.authFailure) : unauthenticated();
  return ctx.viewer;
}

/** True if the user belongs to the guild. */
export async function isMember(ctx: RequestContext, guildId: bigint, userId: bigint): Promise<boolean> {
  return (await ctx.loaders.member.load(`${guildId}:${userId}`)) !== null;
}

/** A guild the viewer belongs to, or NOT_FOUND. */
export async function visibleGuild(ctx: RequestContext, guildId: bigint): Promise<GuildRecord> {
  const viewer = requireViewer(ctx);
  const guild = await ctx.loaders.guild.load(guildId);
  if (!guild || !(await isMember(ctx, guildId, viewer.id))) throw notFound("Guild", String(guildId));
  return guild;
}

/** A guild the viewer owns: NOT_FOUND if they cannot see it, FORBIDDEN if they are not the owner. */
export async function ownedGuild(ctx: RequestContext, guildId: bigint, action: string): Promise<GuildRecord> {
  const guild = await visibleGuild(ctx, guildId);
  if (guild.ownerId !== requireViewer(ctx).id) throw forbidden(`Only the guild's owner can ${action}.`);
  return guild;
}

/**
 * A channel the viewer can see (VIEW_CHANNEL), or NOT_FOUND: a channel of a guild they belong to
 * whose overwrites do not hide it from them, or a DM they are a recipient of. One store read for
 * the channel and the membership (and, on a cold permission cache, one more).
 */
export async function readableChannel(ctx: RequestContext, channelId: bigint): Promise<ChannelRecord> {
  requireViewer(ctx);
  const channel = await ctx.loaders.readableChannel.load(channelId);
  if (!channel || !has(await channelPermissionsOf(ctx, channel), PERMISSIONS.VIEW_CHANNEL)) throw notFound("Channel", String(channelId));
  ctx.loaders.channel.prime(channel.id, channel);
  return channel;
}

/** The viewer's place in a guild (the guild's access and their role ids: null when not a member), from the cache. */
export async function memberAccess(ctx: RequestContext, guildId: bigint): Promise<MemberAccess | null> {
  const viewer = requireViewer(ctx);
  return ctx.services.permissions.get(guildId, viewer.id);
}

/** The viewer's guild-level permissions: everything for the owner and administrators, 0 when not a member. */
export async function guildPermissionsOf(ctx: RequestContext, guildId: bigint): Promise<bigint> {
  const state = await memberAccess(ctx, guildId);
  if (!state || state.roleIds === null) return 0n;
  return guildPermissions(state.access, requireViewer(ctx).id, state.roleIds);
}

/** Until when the viewer is timed out in a guild, or null (from the permission cache). */
export async function timedOutIn(ctx: RequestContext, guildId: bigint): Promise<Date | null> {
  const state = await memberAccess(ctx, guildId);
  const until = state ? timedOutUntil(state.access, requireViewer(ctx).id, ctx.services.now().getTime()) : null;
  return until === null ? null : new Date(until);
}

/**
 * The viewer's permissions in a channel, assuming they belong to its guild (or are a recipient
 * of a DM, which the caller checked): guild channels by roles and overwrites, DMs
 * {@link DIRECT_MESSAGE_PERMISSIONS}.
 */
export async function channelPermissionsOf(ctx: RequestContext, channel: ChannelRecord): Promise<bigint> {
  if (channel.guildId === null) return DIRECT_MESSAGE_PERMISSIONS;
  const state = await memberAccess(ctx, channel.guildId);
  if (!state) return 0n;
  // The membership was just read from the store with the channel; a cache entry saying
  // otherwise is one announcement behind: count the member with no roles until it arrives.
  return channelPermissions(state.access, requireViewer(ctx).id, state.roleIds ?? [], channel.id);
}

/**
 * A guild the viewer belongs to and has `permission` in (guild-wide): NOT_FOUND if they cannot
 * see it, FORBIDDEN saying what is missing otherwise. Returns the guild and the viewer's access.
 */
export async function guildWithPermission(ctx: RequestContext, guildId: bigint, permission: PermissionName, action: string): Promise<{ guild: GuildRecord; state: MemberAccess }> {
  const guild = await visibleGuild(ctx, guildId);
  const state = await memberAccess(ctx, guildId);
  if (!state || state.roleIds === null) throw notFound("Guild", String(guildId));
  if (!has(guildPermissions(state.access, requireViewer(ctx).id, state.roleIds), PERMISSIONS[permission])) {
    throw forbidden(`You need the ${permission} permission to ${action}.`);
  }
  return { guild, state };
}

/** A visible channel in which the viewer has `permission`: NOT_FOUND if they cannot see it, FORBIDDEN otherwise. */
export async function channelWithPermission(ctx: RequestContext, channelId: bigint, permission: PermissionName, action: string): Promise<ChannelRecord> {
  const channel = await readableChannel(ctx, channelId);
  if (!has(await channelPermissionsOf(ctx, channel), PERMISSIONS[permission])) throw forbidden(`You need the ${permission} permission in this channel to ${action}.`);
  return channel;
}

/**
 * Where the viewer stands in a guild's role hierarchy, and where `userId` stands: the viewer may
 * act on them (kick, ban, change their roles) only from above. The owner stands above everyone.
 */
export async function outranks(ctx: RequestContext, state: MemberAccess, userId: bigint): Promise<boolean> {
  const viewer = requireViewer(ctx);
  if (userId === state.access.ownerId) return false;
  const target = await ctx.services.permissions.get(state.access.guildId, userId);
  return highestPosition(state.access, viewer.id, state.roleIds ?? []) > highestPosition(state.access, userId, target?.roleIds ?? []);
}

/**
 * Runs a store write into a guild the viewer was just allowed to use. If the guild is gone by the
 * time the write runs (deleted by another request, or by an earlier field of the same mutation),
 * NOT_FOUND, as if it had been gone at the check: the store reports it as MissingReferenceError
 * and writes nothing.
 */
export async function intoGuild<T>(guildId: bigint, write: Promise<T>): Promise<T> {
  try {
    return await write;
  } catch (error) {
    if (error instanceof MissingReferenceError) throw notFound("Guild", String(guildId));
    throw error;
  }
}
