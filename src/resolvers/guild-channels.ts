import type { RequestContext } from "../context.js";
import { badInput, forbidden, notFound } from "../errors.js";
import { channelPermissions, guildPermissions } from "../permissions/compute.js";
import { ALL_PERMISSIONS, GUILD_ONLY_PERMISSIONS, has, PERMISSIONS, toNames } from "../permissions/permission-set.js";
import type { MemberAccess } from "../permissions/permission-cache.js";
import { topics } from "../pubsub/topics.js";
import type { ChannelRecord } from "../stores/channel-store.js";
import type { GuildRecord } from "../stores/guild-store.js";
import type { OverwriteRecord } from "../stores/permission-store.js";
import { MissingReferenceError } from "../stores/store-errors.js";
import { channelPermissionsOf, guildWithPermission, intoGuild, readableChannel, requireViewer } from "./access.js";
import { announcePermissionChange } from "./permission-changes.js";
import { checkLockPermissions, intoCategory } from "./permission-sync.js";
import { auditActor } from "./audit-log.js";
import { charge, perUser } from "./rate-limit.js";
import { withinCap } from "./resource-caps.js";
import { nameText, optionalInt, text } from "./validate.js";

/** Longest slowmode, as in Discord: 6 hours. */
export const MAX_SLOWMODE_SECONDS = 21_600;

/** An overwrite as a client gives it: whose, and what it allows and denies. */
export interface OverwriteInput {
  targetKind: "ROLE" | "MEMBER";
  targetId: bigint;
  allow: bigint;
  deny: bigint;
}

/**
 * Guild text channel names are lower-case words joined by dashes, as in Discord ("Off Topic"
 * becomes "off-topic"), so they can be typed after a `#`; category names are shown as written.
 */
function channelName(field: string, value: string, kind: "GUILD_TEXT" | "GUILD_CATEGORY"): string {
  if (kind === "GUILD_CATEGORY") return nameText(field, value, 1, 100);
  const name = nameText(field, value, 1, 100).toLowerCase().replace(/\s+/g, "-");
  if (!/^[\p{L}\p{N}_-]+$/u.test(name)) throw badInput(field, `${field} may contain only letters, digits, "-" and "_".`);
  return name;
}

const topicText = (value: string | null | undefined) => (value === null || value === undefined || value.trim() === "" ? null : text("topic", value, 1, 1024, { multiline: true }));

/**
 * What a member may put in an overwrite: only flags that exist in channels (not guild-only ones
 * such as BAN_MEMBERS), and only flags they hold themselves (as in Discord), so nobody hands out
 * more than they have. The owner and administrators hold everything.
 */
function checkOverwriteFlags(field: string, overwrite: Pick<OverwriteInput, "allow" | "deny">, held: bigint): void {
  const used = overwrite.allow | overwrite.deny;
  const guildOnly = used & GUILD_ONLY_PERMISSIONS;
  if (guildOnly !== 0n) throw badInput(field, `Channel overwrites cannot set guild-wide permissions (${toNames(guildOnly).join(", ")}).`);
  if ((overwrite.allow & overwrite.deny) !== 0n) throw badInput(field, `A permission cannot be both allowed and denied (${toNames(overwrite.allow & overwrite.deny).join(", ")}).`);
  const missing = used & ~held;
  if (missing !== 0n) throw forbidden(`You can only allow or deny permissions you have yourself (missing: ${toNames(missing).join(", ")}).`);
}

/** Checks that an overwrite's target is a role of the guild or one of its members. */
async function checkTarget(ctx: RequestContext, state: MemberAccess, field: string, overwrite: OverwriteInput): Promise<void> {
  if (overwrite.targetKind === "ROLE") {
    if (!state.access.roles.has(overwrite.targetId)) throw badInput(field, `${field}.targetId must be a role of this guild.`);
    return;
  }
  const member = await ctx.services.permissions.get(state.access.guildId, overwrite.targetId);
  if (!member || member.roleIds === null) throw badInput(field, `${field}.targetId must be a member of this guild.`);
}

/** Publishes a channel's new state with its overwrites (subscribers decide from them whether they may see it). */
/** The channel's overwrites now (one store read). */
async function overwritesNow(ctx: RequestContext, channelId: bigint): Promise<OverwriteRecord[]> {
  return (await ctx.services.roles.listOverwrites([channelId])).get(channelId) ?? [];
}

