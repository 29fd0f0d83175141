import { listMembers, MEMBERS_PAGE, createGuild, updateGuild, deleteGuild, createInvite, joinGuild, leaveGuild, kickMember } from "../resolvers/guilds.js";
import { visibleGuild } from "../resolvers/access.js";
import { listVisibleChannels } from "../resolvers/guild-channels.js";
import type { InviteRecord, MemberRecord } from "../stores/guild-store.js";
import { builder } from "./builder.js";
import { connectionPage } from "./connection-page.js";
import { listCost, pageCost, perItemRead } from "./cost.js";
import { compositeId } from "./entity-ids.js";
import { optionalId, parseId } from "./ids.js";
import { ChannelRef, GuildRef, UserRef } from "./refs.js";

/** An optional `reason` of a moderation operation. */
export const AUDIT_REASON = "Up to 512 characters, one line; recorded in the audit log. Omitted: the request's X-Audit-Log-Reason header, if any.";

export const MemberRef = builder.objectRef<MemberRecord>("GuildMember").implement({
  description: "A user's membership in a guild. `id` is `<guild id>:<user id>`, the same in Guild.members and timeoutMember.",
  fields: (t) => ({
    id: t.id({ description: "`<guild id>:<user id>`: stable for as long as the membership lasts (and the same again if they rejoin).", resolve: (m) => compositeId(m.guildId, m.userId) }),
    user: t.field({ type: UserRef, nullable: true, description: "The member; null only if their account no longer exists.", resolve: (m, _a, ctx) => ctx.loaders.user.load(m.userId) }),
    joinedAt: t.field({ type: "DateTime", description: "When they joined (the last time, if they left and came back).", resolve: (m) => m.joinedAt }),
  }),
});

GuildRef.implement({
  description: "A community: members and text channels, owned by one user.",
  fields: (t) => ({
    id: t.id({ description: "A snowflake; also the id of the guild's @everyone role.", resolve: (o) => String(o.id) }),
    name: t.exposeString("name", { description: "2 to 100 characters, one line." }),
    owner: t.field({
      type: UserRef,
      nullable: true,
      description: "Who owns it (see transferGuildOwnership); null only if their account no longer exists.",
      resolve: (g, _a, ctx) => ctx.loaders.user.load(g.ownerId),
    }),
    memberCount: t.exposeInt("memberCount", { description: "How many members it has, exact (kept with every join and leave)." }),
    createdAt: t.field({ type: "DateTime", description: "When it was created.", resolve: (g) => g.createdAt }),
    channels: t.field({
      type: [ChannelRef],
      description:
        "The channels and categories you can see (VIEW_CHANNEL), in display order; at most MAX_CHANNELS_PER_GUILD (500 by default), and the query cost counts that many.",
      extensions: { ...listCost("channelsPerGuild"), ...perItemRead() },
      resolve: (g, _a, ctx) => listVisibleChannels(ctx, g),
    }),
    members: t.connection(
      {
        type: MemberRef,
        description:
          "Members ordered by user id; the cursor is the user id. Both ways, as Relay says: `first`/`after` page forward, " +
          "`last`/`before` backward (no arguments: the first 50), `after` and `before` together bound a window; `first` with " +
          "`last` is BAD_USER_INPUT. At most 100 per page (default 50).",
        extensions: { ...pageCost(MEMBERS_PAGE), ...perItemRead() },
        resolve: async (guild, args, ctx) => {
          const { members, totalCount, ...flags } = await listMembers(ctx, guild, {
            first: args.first,
            last: args.last,
            after: optionalId("after", args.after),
            before: optionalId("before", args.before),
          });
          return { ...connectionPage(members, flags, (m) => String(m.userId)), totalCount };
        },
      },
      {
        description: "A page of a guild's members, and how many it has in all.",
        fields: (c) => ({
          totalCount: c.int({
            description: "How many members the guild has (its memberCount): exact, and free (kept with each join and leave, not counted per query).",
            resolve: (connection) => connection.totalCount,
          }),
        }),
      },
      { description: "A member, and their cursor (their user id)." },
    ),
  }),
});

export const InviteRef = builder.objectRef<InviteRecord>("Invite").implement({
  description: "A code that lets anyone who has it join a guild, within its limits. `id` is the code.",
  fields: (t) => ({
    id: t.id({ description: "The invite's code (its key): the same as `code`, for caches that key objects by `id`.", resolve: (i) => i.code }),
    code: t.exposeString("code", { description: "What joinGuild takes: random, hard to guess; whoever has it may join (within the limits)." }),
    guild: t.field({ type: GuildRef, nullable: true, description: "The guild it lets you join; null only if the guild was deleted since.", resolve: (i, _a, ctx) => ctx.loaders.guild.load(i.guildId) }),
    inviter: t.field({ type: UserRef, nullable: true, description: "Who created it; null only if their account no longer exists.", resolve: (i, _a, ctx) => ctx.loaders.user.load(i.inviterId) }),
    maxUses: t.exposeInt("maxUses", { nullable: true, description: "Null: unlimited." }),
    uses: t.exposeInt("uses", { description: "How many people joined with it." }),
    expiresAt: t.field({ type: "DateTime", nullable: true, description: "Null: never.", resolve: (i) => i.expiresAt }),
    createdAt: t.field({ type: "DateTime", description: "When it was created.", resolve: (i) => i.createdAt }),
  }),
});

