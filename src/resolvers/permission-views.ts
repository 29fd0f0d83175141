import type { RequestContext } from "../context.js";
import type { ChannelRecord } from "../stores/channel-store.js";
import type { GuildRecord, MemberRecord } from "../stores/guild-store.js";
import type { OverwriteRecord, RoleRecord } from "../stores/permission-store.js";
import { channelPermissionsOf, guildPermissionsOf } from "./access.js";

/**
 * What the permission model shows: the viewer's own permissions, a channel's overwrites and a
 * member's roles. The objects passed in were already found visible to the viewer.
 */

/** The viewer's guild-wide permissions. */
export function myGuildPermissions(ctx: RequestContext, guild: GuildRecord): Promise<bigint> {
  return guildPermissionsOf(ctx, guild.id);
}

/** The viewer's permissions in a channel they can see. */
export function myChannelPermissions(ctx: RequestContext, channel: ChannelRecord): Promise<bigint> {
  return channelPermissionsOf(ctx, channel);
}

/** A guild channel's overwrites (none for DMs), from the cache. */
export async function overwritesOf(ctx: RequestContext, channel: ChannelRecord): Promise<OverwriteRecord[]> {
  if (channel.guildId === null || !ctx.viewer) return [];
  const state = await ctx.services.permissions.get(channel.guildId, ctx.viewer.id);
  return (state?.access.overwrites.get(channel.id) ?? []).map((o) => ({ channelId: channel.id, ...o }));
}

/** A member's roles, highest first, without @everyone (batched per guild). */
export async function rolesOfMember(ctx: RequestContext, member: MemberRecord): Promise<RoleRecord[]> {
  const [roleIds, roles] = await Promise.all([ctx.loaders.memberRoles.load(`${member.guildId}:${member.userId}`), ctx.loaders.guildRoles.load(member.guildId)]);
  const held = new Set(roleIds ?? []);
  return roles.filter((role) => held.has(role.id));
}
