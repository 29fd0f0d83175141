import type { EventOf } from "../pubsub/events.js";
import {
  acceptFriendRequest,
  blockUser,
  declineFriendRequest,
  listMyRelationships,
  MAX_RELATIONSHIPS_PAGE,
  removeFriend,
  sendFriendRequest,
  unblockUser,
  type RelationshipView,
} from "../resolvers/relationships.js";
import { mySettings, updateMySettings, type UserSettingsView } from "../resolvers/user-settings.js";
import { builder } from "./builder.js";
import { LiveEventRef } from "./live-event.js";
import { pageCost, perItemRead } from "./cost.js";
import { compositeId } from "./entity-ids.js";
import { optionalId, parseId } from "./ids.js";
import { PER_VIEWER } from "./per-viewer.js";
import { UserRef } from "./refs.js";

const RelationshipTypeEnum = builder.enumType("RelationshipType", {
  description: "What you are to another user.",
  values: {
    FRIEND: { description: "You are friends." },
    INCOMING: { description: "They sent you a friend request: acceptFriendRequest or declineFriendRequest." },
    OUTGOING: { description: "You sent them a friend request; declineFriendRequest withdraws it." },
    BLOCKED: { description: "You blocked them (they are not told, and cannot see it)." },
  } as const,
});

export const RelationshipRef = builder.objectRef<RelationshipView>("Relationship").implement({
  description:
    "Your relationship with another user (as in Discord). `id` is `<your user id>:<their user id>`, the same in " +
    "User.relationships, the friend mutations and RelationshipChanged.relationship.",
  fields: (t) => ({
    id: t.id({ description: "`<your user id>:<their user id>`: stable while a relationship exists, whatever its type.", resolve: (r) => compositeId(r.ownerId, r.user.id) }),
    user: t.field({ type: UserRef, description: "The other user.", resolve: (r) => r.user }),
    type: t.field({ type: RelationshipTypeEnum, description: "What they are to you.", resolve: (r) => r.kind }),
    since: t.field({ type: "DateTime", description: "When it became what it is: the request, the friendship, the block.", resolve: (r) => r.since }),
  }),
});

const DirectMessagePolicyEnum = builder.enumType("DirectMessagePolicy", {
  description: "Who may open a DM with you and send into one.",
  values: {
    EVERYONE: { description: "Anyone may DM you (except users you blocked or who blocked you)." },
    GUILD_MEMBERS: { description: "Friends and people you share a guild with (the default)." },
    FRIENDS: { description: "Friends only." },
  } as const,
});

const UserSettingsRef = builder.objectRef<UserSettingsView>("UserSettings").implement({
  description: "Your settings. `id` is your user id, the same in me.settings and updateSettings.",
  fields: (t) => ({
    id: t.id({ description: "Your user id: you have one set of settings.", resolve: (s) => String(s.userId) }),
    allowDirectMessagesFrom: t.field({
      type: DirectMessagePolicyEnum,
      description: "Who may open a DM with you and send into one. Checked at every message, so a change closes existing DMs too.",
      resolve: (s) => s.allowDirectMessagesFrom,
    }),
  }),
});

builder.objectFields(UserRef, (t) => ({
  relationships: t.field({
    type: [RelationshipRef],
    description:
      "Your friends, friend requests both ways and the users you blocked, ordered by the other user's id: `first` of them " +
      "(1 to 1,000, default 1,000) after the user id `after`. Only readable on yourself (`me`).",
    args: {
      first: t.arg.int({ description: `How many, 1 to ${MAX_RELATIONSHIPS_PAGE.toLocaleString("en-US")} (the default).` }),
      after: t.arg.id({ description: "Only relationships with users whose id is greater (the last user id of the previous page)." }),
    },
    extensions: { ...PER_VIEWER, ...pageCost({ default: MAX_RELATIONSHIPS_PAGE, max: MAX_RELATIONSHIPS_PAGE }), ...perItemRead() },
    resolve: (user, args, ctx) => listMyRelationships(ctx, user, { first: args.first, after: optionalId("after", args.after) }),
  }),
  settings: t.field({
    type: UserSettingsRef,
    description: "Your settings. Only readable on yourself (`me`).",
    extensions: { ...PER_VIEWER, ...perItemRead() },
    resolve: (user, _a, ctx) => mySettings(ctx, user),
  }),
}));

