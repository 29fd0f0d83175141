import { deletePermissionOverwrite, setPermissionOverwrite } from "../resolvers/guild-channels.js";
import { myChannelPermissions, myGuildPermissions, overwritesOf, rolesOfMember } from "../resolvers/permission-views.js";
import { addMemberRole, createRole, deleteRole, listRoles, moveRole, removeMemberRole, updateRole } from "../resolvers/roles.js";
import { PERMISSION_NAMES, toBits, toNames, type PermissionName } from "../permissions/permission-set.js";
import type { OverwriteRecord, RoleRecord } from "../stores/permission-store.js";
import { builder } from "./builder.js";
import { listCost, perItemRead } from "./cost.js";
import { compositeId } from "./entity-ids.js";
import { MemberRef } from "./guild.js";
import { parseId } from "./ids.js";
import { PER_VIEWER } from "./per-viewer.js";
import { ChannelRef, GuildRef } from "./refs.js";

/** What each permission lets a member do (Discord's names and bit positions). */
const PERMISSION_DESCRIPTIONS: Record<PermissionName, string> = {
  CREATE_INSTANT_INVITE: "Create invites to the guild.",
  KICK_MEMBERS: "Remove members ranked below you from the guild.",
  BAN_MEMBERS: "Ban members ranked below you (they cannot rejoin).",
  ADMINISTRATOR: "Every permission, in every channel; channel overwrites do not apply.",
  MANAGE_CHANNELS: "Create, edit and delete channels and categories.",
  MANAGE_GUILD: "Rename the guild and change its settings.",
  VIEW_AUDIT_LOG: "Read the guild's audit log (Guild.auditLog).",
  VIEW_CHANNEL: "See a channel and its live messages; without it a channel does not exist for you.",
  SEND_MESSAGES: "Send messages and show typing.",
  MANAGE_MESSAGES: "Delete other members' messages; not slowed by slowmode.",
  READ_MESSAGE_HISTORY: "Read a channel's history (without it, only what arrives live).",
  MENTION_EVERYONE: "Make @everyone and @here notify every reader of the channel, and mention roles that are not mentionable (needs SEND_MESSAGES there). Without it @everyone and @here are plain text.",
  MANAGE_ROLES: "Create, edit, move and give roles below your highest one, and set channel overwrites.",
  MODERATE_MEMBERS: "Time out members ranked below you (timeoutMember); administrators cannot be timed out.",
};

export const PermissionEnum = builder.enumType("Permission", {
  description: "One permission flag; sets of them are lists. The bit positions are Discord's (see README, Permissions).",
  values: Object.fromEntries(PERMISSION_NAMES.map((name) => [name, { description: PERMISSION_DESCRIPTIONS[name] }])) as Record<PermissionName, { description: string }>,
});

export const OverwriteTargetEnum = builder.enumType("OverwriteTarget", {
  description: "Whom a channel's permission overwrite applies to.",
  values: {
    ROLE: { description: "The overwrite applies to a role (the guild's id: @everyone)." },
    MEMBER: { description: "The overwrite applies to one member." },
  } as const,
});

export const RoleRef = builder.objectRef<RoleRecord>("Role").implement({
  description: "A named set of permissions members can be given. @everyone (id = the guild's id, position 0) applies to every member.",
  fields: (t) => ({
    id: t.id({ description: "A snowflake; the guild's id for @everyone.", resolve: (r) => String(r.id) }),
    name: t.exposeString("name", { description: "1 to 100 characters; \"@everyone\" for @everyone." }),
    permissions: t.field({
      type: [PermissionEnum],
      description: "What it grants guild-wide; channel overwrites may change it channel by channel.",
      extensions: listCost(PERMISSION_NAMES.length),
      resolve: (r) => toNames(r.permissions),
    }),
    position: t.exposeInt("position", { description: "Rank in the hierarchy: higher outranks lower; @everyone is 0." }),
    color: t.exposeInt("color", { description: "RGB as an integer; 0: no colour." }),
    hoist: t.exposeBoolean("hoist", { description: "Members with it are listed apart." }),
    mentionable: t.exposeBoolean("mentionable", { description: "Anyone may mention it with <@&id>." }),
    everyone: t.boolean({ description: "True for @everyone.", resolve: (r) => r.id === r.guildId }),
    createdAt: t.field({ type: "DateTime", description: "When it was created (@everyone: with the guild).", resolve: (r) => r.createdAt }),
  }),
});

