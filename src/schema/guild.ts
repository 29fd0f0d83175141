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

export const MemberRef = builder.objectRef<MemberRecord>("GuildMember").implement({
  description: "A user's membership in a guild. `id` is `<guild id>:<user id>`, the same in Guild.members and timeoutMember.",
  fields: (t) => ({
    id: t.id({ description: "`<guild id>:<user id>`: stable for as long as the membership lasts (and the same again if they rejoin).", resolve: (m) => compositeId(m.guildId, m.userId) }),
    user: t.field({ type: UserRef, nullable: true, resolve: (m, _a, ctx) => ctx.loaders.user.load(m.userId) }),
    joinedAt: t.field({ type: "DateTime", resolve: (m) => m.joinedAt }),
  }),
});

GuildRef.implement({
  description: "A community: members and text channels, owned by one user.",
  fields: (t) => ({
    id: t.id({ resolve: (o) => String(o.id) }),
    name: t.exposeString("name"),
    owner: t.field({ type: UserRef, nullable: true, resolve: (g, _a, ctx) => ctx.loaders.user.load(g.ownerId) }),
    memberCount: t.exposeInt("memberCount"),
    createdAt: t.field({ type: "DateTime", resolve: (g) => g.createdAt }),
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
        fields: (c) => ({
          totalCount: c.int({
            description: "How many members the guild has (its memberCount): exact, and free (kept with each join and leave, not counted per query).",
            resolve: (connection) => connection.totalCount,
          }),
        }),
      },
    ),
  }),
});

export const InviteRef = builder.objectRef<InviteRecord>("Invite").implement({
  description: "A code that lets anyone who has it join a guild, within its limits. `id` is the code.",
  fields: (t) => ({
    id: t.id({ description: "The invite's code (its key): the same as `code`, for caches that key objects by `id`.", resolve: (i) => i.code }),
    code: t.exposeString("code"),
    guild: t.field({ type: GuildRef, nullable: true, resolve: (i, _a, ctx) => ctx.loaders.guild.load(i.guildId) }),
    inviter: t.field({ type: UserRef, nullable: true, resolve: (i, _a, ctx) => ctx.loaders.user.load(i.inviterId) }),
    maxUses: t.exposeInt("maxUses", { nullable: true, description: "Null: unlimited." }),
    uses: t.exposeInt("uses"),
    expiresAt: t.field({ type: "DateTime", nullable: true, description: "Null: never.", resolve: (i) => i.expiresAt }),
    createdAt: t.field({ type: "DateTime", resolve: (i) => i.createdAt }),
  }),
});

builder.queryField("guild", (t) =>
  t.field({
    type: GuildRef,
    description: "A guild you belong to (NOT_FOUND otherwise).",
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, args, ctx) => visibleGuild(ctx, parseId("id", args.id)),
  }),
);

const CreateGuildInput = builder.inputType("CreateGuildInput", {
  fields: (t) => ({ name: t.string({ required: true, description: "2 to 100 characters." }) }),
});
const UpdateGuildInput = builder.inputType("UpdateGuildInput", {
  fields: (t) => ({ guildId: t.id({ required: true }), name: t.string({ required: true, description: "2 to 100 characters." }) }),
});
const CreateInviteInput = builder.inputType("CreateInviteInput", {
  fields: (t) => ({
    guildId: t.id({ required: true }),
    maxUses: t.int({ description: "1 to 1,000,000; omit for unlimited." }),
    expiresInSeconds: t.int({ description: "1 second to 30 days; omit for never." }),
  }),
});
const KickMemberInput = builder.inputType("KickMemberInput", {
  fields: (t) => ({
    guildId: t.id({ required: true }),
    userId: t.id({ required: true }),
    reason: t.string({ description: "Up to 512 characters; recorded in the audit log." }),
  }),
});

builder.mutationFields((t) => ({
  createGuild: t.field({
    type: GuildRef,
    description: "Creates a guild you own, with a `general` text channel; LIMIT_EXCEEDED if you already belong to MAX_GUILDS_PER_USER guilds (200 by default).",
    args: { input: t.arg({ type: CreateGuildInput, required: true }) },
    resolve: (_r, { input }, ctx) => createGuild(ctx, input),
  }),
  updateGuild: t.field({
    type: GuildRef,
    description: "Renames a guild (MANAGE_GUILD). Audited (GUILD_UPDATE).",
    args: { input: t.arg({ type: UpdateGuildInput, required: true }) },
    resolve: (_r, { input }, ctx) => updateGuild(ctx, { guildId: parseId("guildId", input.guildId), name: input.name }),
  }),
  deleteGuild: t.boolean({
    description: "Deletes a guild with all its channels and messages (owner only).",
    args: { guildId: t.arg.id({ required: true }) },
    resolve: (_r, args, ctx) => deleteGuild(ctx, parseId("guildId", args.guildId)),
  }),
  createInvite: t.field({
    type: InviteRef,
    description: "Creates an invite code; any member may.",
    args: { input: t.arg({ type: CreateInviteInput, required: true }) },
    resolve: (_r, { input }, ctx) =>
      createInvite(ctx, { guildId: parseId("guildId", input.guildId), maxUses: input.maxUses, expiresInSeconds: input.expiresInSeconds }),
  }),
  joinGuild: t.field({
    type: GuildRef,
    description: "Joins the guild of an invite code; LIMIT_EXCEEDED (the invite unused) if you already belong to MAX_GUILDS_PER_USER guilds.",
    args: { code: t.arg.string({ required: true }) },
    resolve: (_r, args, ctx) => joinGuild(ctx, args.code),
  }),
  leaveGuild: t.boolean({
    description: "Leaves a guild. Owners cannot leave (delete the guild instead).",
    args: { guildId: t.arg.id({ required: true }) },
    resolve: (_r, args, ctx) => leaveGuild(ctx, parseId("guildId", args.guildId)),
  }),
  kickMember: t.boolean({
    description: "Removes a member ranked below you from a guild (KICK_MEMBERS). Their live subscriptions to it end at once; they may rejoin with an invite.",
    args: { input: t.arg({ type: KickMemberInput, required: true }) },
    resolve: (_r, { input }, ctx) =>
      kickMember(ctx, { guildId: parseId("guildId", input.guildId), userId: parseId("userId", input.userId), reason: input.reason }),
  }),
}));
