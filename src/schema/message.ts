import { snowflakeTime } from "../ids/snowflake.js";
import { deleteMessage, editMessage, mentionedUsers, replyTarget, sendMessage } from "../resolvers/messages.js";
import { MAX_MENTIONS } from "../resolvers/mentions.js";
import { mentionedRoles, mentionsEveryone } from "../resolvers/broad-mentions.js";
import { historyMessage } from "../resolvers/history.js";
import { builder } from "./builder.js";
import { listCost } from "./cost.js";
import { optionalId, parseId } from "./ids.js";
import { RoleRef } from "./permissions.js";
import { ChannelRef, MessageRef, UserRef } from "./refs.js";

MessageRef.implement({
  description: "A message in a channel.",
  fields: (t) => ({
    id: t.id({ description: "A snowflake: sorts by time and is the history cursor.", resolve: (o) => String(o.id) }),
    content: t.exposeString("content", { description: "The text as sent (trimmed), 1 to 2000 characters; mentions stay written as <@id> and <@&id>." }),
    author: t.field({
      type: UserRef,
      nullable: true,
      description: "Null if the author's account was deleted.",
      resolve: (m, _a, ctx) => m.author ?? ctx.loaders.user.load(m.authorId),
    }),
    channel: t.field({
      type: ChannelRef,
      nullable: true,
      description: "Where it was sent; null only if the channel was deleted since.",
      resolve: (m, _a, ctx) => ctx.loaders.channel.load(m.channelId),
    }),
    createdAt: t.field({ type: "DateTime", description: "Taken from the id.", resolve: (m) => snowflakeTime(m.id) }),
    editedAt: t.field({ type: "DateTime", nullable: true, description: "When its content was last replaced (editMessage); null if never.", resolve: (m) => m.editedAt }),
    replyTo: t.field({
      type: MessageRef,
      nullable: true,
      description: "The message this one replies to; null if none or if it was deleted.",
      resolve: (m, _a, ctx) => replyTarget(ctx, m),
    }),
    replyToId: t.id({ nullable: true, description: "The id of the message this one replies to, kept when that message is deleted; null if it is not a reply.", resolve: (o) => (o.replyToId === null ? null : String(o.replyToId)) }),
    mentions: t.field({
      type: [UserRef],
      description: `Users mentioned as <@id>: the first ${MAX_MENTIONS} distinct ones of the message.`,
      extensions: listCost(MAX_MENTIONS),
      resolve: (m, _a, ctx) => mentionedUsers(ctx, m),
    }),
    mentionEveryone: t.boolean({
      description:
        "True if the message mentions @everyone or @here and its author had MENTION_EVERYONE in the channel: it then counts in the mentionCount of everyone who can read the channel (@here too: who was online is not recorded). Without the permission both are plain text.",
      resolve: (m, _a, ctx) => mentionsEveryone(ctx, m),
    }),
    mentionRoles: t.field({
      type: [RoleRef],
      description: `Roles mentioned as <@&id> that notify (the role is mentionable, or the author had MENTION_EVERYONE): they count in the mentionCount of the role's members who can read the channel. The first ${MAX_MENTIONS} distinct ones; roles deleted since are left out.`,
      extensions: listCost(MAX_MENTIONS),
      resolve: (m, _a, ctx) => mentionedRoles(ctx, m),
    }),
    nonce: t.exposeString("nonce", { nullable: true, description: "The idempotency key the author sent; null if none." }),
  }),
});

builder.queryField("message", (t) =>
  t.field({
    type: MessageRef,
    nullable: true,
    description:
      "One message by id, in a channel you can read. NOT_FOUND when you cannot see the channel or it has no such message (the same answer, " +
      "so ids cannot be probed), FORBIDDEN without READ_MESSAGE_HISTORY there, as for Channel.messages. Null only with one of those errors " +
      "(nullable so that the error clears this field alone, not the whole answer).",
    args: {
      channelId: t.arg.id({ required: true, description: "The channel the message was sent in." }),
      messageId: t.arg.id({ required: true, description: "The message's id." }),
    },
    resolve: (_r, args, ctx) => historyMessage(ctx, { channelId: parseId("channelId", args.channelId), messageId: parseId("messageId", args.messageId) }),
  }),
);

const SendMessageInput = builder.inputType("SendMessageInput", {
  description: "A message to post.",
  fields: (t) => ({
    channelId: t.id({ required: true, description: "A channel you can see and send in (SEND_MESSAGES; not a category)." }),
    content: t.string({
      required: true,
      description: "1 to 2000 characters after trimming. Mention users with <@id>, roles with <@&id>, and everyone who can read the channel with @everyone or @here (these two need MENTION_EVERYONE; without it they stay plain text).",
    }),
    nonce: t.string({
      description: "Up to 64 characters. Sending again with the same nonce returns the first message instead of a duplicate. Omitted: no deduplication.",
    }),
    replyToId: t.id({ description: "A message of the same channel to reply to. Omitted: not a reply." }),
  }),
});
const EditMessageInput = builder.inputType("EditMessageInput", {
  description: "New content for one of your messages.",
  fields: (t) => ({
    channelId: t.id({ required: true, description: "The channel the message is in." }),
    messageId: t.id({ required: true, description: "Your message." }),
    content: t.string({ required: true, description: "1 to 2000 characters after trimming." }),
  }),
});
const DeleteMessageInput = builder.inputType("DeleteMessageInput", {
  description: "A message to delete.",
  fields: (t) => ({
    channelId: t.id({ required: true, description: "The channel the message is in." }),
    messageId: t.id({ required: true, description: "Yours, or anyone's where you have MANAGE_MESSAGES." }),
  }),
});

builder.mutationFields((t) => ({
  sendMessage: t.field({
    type: MessageRef,
    description: "Posts a message to a channel you can read.",
    args: { input: t.arg({ type: SendMessageInput, required: true, description: "Where, what, and optionally a nonce and the message replied to." }) },
    resolve: (_r, { input }, ctx) =>
      sendMessage(ctx, {
        channelId: parseId("channelId", input.channelId),
        content: input.content,
        nonce: input.nonce,
        replyToId: optionalId("replyToId", input.replyToId),
      }),
  }),
  editMessage: t.field({
    type: MessageRef,
    description: "Replaces the content of your own message.",
    args: { input: t.arg({ type: EditMessageInput, required: true, description: "The message and its new content." }) },
    resolve: (_r, { input }, ctx) =>
      editMessage(ctx, { channelId: parseId("channelId", input.channelId), messageId: parseId("messageId", input.messageId), content: input.content }),
  }),
  deleteMessage: t.boolean({
    description: "Deletes a message: yours, or anyone's in a channel where you have MANAGE_MESSAGES. Subscribers hear MessageDeleted.",
    args: { input: t.arg({ type: DeleteMessageInput, required: true, description: "The message and its channel." }) },
    resolve: (_r, { input }, ctx) =>
      deleteMessage(ctx, { channelId: parseId("channelId", input.channelId), messageId: parseId("messageId", input.messageId) }),
  }),
}));