const OverwriteRef = builder.objectRef<OverwriteRecord>("PermissionOverwrite").implement({
  description:
    "What a channel allows or denies a role or a member on top of their guild permissions. One per (channel, target): " +
    "`id` is `<channel id>:<ROLE or MEMBER>:<target id>`, the same in Channel.permissionOverwrites and setPermissionOverwrite.",
  fields: (t) => ({
    id: t.id({ description: "`<channel id>:<targetKind>:<targetId>`: stable while the overwrite exists.", resolve: (o) => compositeId(o.channelId, o.targetKind, o.targetId) }),
    targetKind: t.field({ type: OverwriteTargetEnum, description: "Whether it applies to a role or to one member.", resolve: (o) => o.targetKind }),
    targetId: t.id({ description: "The role's id (the guild's id for @everyone) or the member's user id.", resolve: (o) => String(o.targetId) }),
    allow: t.field({ type: [PermissionEnum], description: "Permissions granted in this channel.", extensions: listCost(PERMISSION_NAMES.length), resolve: (o) => toNames(o.allow) }),
    deny: t.field({ type: [PermissionEnum], description: "Permissions taken away in this channel.", extensions: listCost(PERMISSION_NAMES.length), resolve: (o) => toNames(o.deny) }),
  }),
});

builder.objectFields(GuildRef, (t) => ({
  roles: t.field({
    type: [RoleRef],
    description: "The guild's roles, highest first (@everyone last); at most MAX_ROLES_PER_GUILD.",
    extensions: { ...listCost("rolesPerGuild"), ...perItemRead() },
    resolve: (g, _a, ctx) => listRoles(ctx, g.id),
  }),
  myPermissions: t.field({
    type: [PermissionEnum],
    description: "Your guild-wide permissions (every one for the owner and administrators).",
    extensions: { ...PER_VIEWER, ...listCost(PERMISSION_NAMES.length) },
    resolve: async (g, _a, ctx) => toNames(await myGuildPermissions(ctx, g)),
  }),
}));

builder.objectFields(ChannelRef, (t) => ({
  myPermissions: t.field({
    type: [PermissionEnum],
    description: "Your permissions in this channel, overwrites applied (in DMs: VIEW_CHANNEL, SEND_MESSAGES, READ_MESSAGE_HISTORY).",
    extensions: { ...PER_VIEWER, ...listCost(PERMISSION_NAMES.length) },
    resolve: async (c, _a, ctx) => toNames(await myChannelPermissions(ctx, c)),
  }),
  permissionOverwrites: t.field({
    type: [OverwriteRef],
    description: "This channel's overwrites (empty for DMs).",
    extensions: { ...listCost(100), ...perItemRead() },
    resolve: (c, _a, ctx) => overwritesOf(ctx, c),
  }),
}));

builder.objectField(MemberRef, "roles", (t) =>
  t.field({
    type: [RoleRef],
    description: "The member's roles, highest first (@everyone not listed).",
    extensions: { ...listCost("rolesPerGuild"), ...perItemRead() },
    resolve: (m, _a, ctx) => rolesOfMember(ctx, m),
  }),
);

