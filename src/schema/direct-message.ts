import type { EventOf } from "../pubsub/events.js";
import {
  addGroupRecipient,
  closeDirectMessage,
  leaveGroupDirectMessage,
  removeGroupRecipient,
  renameGroupDirectMessage,
} from "../resolvers/direct-messages.js";
import { builder } from "./builder.js";
import { LiveEventRef } from "./live-event.js";
import { parseId } from "./ids.js";
import { ChannelRef, UserRef } from "./refs.js";

const RecipientRemovalEnum = builder.enumType("RecipientRemoval", {
  description: "How someone stopped being in a group DM.",
  values: {
    LEFT: { description: "They left the group DM." },
    REMOVED: { description: "The group DM's owner removed them." },
  } as const,
});

export const GroupRecipientAdded = builder.objectRef<EventOf<"GroupRecipientAdded">>("GroupRecipientAdded").implement({
  interfaces: [LiveEventRef],
  description: "Someone was added to a group DM you are in (they get DirectMessageOpened).",
  fields: (t) => ({
    channelId: t.id({ description: "The group DM.", resolve: (e) => String(e.channelId) }),
    user: t.field({ type: UserRef, description: "Who was added.", resolve: (e) => e.user }),
  }),
});

export const GroupRecipientRemoved = builder.objectRef<EventOf<"GroupRecipientRemoved">>("GroupRecipientRemoved").implement({
  interfaces: [LiveEventRef],
  description: "Someone left or was removed from a group DM you are in; when `user` is you, you are no longer in it.",
  fields: (t) => ({
    channelId: t.id({ description: "The group DM.", resolve: (e) => String(e.channelId) }),
    user: t.field({ type: UserRef, description: "Who left or was removed.", resolve: (e) => e.user }),
    reason: t.field({ type: RecipientRemovalEnum, description: "Whether they left or the owner removed them.", resolve: (e) => e.reason }),
  }),
});

export const DirectMessageUpdated = builder.objectRef<EventOf<"DirectMessageUpdated">>("DirectMessageUpdated").implement({
  interfaces: [LiveEventRef],
  description: "A group DM you are in was renamed, or has a new owner (the owner left).",
  fields: (t) => ({ channel: t.field({ type: ChannelRef, description: "The group DM as it is now.", resolve: (e) => e.channel }) }),
});

export const DirectMessageClosed = builder.objectRef<EventOf<"DirectMessageClosed">>("DirectMessageClosed").implement({
  interfaces: [LiveEventRef],
  description: "You closed a DM on one of your sessions: it is off your list until a new message arrives in it (then DirectMessageOpened).",
  fields: (t) => ({ channelId: t.id({ description: "The DM or group DM you closed.", resolve: (e) => String(e.channelId) }) }),
});

const GroupRecipientInput = builder.inputType("GroupRecipientInput", {
  description: "A group DM you own and someone to add to it or remove from it.",
  fields: (t) => ({
    channelId: t.id({ required: true, description: "A group DM you own." }),
    userId: t.id({ required: true, description: "A friend to add, or a recipient to remove." }),
  }),
});
const RenameGroupInput = builder.inputType("RenameGroupDirectMessageInput", {
  description: "A group DM you own and its new name.",
  fields: (t) => ({
    channelId: t.id({ required: true, description: "A group DM you own." }),
    name: t.string({ description: "1 to 100 characters, one line; null or absent clears the name." }),
  }),
});

builder.mutationFields((t) => ({
  closeDirectMessage: t.boolean({
    description: "Hides a DM or group DM from your `directMessages` until a new message arrives in it (or you open it again). Nothing else changes.",
    args: { channelId: t.arg.id({ required: true, description: "A DM or group DM you are in." }) },
    resolve: (_r, args, ctx) => closeDirectMessage(ctx, parseId("channelId", args.channelId)),
  }),
  leaveGroupDirectMessage: t.boolean({
    description:
      "Leaves a group DM: you stop being a recipient, your channelEvents on it end, the others hear GroupRecipientRemoved. " +
      "An owner who leaves passes it to the longest-standing recipient; the last one out deletes it.",
    args: { channelId: t.arg.id({ required: true, description: "A group DM you are in." }) },
    resolve: (_r, args, ctx) => leaveGroupDirectMessage(ctx, parseId("channelId", args.channelId)),
  }),
  addGroupRecipient: t.field({
    type: ChannelRef,
    description: "Adds one of your friends to a group DM you own, up to MAX_GROUP_DM_MEMBERS people (LIMIT_EXCEEDED beyond).",
    args: { input: t.arg({ type: GroupRecipientInput, required: true, description: "The group DM and the friend to add." }) },
    resolve: (_r, { input }, ctx) => addGroupRecipient(ctx, { channelId: parseId("channelId", input.channelId), userId: parseId("userId", input.userId) }),
  }),
  removeGroupRecipient: t.field({
    type: ChannelRef,
    description: "Removes someone from a group DM you own; their channelEvents on it end.",
    args: { input: t.arg({ type: GroupRecipientInput, required: true, description: "The group DM and the recipient to remove." }) },
    resolve: (_r, { input }, ctx) => removeGroupRecipient(ctx, { channelId: parseId("channelId", input.channelId), userId: parseId("userId", input.userId) }),
  }),
  renameGroupDirectMessage: t.field({
    type: ChannelRef,
    description: "Names a group DM you own (null clears the name); its recipients hear DirectMessageUpdated.",
    args: { input: t.arg({ type: RenameGroupInput, required: true, description: "The group DM and its new name." }) },
    resolve: (_r, { input }, ctx) => renameGroupDirectMessage(ctx, { channelId: parseId("channelId", input.channelId), name: input.name ?? null }),
  }),
}));