builder.queryField("guild", (t) =>
  t.field({
    type: GuildRef,
    description: "A guild you belong to (NOT_FOUND otherwise).",
    args: { id: t.arg.id({ required: true, description: "The guild's id." }) },
    resolve: (_root, args, ctx) => visibleGuild(ctx, parseId("id", args.id)),
  }),
);

const CreateGuildInput = builder.inputType("CreateGuildInput", {
  description: "A new guild.",
  fields: (t) => ({ name: t.string({ required: true, description: "2 to 100 characters." }) }),
});
const UpdateGuildInput = builder.inputType("UpdateGuildInput", {
  description: "A guild's new settings.",
  fields: (t) => ({ guildId: t.id({ required: true, description: "The guild to change." }), name: t.string({ required: true, description: "2 to 100 characters." }) }),
});
const CreateInviteInput = builder.inputType("CreateInviteInput", {
  description: "A new invite to a guild, and its limits.",
  fields: (t) => ({
    guildId: t.id({ required: true, description: "The guild to invite into (one you belong to)." }),
    maxUses: t.int({ description: "1 to 1,000,000; omit for unlimited." }),
    expiresInSeconds: t.int({ description: "1 second to 30 days; omit for never." }),
  }),
});
const KickMemberInput = builder.inputType("KickMemberInput", {
  description: "Who to remove from which guild, and why.",
  fields: (t) => ({
    guildId: t.id({ required: true, description: "The guild." }),
    userId: t.id({ required: true, description: "The member to remove." }),
    reason: t.string({ description: AUDIT_REASON }),
  }),
});

builder.mutationFields((t) => ({
  createGuild: t.field({
    type: GuildRef,
    description: "Creates a guild you own, with a `general` text channel; LIMIT_EXCEEDED if you already belong to MAX_GUILDS_PER_USER guilds (200 by default).",
    args: { input: t.arg({ type: CreateGuildInput, required: true, description: "The guild's name." }) },
    resolve: (_r, { input }, ctx) => createGuild(ctx, input),
  }),
  updateGuild: t.field({
    type: GuildRef,
    description: "Renames a guild (MANAGE_GUILD). Audited (GUILD_UPDATE).",
    args: { input: t.arg({ type: UpdateGuildInput, required: true, description: "The guild and its new name." }) },
    resolve: (_r, { input }, ctx) => updateGuild(ctx, { guildId: parseId("guildId", input.guildId), name: input.name }),
  }),
  deleteGuild: t.boolean({
    description: "Deletes a guild with all its channels and messages (owner only).",
    args: { guildId: t.arg.id({ required: true, description: "A guild you own." }) },
    resolve: (_r, args, ctx) => deleteGuild(ctx, parseId("guildId", args.guildId)),
  }),
  createInvite: t.field({
    type: InviteRef,
    description: "Creates an invite code; any member may.",
    args: { input: t.arg({ type: CreateInviteInput, required: true, description: "The guild and the invite's limits." }) },
    resolve: (_r, { input }, ctx) =>
      createInvite(ctx, { guildId: parseId("guildId", input.guildId), maxUses: input.maxUses, expiresInSeconds: input.expiresInSeconds }),
  }),
  joinGuild: t.field({
    type: GuildRef,
    description: "Joins the guild of an invite code; LIMIT_EXCEEDED (the invite unused) if you already belong to MAX_GUILDS_PER_USER guilds.",
    args: { code: t.arg.string({ required: true, description: "An invite's code." }) },
    resolve: (_r, args, ctx) => joinGuild(ctx, args.code),
  }),
  leaveGuild: t.boolean({
    description: "Leaves a guild. Owners cannot leave (delete the guild instead).",
    args: { guildId: t.arg.id({ required: true, description: "A guild you belong to." }) },
    resolve: (_r, args, ctx) => leaveGuild(ctx, parseId("guildId", args.guildId)),
  }),
  kickMember: t.boolean({
    description: "Removes a member ranked below you from a guild (KICK_MEMBERS). Their live subscriptions to it end at once; they may rejoin with an invite.",
    args: { input: t.arg({ type: KickMemberInput, required: true, description: "The guild, the member and a reason." }) },
    resolve: (_r, { input }, ctx) =>
      kickMember(ctx, { guildId: parseId("guildId", input.guildId), userId: parseId("userId", input.userId), reason: input.reason }),
  }),
}));