const CreateRoleInput = builder.inputType("CreateRoleInput", {
  description: "A new role.",
  fields: (t) => ({
    guildId: t.id({ required: true, description: "The guild to create it in." }),
    name: t.string({ required: true, description: "1 to 100 characters." }),
    permissions: t.field({ type: [PermissionEnum], required: true, description: "Only permissions you have yourself." }),
    color: t.int({ description: "RGB, 0 to 16777215; 0 (the default): no colour." }),
    hoist: t.boolean({ description: "List its members apart (default false)." }),
    mentionable: t.boolean({ description: "Let anyone mention it with <@&id> (default false)." }),
  }),
});
const UpdateRoleInput = builder.inputType("UpdateRoleInput", {
  description: "What to change on a role; fields left out (or null) stay as they are.",
  fields: (t) => ({
    guildId: t.id({ required: true, description: "The role's guild." }),
    roleId: t.id({ required: true, description: "A role below your highest one; the guild's id for @everyone (permissions only)." }),
    name: t.string({ description: "New name, 1 to 100 characters (not for @everyone)." }),
    permissions: t.field({ type: [PermissionEnum], description: "The new full set; the flags that change must be ones you have." }),
    color: t.int({ description: "New colour, RGB 0 to 16777215; 0: none." }),
    hoist: t.boolean({ description: "List its members apart, or not." }),
    mentionable: t.boolean({ description: "Let anyone mention it with <@&id>, or not." }),
  }),
});
const RoleInGuildInput = builder.inputType("RoleInGuildInput", {
  description: "A role of a guild.",
  fields: (t) => ({
    guildId: t.id({ required: true, description: "The guild." }),
    roleId: t.id({ required: true, description: "A role of the guild below your highest one (not @everyone)." }),
  }),
});
const MoveRoleInput = builder.inputType("MoveRoleInput", {
  description: "A role's new place in the hierarchy.",
  fields: (t) => ({
    guildId: t.id({ required: true, description: "The guild." }),
    roleId: t.id({ required: true, description: "A role below your highest one (not @everyone)." }),
    position: t.int({ required: true, description: "1 (just above @everyone) up to just below your highest role." }),
  }),
});
const MemberRoleInput = builder.inputType("MemberRoleInput", {
  description: "A role to give to, or take from, a member.",
  fields: (t) => ({
    guildId: t.id({ required: true, description: "The guild." }),
    userId: t.id({ required: true, description: "A member ranked below you." }),
    roleId: t.id({ required: true, description: "A role below your highest one (not @everyone, which every member has)." }),
  }),
});
const SetOverwriteInput = builder.inputType("SetPermissionOverwriteInput", {
  description: "A channel's overwrite for a role or a member, replaced whole.",
  fields: (t) => ({
    channelId: t.id({ required: true, description: "A guild channel or category where you have MANAGE_ROLES." }),
    targetKind: t.field({ type: OverwriteTargetEnum, required: true, description: "Whether targetId is a role or a member." }),
    targetId: t.id({ required: true, description: "A role of the guild (its id for @everyone) or a member." }),
    allow: t.field({ type: [PermissionEnum], required: true, description: "Permissions granted here: only channel permissions you have yourself." }),
    deny: t.field({ type: [PermissionEnum], required: true, description: "Permissions taken away here: only channel permissions you have yourself, none also in allow." }),
  }),
});
const DeleteOverwriteInput = builder.inputType("DeletePermissionOverwriteInput", {
  description: "The overwrite to remove: its channel and target.",
  fields: (t) => ({
    channelId: t.id({ required: true, description: "A guild channel or category where you have MANAGE_ROLES." }),
    targetKind: t.field({ type: OverwriteTargetEnum, required: true, description: "Whether targetId is a role or a member." }),
    targetId: t.id({ required: true, description: "The role's id (the guild's id for @everyone) or the member's user id." }),
  }),
});

const bits = (names: readonly PermissionName[] | null | undefined) => (names === null || names === undefined ? null : toBits(names));

