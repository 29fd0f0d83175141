import { createChannel, deleteChannel, MAX_SLOWMODE_SECONDS, updateChannel } from "../resolvers/guild-channels.js";
import { permissionsSynced } from "../resolvers/permission-sync.js";
import { has, PERMISSIONS, toBits } from "../permissions/permission-set.js";
import { channelPermissionsOf } from "../resolvers/access.js";
import { builder } from "./builder.js";
import { optionalId, parseId } from "./ids.js";
import { OverwriteTargetEnum, PermissionEnum } from "./permissions.js";
import { ChannelRef } from "./refs.js";

const GuildChannelKindEnum = builder.enumType("GuildChannelKind", {
  description: "What createChannel makes.",
  values: {
    GUILD_TEXT: { description: "A text channel." },
    GUILD_CATEGORY: { description: "A category that groups channels." },
  } as const,
});

builder.objectFields(ChannelRef, (t) => ({
  parent: t.field({
    type: ChannelRef,
    nullable: true,
    description: "The category this channel sits in; null if none, or if you cannot see it.",
    resolve: async (c, _a, ctx) => {
      if (c.parentId === null) return null;
      // The loader checks membership only: a category hidden from the viewer (no VIEW_CHANNEL) is not shown.
      const parent = await ctx.loaders.readableChannel.load(c.parentId);
      return parent && has(await channelPermissionsOf(ctx, parent), PERMISSIONS.VIEW_CHANNEL) ? parent : null;
    },
  }),
  permissionsSynced: t.boolean({
    nullable: true,
    description:
      "True when this channel's permission overwrites are exactly its category's (a channel created in a category without permissionOverwrites starts synced; updateChannel(lockPermissions: true) syncs it again); false once they differ; null for channels in no category, categories and DMs.",
    resolve: (c, _a, ctx) => permissionsSynced(ctx, c),
  }),
  topic: t.exposeString("topic", { nullable: true, description: "What the channel is about; null if none was set (or it was cleared)." }),
  rateLimitPerUser: t.exposeInt("rateLimitPerUser", {
    description: `Slowmode: seconds a member waits between two messages here (0 to ${MAX_SLOWMODE_SECONDS}; 0: off). MANAGE_MESSAGES and MANAGE_CHANNELS are exempt.`,
  }),
}));

const OverwriteInput = builder.inputType("PermissionOverwriteInput", {
  description: "A new channel's overwrite for a role or a member.",
  fields: (t) => ({
    targetKind: t.field({ type: OverwriteTargetEnum, required: true, description: "Whether targetId is a role or a member." }),
    targetId: t.id({ required: true, description: "A role of the guild (its id for @everyone) or a member." }),
    allow: t.field({ type: [PermissionEnum], required: true, description: "Permissions granted in the channel: only channel permissions you have yourself." }),
    deny: t.field({ type: [PermissionEnum], required: true, description: "Permissions taken away in the channel: only channel permissions you have yourself, none also in allow." }),
  }),
});

const CreateChannelInput = builder.inputType("CreateChannelInput", {
  description: "A new text channel or category.",
  fields: (t) => ({
    guildId: t.id({ required: true, description: "The guild to create it in (MANAGE_CHANNELS)." }),
    name: t.string({ required: true, description: '1 to 100 characters; for text channels lower-cased, spaces become "-".' }),
    kind: t.field({ type: GuildChannelKindEnum, description: "GUILD_TEXT (the default) or GUILD_CATEGORY." }),
    parentId: t.id({ description: "A category of the guild to put the channel in. Omitted: none (top level)." }),
    topic: t.string({ description: "Up to 1024 characters. Omitted: none." }),
    rateLimitPerUser: t.int({ description: `Slowmode seconds, 0 to ${MAX_SLOWMODE_SECONDS}. Omitted: 0 (off).` }),
    permissionOverwrites: t.field({
      type: [OverwriteInput],
      description:
        "Initial overwrites (MANAGE_ROLES; only permissions you have). Deny @everyone VIEW_CHANNEL for a private channel. Omitted (not []) for a text channel with a parentId: a copy of the category's overwrites (the channel starts synced with it).",
    }),
  }),
});
const UpdateChannelInput = builder.inputType("UpdateChannelInput", {
  description: "What to change on a guild channel or category; fields left out (or null) stay as they are.",
  fields: (t) => ({
    channelId: t.id({ required: true, description: "A guild channel or category where you have MANAGE_CHANNELS." }),
    name: t.string({ description: "New name." }),
    position: t.int({ description: "New 0-based place in the list; the others shift to make room." }),
    topic: t.string({ description: "New topic; an empty string removes it." }),
    rateLimitPerUser: t.int({ description: `Slowmode seconds, 0 to ${MAX_SLOWMODE_SECONDS}.` }),
    parentId: t.id({ description: "Move into this category (the channel keeps its overwrites unless lockPermissions)." }),
    clearParent: t.boolean({ description: "true: take the channel out of its category. false or omitted: no change." }),
    lockPermissions: t.boolean({
      description:
        "true: replace the channel's overwrites with a copy of its category's (the new one when parentId is given), in the same write. Needs MANAGE_ROLES in the channel too, and the copied overwrites may only set permissions you have (as setPermissionOverwrite).",
    }),
  }),
});

builder.mutationFields((t) => ({
  createChannel: t.field({
    type: ChannelRef,
    description: "Creates a text channel or a category at the end of a guild's list (MANAGE_CHANNELS); LIMIT_EXCEEDED at MAX_CHANNELS_PER_GUILD (500 by default).",
    args: { input: t.arg({ type: CreateChannelInput, required: true, description: "The guild and the new channel." }) },
    resolve: (_r, { input }, ctx) =>
      createChannel(ctx, {
        guildId: parseId("guildId", input.guildId),
        name: input.name,
        kind: input.kind,
        parentId: optionalId("parentId", input.parentId),
        topic: input.topic,
        rateLimitPerUser: input.rateLimitPerUser,
        permissionOverwrites: input.permissionOverwrites?.map((o, i) => ({
          targetKind: o.targetKind,
          targetId: parseId(`permissionOverwrites[${i}].targetId`, o.targetId),
          allow: toBits(o.allow),
          deny: toBits(o.deny),
        })),
      }),
  }),
  updateChannel: t.field({
    type: ChannelRef,
    description: "Renames, moves, re-parents a guild channel, or changes its topic or slowmode (MANAGE_CHANNELS in it).",
    args: { input: t.arg({ type: UpdateChannelInput, required: true, description: "The channel and what changes." }) },
    resolve: (_r, { input }, ctx) =>
      updateChannel(ctx, {
        channelId: parseId("channelId", input.channelId),
        name: input.name,
        position: input.position,
        topic: input.topic,
        rateLimitPerUser: input.rateLimitPerUser,
        parentId: optionalId("parentId", input.parentId),
        clearParent: input.clearParent,
        lockPermissions: input.lockPermissions,
      }),
  }),
  deleteChannel: t.boolean({
    description: "Deletes a guild channel and its messages (MANAGE_CHANNELS in it); a category's channels stay, outside any category.",
    args: { channelId: t.arg.id({ required: true, description: "A guild channel or category where you have MANAGE_CHANNELS." }) },
    resolve: (_r, args, ctx) => deleteChannel(ctx, parseId("channelId", args.channelId)),
  }),
}));