/** Tells the guild about a new channel, with its overwrites (so each stream decides who sees it). */
async function announceCreated(ctx: RequestContext, channel: ChannelRecord & { guildId: bigint }): Promise<void> {
  await ctx.services.bus.publish(topics.guild(channel.guildId), { type: "ChannelCreated", guildId: channel.guildId, channel, overwrites: await overwritesNow(ctx, channel.id) });
}

/**
 * Tells the guild about a changed channel, with its overwrites before and after the change: a
 * member who could see it before but not now hears ChannelDeleted, one who sees it only now
 * ChannelCreated (resolvers/subscriptions.ts).
 */
async function announceUpdated(ctx: RequestContext, channel: ChannelRecord & { guildId: bigint }, previousOverwrites: OverwriteRecord[]): Promise<void> {
  const overwrites = await overwritesNow(ctx, channel.id);
  await ctx.services.bus.publish(topics.guild(channel.guildId), { type: "ChannelUpdated", guildId: channel.guildId, channel, overwrites, previousOverwrites });
}

/**
 * Creates a text channel or a category at the end of a guild's list (MANAGE_CHANNELS), with
 * initial overwrites (MANAGE_ROLES, only permissions the creator holds): a private channel is
 * one whose @everyone overwrite denies VIEW_CHANNEL. LIMIT_EXCEEDED at MAX_CHANNELS_PER_GUILD.
 */
export async function createChannel(
  ctx: RequestContext,
  input: { guildId: bigint; name: string; kind?: "GUILD_TEXT" | "GUILD_CATEGORY" | null; parentId?: bigint | null; topic?: string | null; rateLimitPerUser?: number | null; permissionOverwrites?: readonly OverwriteInput[] | null },
): Promise<ChannelRecord> {
  const viewer = requireViewer(ctx);
  await charge(ctx, perUser(ctx, "guild.manage"));
  const kind = input.kind ?? "GUILD_TEXT";
  const name = channelName("name", input.name, kind);
  const topic = kind === "GUILD_CATEGORY" ? null : topicText(input.topic);
  const rateLimitPerUser = optionalInt("rateLimitPerUser", input.rateLimitPerUser, 0, MAX_SLOWMODE_SECONDS) ?? 0;
  const overwrites = input.permissionOverwrites ?? [];
  // No overwrites given: a text channel in a category gets a copy of the category's (Discord's sync).
  const inherits = input.permissionOverwrites == null && input.parentId != null && kind === "GUILD_TEXT";
  if (overwrites.length > 100) throw badInput("permissionOverwrites", "At most 100 overwrites per channel.");
  const { state } = await guildWithPermission(ctx, input.guildId, "MANAGE_CHANNELS", "create channels");
  if (overwrites.length > 0) {
    const held = guildPermissions(state.access, viewer.id, state.roleIds ?? []);
    if (!has(held, PERMISSIONS.MANAGE_ROLES)) throw forbidden("You need the MANAGE_ROLES permission to set a channel's overwrites.");
    for (const [i, overwrite] of overwrites.entries()) {
      checkOverwriteFlags(`permissionOverwrites[${i}]`, overwrite, held);
      await checkTarget(ctx, state, `permissionOverwrites[${i}]`, overwrite);
    }
  }
  // Counted under the guild's lock with the position: concurrent creates cannot pass the cap together.
  const maxChannels = ctx.services.settings.caps.channelsPerGuild;
  const channel = await intoGuild(
    input.guildId,
    withinCap(
      intoParent(
        ctx.services.channels.createGuildChannel({ id: ctx.services.newId(), guildId: input.guildId, name, kind, parentId: input.parentId ?? null, topic, rateLimitPerUser, overwrites: inherits ? undefined : overwrites, maxChannels }, auditActor(ctx)),
      ),
    ),
  );
  // Every instance re-reads the guild's access, which holds its channels (see permissions/readable-channels.ts).
  await announcePermissionChange(ctx.services, { guildId: input.guildId, userId: null });
  await announceCreated(ctx, channel as ChannelRecord & { guildId: bigint });
  return channel;
}