builder.mutationFields((t) => ({
  createRole: t.field({
    type: RoleRef,
    description: "Creates a role just above @everyone (MANAGE_ROLES). LIMIT_EXCEEDED at MAX_ROLES_PER_GUILD.",
    args: { input: t.arg({ type: CreateRoleInput, required: true, description: "The guild and the new role." }) },
    resolve: (_r, { input }, ctx) =>
      createRole(ctx, { guildId: parseId("guildId", input.guildId), name: input.name, permissions: toBits(input.permissions), color: input.color, hoist: input.hoist, mentionable: input.mentionable }),
  }),
  updateRole: t.field({
    type: RoleRef,
    description: "Changes a role below your highest one (MANAGE_ROLES).",
    args: { input: t.arg({ type: UpdateRoleInput, required: true, description: "The role and what changes." }) },
    resolve: (_r, { input }, ctx) =>
      updateRole(ctx, {
        guildId: parseId("guildId", input.guildId),
        roleId: parseId("roleId", input.roleId),
        name: input.name,
        permissions: bits(input.permissions),
        color: input.color,
        hoist: input.hoist,
        mentionable: input.mentionable,
      }),
  }),
  deleteRole: t.boolean({
    description: "Deletes a role below your highest one (MANAGE_ROLES); its members lose it.",
    args: { input: t.arg({ type: RoleInGuildInput, required: true, description: "The guild and the role." }) },
    resolve: (_r, { input }, ctx) => deleteRole(ctx, { guildId: parseId("guildId", input.guildId), roleId: parseId("roleId", input.roleId) }),
  }),
  moveRole: t.field({
    type: [RoleRef],
    description: "Moves a role within those below your highest one (MANAGE_ROLES); returns the guild's roles, highest first.",
    extensions: listCost("rolesPerGuild"),
    args: { input: t.arg({ type: MoveRoleInput, required: true, description: "The role and its new position." }) },
    resolve: (_r, { input }, ctx) => moveRole(ctx, { guildId: parseId("guildId", input.guildId), roleId: parseId("roleId", input.roleId), position: input.position }),
  }),
  addMemberRole: t.boolean({
    description: "Gives a member ranked below you a role below your highest one (MANAGE_ROLES); false if they had it.",
    args: { input: t.arg({ type: MemberRoleInput, required: true, description: "The guild, the member and the role." }) },
    resolve: (_r, { input }, ctx) => addMemberRole(ctx, { guildId: parseId("guildId", input.guildId), userId: parseId("userId", input.userId), roleId: parseId("roleId", input.roleId) }),
  }),
  removeMemberRole: t.boolean({
    description: "Takes a role below your highest one from a member ranked below you (MANAGE_ROLES); false if they did not have it.",
    args: { input: t.arg({ type: MemberRoleInput, required: true, description: "The guild, the member and the role." }) },
    resolve: (_r, { input }, ctx) =>
      removeMemberRole(ctx, { guildId: parseId("guildId", input.guildId), userId: parseId("userId", input.userId), roleId: parseId("roleId", input.roleId) }),
  }),
  setPermissionOverwrite: t.field({
    type: OverwriteRef,
    description: "Sets what a channel allows and denies a role or a member (MANAGE_ROLES in the channel). Deny @everyone VIEW_CHANNEL to make a channel private.",
    args: { input: t.arg({ type: SetOverwriteInput, required: true, description: "The channel, the target and what it allows and denies." }) },
    resolve: (_r, { input }, ctx) =>
      setPermissionOverwrite(ctx, {
        channelId: parseId("channelId", input.channelId),
        targetKind: input.targetKind,
        targetId: parseId("targetId", input.targetId),
        allow: toBits(input.allow),
        deny: toBits(input.deny),
      }),
  }),
  deletePermissionOverwrite: t.boolean({
    description: "Removes a channel's overwrite for a role or a member (MANAGE_ROLES in the channel); false if there was none.",
    args: { input: t.arg({ type: DeleteOverwriteInput, required: true, description: "The channel and the target." }) },
    resolve: (_r, { input }, ctx) =>
      deletePermissionOverwrite(ctx, { channelId: parseId("channelId", input.channelId), targetKind: input.targetKind, targetId: parseId("targetId", input.targetId) }),
  }),
}));
