import { ackMessage, readState, type ReadState } from "../resolvers/read-states.js";
import { builder } from "./builder.js";
import { perItemRead } from "./cost.js";
import { compositeId } from "./entity-ids.js";
import { parseId } from "./ids.js";
import { PER_VIEWER } from "./per-viewer.js";
import { ChannelRef } from "./refs.js";

export const ReadStateRef = builder.objectRef<ReadState>("ReadState").implement({
  description:
    "Your read pointer in a channel and what is unread after it. One per (you, channel): `id` is `<your user id>:<channel id>`, " +
    "the same in Channel.readState, ackMessage and ReadStateUpdated.readState, so a cache sees an ack everywhere.",
  fields: (t) => ({
    id: t.id({ description: "`<your user id>:<channel id>`: stable, built from whose and which channel's read state it is.", resolve: (r) => compositeId(r.userId, r.channelId) }),
    channelId: t.id({ description: "The channel it is about.", resolve: (r) => String(r.channelId) }),
    lastReadMessageId: t.id({ nullable: true, description: "The last message you acknowledged; null if none.", resolve: (r) => (r.lastReadMessageId === null ? null : String(r.lastReadMessageId)) }),
    unreadCount: t.exposeInt("unreadCount", { description: "Messages after the pointer, up to 100: 100 means 100 or more (show 99+)." }),
    mentionCount: t.exposeInt("mentionCount", {
      description:
        "Messages after the pointer that mention you, up to 100: by name, as @everyone or @here, or a role you hold now (each message once). Only messages since you joined the guild count.",
    }),
  }),
});

builder.objectField(ChannelRef, "readState", (t) =>
  t.field({
    type: ReadStateRef,
    description: "Your read state here.",
    extensions: { ...PER_VIEWER, ...perItemRead() },
    resolve: (channel, _a, ctx) => readState(ctx, channel),
  }),
);

const AckMessageInput = builder.inputType("AckMessageInput", {
  description: "Where your read pointer moves to.",
  fields: (t) => ({
    channelId: t.id({ required: true, description: "A channel you can see." }),
    messageId: t.id({ required: true, description: "A message of the channel; everything up to it counts as read." }),
  }),
});

builder.mutationField("ackMessage", (t) =>
  t.field({
    type: ReadStateRef,
    description: "Marks a channel read up to a message. Pointers only move forward: an older ack changes nothing. Your other sessions get ReadStateUpdated.",
    args: { input: t.arg({ type: AckMessageInput, required: true, description: "The channel and the last message read." }) },
    resolve: (_r, { input }, ctx) => ackMessage(ctx, { channelId: parseId("channelId", input.channelId), messageId: parseId("messageId", input.messageId) }),
  }),
);
