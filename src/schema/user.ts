import { badInput, forbidden } from "../errors.js";
import { requireViewer } from "../resolvers/access.js";
import { createBot, listBots, login, logout, register, resetBotToken, type AuthPayload } from "../resolvers/accounts.js";
import type { UserRecord } from "../stores/account-store.js";
import { optionalId, parseId } from "./ids.js";
import { listMyDirectMessages, MAX_DIRECT_MESSAGES_PAGE } from "../resolvers/channels.js";
import { listMyGuilds } from "../resolvers/guilds.js";
import { builder } from "./builder.js";
import { idListCost, listCost, pageCost, perItemRead } from "./cost.js";
import { ChannelRef, GuildRef, UserRef } from "./refs.js";
import { PER_VIEWER } from "./per-viewer.js";

UserRef.implement({
  description: "A person or a bot.",
  fields: (t) => ({
    id: t.id({ description: "A snowflake: sorts by sign-up time.", resolve: (o) => String(o.id) }),
    username: t.exposeString("username", { description: "Unique regardless of case: 2 to 32 ASCII letters, digits, `_` and `.`." }),
    bot: t.exposeBoolean("bot", { description: "True for bot accounts, which authenticate with a token only." }),
    createdAt: t.field({ type: "DateTime", description: "When the account was registered (a bot: created).", resolve: (user) => user.createdAt }),
    guilds: t.field({
      type: [GuildRef],
      description: "The guilds this user belongs to, oldest membership first (at most MAX_GUILDS_PER_USER). Only readable on yourself (`me`).",
      extensions: { ...PER_VIEWER, ...listCost("guildsPerUser"), ...perItemRead() },
      resolve: (user, _args, ctx) => {
        if (ctx.viewer?.id !== user.id) throw forbidden("You can only list your own guilds.");
        return listMyGuilds(ctx);
      },
    }),
    directMessages: t.field({
      type: [ChannelRef],
      description:
        "The DMs and group DMs this user is in, newest first: `first` of them (1 to 100, default 100), " +
        "older than the DM `before` when given (pass the last id of a page for the next). Only readable on yourself (`me`).",
      args: {
        first: t.arg.int({ description: `How many, 1 to ${MAX_DIRECT_MESSAGES_PAGE} (the default).` }),
        before: t.arg.id({ description: "Only DMs that come after this one in the list (the last id of the previous page)." }),
      },
      extensions: { ...PER_VIEWER, ...pageCost({ default: MAX_DIRECT_MESSAGES_PAGE, max: MAX_DIRECT_MESSAGES_PAGE }), ...perItemRead() },
      resolve: (user, args, ctx) => listMyDirectMessages(ctx, user, { first: args.first, before: optionalId("before", args.before) }),
    }),
    bots: t.field({
      type: [UserRef],
      description: "Bots this user created (at most MAX_BOTS_PER_USER). Only readable on yourself; empty for others.",
      extensions: { ...PER_VIEWER, ...listCost("botsPerUser"), ...perItemRead() },
      resolve: (user, _args, ctx) => listBots(ctx, user),
    }),
  }),
});

export const AuthPayloadRef = builder.objectRef<AuthPayload>("AuthPayload").implement({
  description:
    "A bearer token and its user. The token is shown once: send it as `Authorization: Bearer <token>`. " +
    "An answer, not an entity: no `id` (cache the `user`, which has one).",
  fields: (t) => ({
    token: t.exposeString("token", { description: "The bearer token, shown this once (only its hash is kept): send it as `Authorization: Bearer <token>`." }),
    user: t.field({ type: UserRef, description: "The person or bot it signs in.", resolve: (payload) => payload.user }),
  }),
});

const CredentialsInput = builder.inputType("CredentialsInput", {
  description: "A username and a password, to register or to sign in.",
  fields: (t) => ({
    username: t.string({ required: true, description: "2 to 32 letters, digits, `_` or `.`; unique regardless of case." }),
    password: t.string({ required: true, description: "10 to 256 characters; not your username and not a common password (checked when registering)." }),
  }),
});
const CreateBotInput = builder.inputType("CreateBotInput", {
  description: "A new bot's name.",
  fields: (t) => ({ username: t.string({ required: true, description: "2 to 32 letters, digits, `_` or `.`." }) }),
});

builder.queryField("me", (t) =>
  t.field({ type: UserRef, description: "The signed-in user or bot.", resolve: (_r, _a, ctx) => requireViewer(ctx) }),
);

builder.queryField("users", (t) =>
  t.field({
    type: [UserRef],
    description: "Users by id (at most 100); unknown ids are left out.",
    args: { ids: t.arg.idList({ required: true, description: "User ids, at most 100." }) },
    extensions: idListCost("ids", 100),
    resolve: async (_r, args, ctx) => {
      requireViewer(ctx);
      if (args.ids.length > 100) throw badInput("ids", "Ask for at most 100 users at once.");
      const users = await ctx.loaders.user.loadMany(args.ids.map((id, i) => parseId(`ids[${i}]`, id)));
      return users.filter((u): u is UserRecord => u !== null && !(u instanceof Error));
    },
  }),
);

builder.mutationFields((t) => ({
  register: t.field({
    type: AuthPayloadRef,
    description: "Creates an account and returns its first token.",
    args: { input: t.arg({ type: CredentialsInput, required: true, description: "The new account's username and password." }) },
    resolve: (_r, { input }, ctx) => register(ctx, input),
  }),
  login: t.field({
    type: AuthPayloadRef,
    description: "Returns a new token for a username and password.",
    args: { input: t.arg({ type: CredentialsInput, required: true, description: "The account's username (in any case) and password." }) },
    resolve: (_r, { input }, ctx) => login(ctx, input),
  }),
  logout: t.boolean({
    description: "Revokes the token this request was made with; its subscriptions end.",
    resolve: (_r, _a, ctx) => logout(ctx),
  }),
  createBot: t.field({
    type: AuthPayloadRef,
    description: "Creates a bot you own and returns its token (shown once); LIMIT_EXCEEDED once you have MAX_BOTS_PER_USER (25 by default).",
    args: { input: t.arg({ type: CreateBotInput, required: true, description: "The bot's username." }) },
    resolve: (_r, { input }, ctx) => createBot(ctx, input),
  }),
  resetBotToken: t.field({
    type: AuthPayloadRef,
    description: "Revokes every token of one of your bots and returns a new one.",
    args: { botId: t.arg.id({ required: true, description: "One of your bots." }) },
    resolve: (_r, args, ctx) => resetBotToken(ctx, parseId("botId", args.botId)),
  }),
}));
