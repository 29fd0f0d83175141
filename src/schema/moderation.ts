import { badInput } from "../errors.js";
import { banMember, listBans, transferGuildOwnership, unbanMember } from "../resolvers/moderation.js";
import type { BanRecord } from "../stores/guild-store.js";
import { builder } from "./builder.js";
import { pageCost, perItemRead } from "./cost.js";
import { optionalId, parseId } from "./ids.js";
import { GuildRef, UserRef } from "./refs.js";

const BanRef = builder.objectRef<BanRecord>("Ban").implement({
  description: "A user barred from a guild: no invite lets them in until the ban is lifted.",
  fields: (t) => ({
    user: t.field({ type: UserRef, nullable: true, resolve: (b, _a, ctx) => ctx.loaders.user.load(b.userId) }),
    moderator: t.field({ type: UserRef, nullable: true, description: "Who banned them (null if unknown or deleted).", resolve: (b, _a, ctx) => (b.moderatorId === null ? null : ctx.loaders.user.load(b.moderatorId)) }),
    reason: t.string({ nullable: true, resolve: (b) => b.reason }),
    createdAt: t.field({ type: "DateTime", resolve: (b) => b.createdAt }),
  }),
});

builder.objectField(GuildRef, "bans", (t) =>
  t.connection({
    type: BanRef,
    description: "Banned users by user id (BAN_MEMBERS; FORBIDDEN otherwise); the cursor is the user id. At most 100 per page (default 50); `first`/`after` only.",
    extensions: { ...pageCost({ default: 50, max: 100 }), ...perItemRead() },
    resolve: async (guild, args, ctx) => {
      if (args.last != null || args.before != null) throw badInput(args.last != null ? "last" : "before", "Bans page forward only: use first and after.");
      const { bans, hasNextPage } = await listBans(ctx, guild, { first: args.first, after: optionalId("after", args.after) });
      return {
        edges: bans.map((b) => ({ cursor: String(b.userId), node: b })),
        pageInfo: {
          hasNextPage,
          hasPreviousPage: args.after != null,
          startCursor: bans[0] ? String(bans[0].userId) : null,
          endCursor: bans.length > 0 ? String(bans[bans.length - 1]!.userId) : null,
        },
      };
    },
  }),
);

const BanMemberInput = builder.inputType("BanMemberInput", {
  fields: (t) => ({
    guildId: t.id({ required: true }),
    userId: t.id({ required: true, description: "A member, or any user (to keep them out before they join)." }),
    reason: t.string({ description: "Up to 512 characters, one line; shown in Guild.bans." }),
  }),
});
const GuildUserInput = builder.inputType("GuildUserInput", {
  fields: (t) => ({ guildId: t.id({ required: true }), userId: t.id({ required: true }) }),
});

builder.mutationFields((t) => ({
  banMember: t.field({
    type: BanRef,
    description:
      "Bans a user ranked below you (BAN_MEMBERS): a member is removed at once (their streams of the guild end, reason BANNED) and no invite lets them back until unbanMember. Banning again returns the standing ban.",
    args: { input: t.arg({ type: BanMemberInput, required: true }) },
    resolve: (_r, { input }, ctx) => banMember(ctx, { guildId: parseId("guildId", input.guildId), userId: parseId("userId", input.userId), reason: input.reason }),
  }),
  unbanMember: t.boolean({
    description: "Lifts a ban (BAN_MEMBERS); false if the user was not banned.",
    args: { input: t.arg({ type: GuildUserInput, required: true }) },
    resolve: (_r, { input }, ctx) => unbanMember(ctx, { guildId: parseId("guildId", input.guildId), userId: parseId("userId", input.userId) }),
  }),
  transferGuildOwnership: t.field({
    type: GuildRef,
    description: "Makes another member (a person, not a bot) the owner (owner only); you stay a member with your roles.",
    args: { input: t.arg({ type: GuildUserInput, required: true }) },
    resolve: (_r, { input }, ctx) => transferGuildOwnership(ctx, { guildId: parseId("guildId", input.guildId), userId: parseId("userId", input.userId) }),
  }),
}));