/** A store write naming a category: BAD_USER_INPUT when it is not one of the guild's. */
async function intoParent<T>(write: Promise<T>): Promise<T> {
  try {
    return await write;
  } catch (error) {
    if (error instanceof MissingReferenceError && error.what === "parent") throw badInput("parentId", "parentId must be a category of the same guild (categories cannot be nested).");
    throw error;
  }
}

/** A guild channel in which the viewer has MANAGE_CHANNELS; NOT_FOUND/FORBIDDEN otherwise. */
async function managedChannel(ctx: RequestContext, channelId: bigint, action: string): Promise<ChannelRecord & { guildId: bigint }> {
  const channel = await readableChannel(ctx, channelId);
  if (channel.guildId === null) throw forbidden(`Direct message channels cannot be ${action === "delete it" ? "deleted" : "edited"} this way.`);
  if (!has(await channelPermissionsOf(ctx, channel), PERMISSIONS.MANAGE_CHANNELS)) throw forbidden(`You need the MANAGE_CHANNELS permission in this channel to ${action}.`);
  return channel as ChannelRecord & { guildId: bigint };
}

/**
 * Renames, moves, re-parents or re-topics a guild channel, or sets its slowmode (MANAGE_CHANNELS
 * there). Re-parenting keeps the channel's overwrites; `lockPermissions: true` replaces them with
 * its (new) category's in the same transaction (also MANAGE_ROLES; see resolvers/permission-sync.ts).
 */
export async function updateChannel(
  ctx: RequestContext,
  input: { channelId: bigint; name?: string | null; position?: number | null; topic?: string | null; rateLimitPerUser?: number | null; parentId?: bigint | null; clearParent?: boolean | null; lockPermissions?: boolean | null },
): Promise<ChannelRecord> {
  requireViewer(ctx);
  await charge(ctx, perUser(ctx, "guild.manage"));
  const position = optionalInt("position", input.position, 0, 10_000) ?? undefined;
  const rateLimitPerUser = optionalInt("rateLimitPerUser", input.rateLimitPerUser, 0, MAX_SLOWMODE_SECONDS) ?? undefined;
  const current = await managedChannel(ctx, input.channelId, "edit it");
  const name = input.name === null || input.name === undefined ? undefined : channelName("name", input.name, current.kind === "GUILD_CATEGORY" ? "GUILD_CATEGORY" : "GUILD_TEXT");
  const topic = input.topic === undefined ? undefined : topicText(input.topic);
  const parentId = input.clearParent ? null : (input.parentId ?? undefined);
  if ([name, position, topic, rateLimitPerUser, parentId, input.lockPermissions || undefined].every((v) => v === undefined)) {
    throw badInput("name", "Give something to change: name, position, topic, rateLimitPerUser, parentId, clearParent or lockPermissions.");
  }
  const sync = input.lockPermissions ? await checkLockPermissions(ctx, current, parentId) : null;
  const patch = { name, position, topic, rateLimitPerUser, parentId, ...(sync ? { lockPermissions: true } : {}) };
  const channel = await intoParent(intoCategory(ctx.services.channels.updateGuildChannel(input.channelId, patch, auditActor(ctx))));
  if (!channel || channel.guildId === null) throw notFound("Channel", String(input.channelId));
  const overwrites = await overwritesNow(ctx, channel.id);
  // Overwrites synced or not, the guild's cached channels (name, slowmode, position) changed.
  await announcePermissionChange(ctx.services, { guildId: channel.guildId, userId: null });
  await ctx.services.bus.publish(topics.guild(channel.guildId), { type: "ChannelUpdated", guildId: channel.guildId, channel, overwrites, previousOverwrites: sync?.before ?? overwrites });
  return channel;
}

/** Deletes a guild channel and its history (MANAGE_CHANNELS there); its subscribers are told and stopped. */
export async function deleteChannel(ctx: RequestContext, channelId: bigint): Promise<boolean> {
  requireViewer(ctx);
  await charge(ctx, perUser(ctx, "guild.manage"));
  const channel = await managedChannel(ctx, channelId, "delete it");
  const { services } = ctx;
  if (!(await services.channels.deleteChannel(channelId, auditActor(ctx)))) throw notFound("Channel", String(channelId));
  const event = { type: "ChannelDeleted", channelId, guildId: channel.guildId } as const;
  await services.bus.publish(topics.channel(channelId), event);
  await services.bus.publish(topics.guild(channel.guildId), event);
  await announcePermissionChange(services, { guildId: channel.guildId, userId: null });
  await services.messages.deleteChannel(channelId);
  await services.readStates.deleteChannel(channelId);
  return true;
}