/** RelationshipChanged: your side of a relationship, now. */
export const RelationshipChanged = builder.objectRef<EventOf<"RelationshipChanged">>("RelationshipChanged").implement({
  interfaces: [LiveEventRef],
  description:
    "Your relationship with `user` changed (on any of your sessions, or by their doing): `relationship` is what it is now, " +
    "null when there is none any more (removed, declined, withdrawn).",
  fields: (t) => ({
    user: t.field({ type: UserRef, description: "The other user.", resolve: (e) => e.user }),
    relationship: t.field({
      type: RelationshipRef,
      nullable: true,
      description: "Your relationship with them now; null when there is none any more.",
      resolve: (e) => (e.kind === "NONE" ? null : { ownerId: e.userId, user: e.user, kind: e.kind, since: e.since ?? new Date(0) }),
    }),
  }),
});

const UpdateSettingsInput = builder.inputType("UpdateSettingsInput", {
  description: "Settings to change; those left out stay as they are (at least one must be given).",
  fields: (t) => ({
    allowDirectMessagesFrom: t.field({ type: DirectMessagePolicyEnum, description: "Who may DM you. Omitted: unchanged." }),
  }),
});

builder.mutationFields((t) => ({
  sendFriendRequest: t.field({
    type: RelationshipRef,
    description:
      "Asks a user to be friends: OUTGOING, or FRIEND at once if they had asked you. Asking again is harmless. " +
      "FORBIDDEN across a block and for bots, CONFLICT between friends, LIMIT_EXCEEDED at MAX_FRIENDS_PER_USER or MAX_PENDING_FRIEND_REQUESTS.",
    args: { userId: t.arg.id({ required: true, description: "The user to ask (a person, not a bot)." }) },
    resolve: (_r, args, ctx) => sendFriendRequest(ctx, parseId("userId", args.userId)),
  }),
  acceptFriendRequest: t.field({
    type: RelationshipRef,
    description: "Accepts the friend request a user sent you; NOT_FOUND if there is none (any more).",
    args: { userId: t.arg.id({ required: true, description: "The user who asked you." }) },
    resolve: (_r, args, ctx) => acceptFriendRequest(ctx, parseId("userId", args.userId)),
  }),
  declineFriendRequest: t.boolean({
    description: "Declines the friend request a user sent you, or withdraws the one you sent them; NOT_FOUND if there is none.",
    args: { userId: t.arg.id({ required: true, description: "The user who asked you, or whom you asked." }) },
    resolve: (_r, args, ctx) => declineFriendRequest(ctx, parseId("userId", args.userId)),
  }),
  removeFriend: t.boolean({
    description: "Ends a friendship, for both of you; NOT_FOUND if you are not friends.",
    args: { userId: t.arg.id({ required: true, description: "A friend of yours." }) },
    resolve: (_r, args, ctx) => removeFriend(ctx, parseId("userId", args.userId)),
  }),
  blockUser: t.field({
    type: RelationshipRef,
    description:
      "Blocks a user: any friendship or request between you ends; they cannot DM you, add you to a group DM, ask to be friends " +
      "or see your presence (nor you theirs). They are not told. Your messages in shared guild channels stay visible to them.",
    args: { userId: t.arg.id({ required: true, description: "The user to block." }) },
    resolve: (_r, args, ctx) => blockUser(ctx, parseId("userId", args.userId)),
  }),
  unblockUser: t.boolean({
    description: "Lifts your block of a user; NOT_FOUND if you had not blocked them.",
    args: { userId: t.arg.id({ required: true, description: "A user you blocked." }) },
    resolve: (_r, args, ctx) => unblockUser(ctx, parseId("userId", args.userId)),
  }),
  updateSettings: t.field({
    type: UserSettingsRef,
    description: "Changes your settings (the fields given).",
    args: { input: t.arg({ type: UpdateSettingsInput, required: true, description: "The settings to change." }) },
    resolve: (_r, { input }, ctx) => updateMySettings(ctx, { allowDirectMessagesFrom: input.allowDirectMessagesFrom }),
  }),
}));
