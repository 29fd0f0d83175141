import { readableChannel } from "../resolvers/access.js";
import { openDirectMessage } from "../resolvers/channels.js";
import { channelHistory, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, withAuthors } from "../resolvers/history.js";
import type { UserRecord } from "../stores/account-store.js";
import { builder } from "./builder.js";
import { connectionPage } from "./connection-page.js";
import { listCost, pageCost, perItemRead } from "./cost.js";
import { optionalId, parseId } from "./ids.js";
import { ChannelRef, GuildRef, MessageRef, UserRef } from "./refs.js";
import { selectsPath } from "./selection.js";

export const ChannelKindEnum = builder.enumType("ChannelKind", {
  description: "What a channel is: a guild's text channel or category, a DM or a group DM.",
  values: {
    GUILD_TEXT: { description: "A text channel of a guild: members who have VIEW_CHANNEL there see it (see Channel.myPermissions)." },
    DM: { description: "A direct message between two users." },
    GROUP_DM: { description: "A direct message between 3 and MAX_GROUP_DM_MEMBERS (10 by default) users." },
    GUILD_CATEGORY: { description: "A guild category: it groups channels (their `parent`) and holds no messages." },
  } as const,
});

ChannelRef.implement({
  description: "Where messages are posted: a guild text channel, a DM or a group DM.",
  fields: (t) => ({
    id: t.id({ description: "A snowflake: sorts by creation time.", resolve: (o) => String(o.id) }),
    kind: t.field({ type: ChannelKindEnum, description: "What it is (a DM's kind never changes; a guild channel's neither).", resolve: (c) => c.kind }),
    name: t.exposeString("name", { nullable: true, description: "Null for one-to-one DMs." }),
    position: t.exposeInt("position", { description: "0-based place in the guild's channel list." }),
    guild: t.field({
      type: GuildRef,
      nullable: true,
      description: "Null for DMs.",
      resolve: (c, _a, ctx) => (c.guildId === null ? null : ctx.loaders.guild.load(c.guildId)),
    }),
    recipients: t.field({
      type: [UserRef],
      description: "The people in a DM or group DM (at most MAX_GROUP_DM_MEMBERS); empty for guild channels (see Guild.members).",
      extensions: listCost("groupDmMembers"),
      resolve: async (c, _a, ctx) => {
        if (c.guildId !== null) return [];
        const users = await ctx.loaders.user.loadMany(await ctx.loaders.recipients.load(c.id));
        return users.filter((u): u is UserRecord => u !== null && !(u instanceof Error));
      },
    }),
    createdAt: t.field({ type: "DateTime", description: "When it was created (a DM: first opened).", resolve: (c) => c.createdAt }),
    messages: t.connection(
      {
        type: MessageRef,
        description:
          "History in chronological order; the cursor is the message id. `last`/`before` scroll back, " +
          "`first`/`after` go forward, `around` (with `first` or `last` as the size) centres a page on a message. " +
          "At most 100 per page; with no arguments, the newest 50. No totalCount: history is unbounded, and counting it would read " +
          "every message (Cassandra counts by reading); unreadCount in Channel.readState counts up to 100 for badges.",
        extensions: { ...pageCost({ default: DEFAULT_PAGE_SIZE, max: MAX_PAGE_SIZE }), ...perItemRead() },
        args: { around: t.arg.id({ description: "Centre the page on this message id (any id: one no message has centres on that time). Omitted: no centring." }) },
        resolve: async (channel, args, ctx, info) => {
          const page = await channelHistory(ctx, channel, {
            first: args.first,
            last: args.last,
            after: optionalId("after", args.after),
            before: optionalId("before", args.before),
            around: optionalId("around", args.around),
          });
          // Authors asked for: one batch now rather than a promise per message to wait on.
          const messages = selectsPath(info, ["edges", "node", "author"]) ? await withAuthors(ctx, page.messages) : page.messages;
          return connectionPage(messages, page, (m) => String(m.id));
        },
      },
      { description: "A page of a channel's history, oldest message first." },
      { description: "A message, and its cursor (its id)." },
    ),
  }),
});

builder.queryField("channel", (t) =>
  t.field({
    type: ChannelRef,
    description: "A channel you can read (NOT_FOUND otherwise).",
    args: { id: t.arg.id({ required: true, description: "The channel's id." }) },
    resolve: (_r, args, ctx) => readableChannel(ctx, parseId("id", args.id)),
  }),
);

builder.mutationFields((t) => ({
  openDirectMessage: t.field({
    type: ChannelRef,
    description:
      "With one user id: the DM with that user (the same channel every time). With 2 or more: a new group DM with them and you, " +
      "at most MAX_GROUP_DM_MEMBERS people (10 by default) in all (LIMIT_EXCEEDED beyond).",
    args: { userIds: t.arg.idList({ required: true, description: "One user (a DM), or 2 or more of your friends (a new group DM); not you." }) },
    resolve: (_r, args, ctx) => openDirectMessage(ctx, args.userIds),
  }),
}));
