import { MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH } from "../auth/password-policy.js";
import { changePassword } from "../resolvers/change-password.js";
import { listSessions, revokeOtherSessions, revokeSession, SESSION_LIST_CAP, type SessionView } from "../resolvers/sessions.js";
import { builder } from "./builder.js";
import { listCost, perItemRead } from "./cost.js";
import { parseId } from "./ids.js";

const SessionRef = builder.objectRef<SessionView>("Session").implement({
  description:
    "One sign-in (a token): a device or app you signed in with, or a bot's token. Sessions expire after " +
    "SESSION_IDLE_DAYS without use and SESSION_MAX_DAYS after sign-in (bots' tokens do not expire).",
  fields: (t) => ({
    id: t.id({ description: "What `revokeSession` takes. Not the token: tokens are never shown again.", resolve: (s) => String(s.id) }),
    createdAt: t.field({ type: "DateTime", description: "When you signed in.", resolve: (s) => s.createdAt }),
    lastUsedAt: t.field({
      type: "DateTime",
      description: "When the token was last used, to within about an hour (it is recorded at most that often).",
      resolve: (s) => s.lastUsedAt,
    }),
    expiresAt: t.field({
      type: "DateTime",
      nullable: true,
      description: "When it stops working unless used before then (using it pushes this back, up to the absolute limit); null for bots' tokens, which do not expire.",
      resolve: (s) => s.expiresAt,
    }),
    clientHint: t.string({
      nullable: true,
      description: "What the client that signed in said it is (its User-Agent, or the `client` connection param over graphql-ws), cleaned and cut to 200 characters; null if it said nothing. The client's own claim, to help you recognise your devices.",
      resolve: (s) => s.clientHint,
    }),
    current: t.boolean({ description: "True for the session this request was made with.", resolve: (s) => s.current }),
  }),
});

const ChangePasswordInput = builder.inputType("ChangePasswordInput", {
  description: "Your password now, and the new one.",
  fields: (t) => ({
    currentPassword: t.string({ required: true, description: "Your password now." }),
    newPassword: t.string({
      required: true,
      description: `${MIN_PASSWORD_LENGTH} to ${MAX_PASSWORD_LENGTH} characters, not your username, not a common password, not the current one.`,
    }),
  }),
});

builder.queryField("sessions", (t) =>
  t.field({
    type: [SessionRef],
    description: `Your live sessions, most recently used first: the ${SESSION_LIST_CAP} most recently used if you have more. The one this request uses has \`current: true\`.`,
    extensions: { ...listCost(SESSION_LIST_CAP), ...perItemRead() },
    resolve: (_r, _a, ctx) => listSessions(ctx),
  }),
);

builder.mutationFields((t) => ({
  revokeSession: t.boolean({
    description:
      "Signs out one of your sessions by id, on every instance at once: its token stops working, its subscriptions end with UNAUTHENTICATED " +
      "and its WebSockets close with code 4401. Revoking the current session is the same as `logout`. NOT_FOUND for an id that is not one of your sessions.",
    args: { id: t.arg.id({ required: true, description: "One of your sessions (Session.id)." }) },
    resolve: (_r, args, ctx) => revokeSession(ctx, parseId("id", args.id)),
  }),
  revokeOtherSessions: t.int({
    description: "Signs out every session of yours except the current one (\"sign out everywhere else\"), as `revokeSession` does for each; returns how many were signed out.",
    resolve: (_r, _a, ctx) => revokeOtherSessions(ctx),
  }),
  changePassword: t.boolean({
    description:
      "Changes your password (people only) and signs out every other session; this one stays signed in. A wrong current password is " +
      "BAD_USER_INPUT on `currentPassword` and changes nothing; the new password follows the same rules as at registration.",
    args: { input: t.arg({ type: ChangePasswordInput, required: true, description: "The current password and the new one." }) },
    resolve: (_r, { input }, ctx) => changePassword(ctx, input),
  }),
}));