/**
 * Sets a role's or a member's overwrite on a guild channel (MANAGE_ROLES there; only flags the
 * viewer holds in the channel). Takes effect everywhere at once: live streams of members who
 * lose VIEW_CHANNEL end within a second.
 */
export async function setPermissionOverwrite(ctx: RequestContext, input: { channelId: bigint } & OverwriteInput): Promise<OverwriteRecord> {
  const viewer = requireViewer(ctx);
  await charge(ctx, perUser(ctx, "guild.manage"));
  const channel = await readableChannel(ctx, input.channelId);
  if (channel.guildId === null) throw forbidden("Direct message channels have no permission overwrites.");
  if (!has(await channelPermissionsOf(ctx, channel), PERMISSIONS.MANAGE_ROLES)) throw forbidden("You need the MANAGE_ROLES permission in this channel to change its permission overwrites.");
  const state = await ctx.services.permissions.get(channel.guildId, viewer.id);
  if (!state) throw notFound("Channel", String(input.channelId));
  const held = (await channelPermissionsOf(ctx, channel)) | (guildPermissions(state.access, viewer.id, state.roleIds ?? []) === ALL_PERMISSIONS ? ALL_PERMISSIONS : 0n);
  checkOverwriteFlags("input", input, held);
  await checkTarget(ctx, state, "input", input);
  const before = await overwritesNow(ctx, channel.id);
  const overwrite = await intoChannel(input.channelId, ctx.services.roles.setOverwrite({ channelId: channel.id, targetKind: input.targetKind, targetId: input.targetId, allow: input.allow, deny: input.deny }, auditActor(ctx)));
  await announcePermissionChange(ctx.services, { guildId: channel.guildId, userId: null });
  await announceUpdated(ctx, channel as ChannelRecord & { guildId: bigint }, before);
  return overwrite;
}

/** Removes a role's or a member's overwrite from a guild channel (MANAGE_ROLES there); false if there was none. */
export async function deletePermissionOverwrite(ctx: RequestContext, input: { channelId: bigint; targetKind: "ROLE" | "MEMBER"; targetId: bigint }): Promise<boolean> {
  requireViewer(ctx);
  await charge(ctx, perUser(ctx, "guild.manage"));
  const channel = await readableChannel(ctx, input.channelId);
  if (channel.guildId === null) throw forbidden("Direct message channels have no permission overwrites.");
  if (!has(await channelPermissionsOf(ctx, channel), PERMISSIONS.MANAGE_ROLES)) throw forbidden("You need the MANAGE_ROLES permission in this channel to change its permission overwrites.");
  const before = await overwritesNow(ctx, channel.id);
  const removed = await ctx.services.roles.deleteOverwrite(channel.id, input.targetKind, input.targetId, auditActor(ctx));
  if (removed) {
    await announcePermissionChange(ctx.services, { guildId: channel.guildId, userId: null });
    await announceUpdated(ctx, channel as ChannelRecord & { guildId: bigint }, before);
  }
  return removed;
}

/**
 * A guild's channels and categories that the viewer can see (VIEW_CHANNEL), in display order:
 * one store read for the list, permissions from the cache.
 */
export async function listVisibleChannels(ctx: RequestContext, guild: GuildRecord): Promise<ChannelRecord[]> {
  const viewer = requireViewer(ctx);
  const [channels, state] = await Promise.all([ctx.services.channels.listGuildChannels(guild.id), ctx.services.permissions.get(guild.id, viewer.id)]);
  if (!state || state.roleIds === null) return [];
  const roleIds = state.roleIds;
  return channels.filter((channel) => has(channelPermissions(state.access, viewer.id, roleIds, channel.id), PERMISSIONS.VIEW_CHANNEL));
}

/** A store write into a channel the viewer was just allowed to use: NOT_FOUND if it is gone by then. */
async function intoChannel<T>(channelId: bigint, write: Promise<T>): Promise<T> {
  try {
    return await write;
  } catch (error) {
    if (error instanceof MissingReferenceError) throw notFound("Channel", String(channelId));
    throw error;
  }
}
