import { checkNewPassword, checkPasswordText } from "../auth/password-policy.js";
import { hashToken, newToken } from "../auth/token.js";
import type { RequestContext, Services } from "../context.js";
import { badInput, conflict, forbidden, unauthenticated } from "../errors.js";
import type { UserRecord } from "../stores/account-store.js";
import { UniqueViolationError } from "../stores/store-errors.js";
import { requireViewer } from "./access.js";
import { afterLoginFailure, afterLoginSuccess, beforeLoginAttempt } from "./login-throttle.js";
import { charge, perAddress, perUser } from "./rate-limit.js";
import { rehashIfWeak } from "./password-rehash.js";
import { capReached } from "./resource-caps.js";
import { aliveCutoffs } from "./session-expiry.js";
import { ALL_SESSIONS, announceRevocation } from "./session-revocation.js";
import { nameText } from "./validate.js";

export interface AuthPayload {
  token: string;
  user: UserRecord;
}

const USERNAME = /^[A-Za-z0-9_.]+$/;

/** The rules of a username, at registration and at login (a name that cannot exist is refused before any lookup). */
function username(field: string, value: string): string {
  const name = nameText(field, value, 2, 32);
  if (!USERNAME.test(name)) throw badInput(field, `${field} may contain only letters, digits, "_" and "." (got ${JSON.stringify(name)}).`);
  return name;
}

/**
 * A new token and its session. `clientHint` describes the client signing in (null for bot
 * tokens, which the owner's browser creates but the bot uses).
 */
async function issueToken(services: Services, user: UserRecord, clientHint: string | null): Promise<AuthPayload> {
  const token = newToken();
  await services.accounts.createSession({ id: services.newId(), tokenHash: hashToken(token), userId: user.id, clientHint, createdAt: services.now() });
  return { token, user };
}

async function createAccount(services: Services, user: Parameters<Services["accounts"]["createUser"]>[0]): Promise<UserRecord> {
  try {
    return await services.accounts.createUser(user);
  } catch (error) {
    if (error instanceof UniqueViolationError) throw conflict(`The username "${user.username}" is taken; choose another.`);
    throw error;
  }
}

/** Creates a person's account and signs them in. */
export async function register(ctx: RequestContext, input: { username: string; password: string }): Promise<AuthPayload> {
  await charge(ctx, perAddress(ctx, "register"));
  const name = username("username", input.username);
  const secret = checkNewPassword(input.password, name, "password");
  const { services } = ctx;
  const passwordHash = await services.passwords.hash(secret);
  const user = await createAccount(services, { id: services.newId(), username: name, passwordHash, bot: false, botOwnerId: null });
  return issueToken(services, user, ctx.client.hint ?? null);
}

/** Exchanges a username and password for a new token. Bots cannot log in: they use their token. */
export async function login(ctx: RequestContext, input: { username: string; password: string }): Promise<AuthPayload> {
  const name = username("username", input.username);
  // Not the new-password policy: accounts made under an older one must still sign in.
  checkPasswordText(input.password, "password");
  const { services } = ctx;
  // Throttled per address and per username before any hashing (see login-throttle.ts).
  const usernameKey = name.toLowerCase();
  await beforeLoginAttempt(ctx, usernameKey);
  const found = await services.accounts.findCredentials(name);
  // Unknown users and bots are checked against a decoy hash: every failure takes as long.
  const ok = await services.passwords.verify(input.password, found?.passwordHash ?? null);
  if (!found || !found.passwordHash || !ok) {
    await afterLoginFailure(ctx, usernameKey);
    throw unauthenticated("Invalid username or password.");
  }
  await afterLoginSuccess(ctx, usernameKey);
  void rehashIfWeak(services, found.user, input.password, found.passwordHash);
  // Sessions pile up only through sign-ins: clearing the user's expired ones here keeps their
  // rows bounded without a fleet-wide sweep. Housekeeping: a failure must not fail the sign-in.
  const [payload] = await Promise.all([
    issueToken(services, found.user, ctx.client.hint ?? null),
    services.accounts
      .deleteExpiredSessions(found.user.id, aliveCutoffs(services.settings.sessionPolicy, services.now()))
      .catch((error: unknown) => services.logger.warn("clearing expired sessions failed", { error, userId: String(found.user.id) })),
  ]);
  return payload;
}

/** Revokes the token the request was made with, and ends subscriptions opened with it. */
export async function logout(ctx: RequestContext): Promise<boolean> {
  const viewer = requireViewer(ctx);
  if (!ctx.tokenHash) return false;
  const revoked = await ctx.services.accounts.deleteSession(ctx.tokenHash);
  await announceRevocation(ctx.services, { userId: viewer.id, tokenHash: ctx.tokenHash, keepTokenHash: null });
  return revoked;
}

/**
 * Creates a bot owned by the viewer and returns its first token. Bots cannot create bots; a
 * person may have MAX_BOTS_PER_USER of them (LIMIT_EXCEEDED beyond).
 */
export async function createBot(ctx: RequestContext, input: { username: string }): Promise<AuthPayload> {
  const viewer = requireViewer(ctx);
  if (viewer.bot) throw forbidden("Bots cannot create bots.");
  await charge(ctx, perUser(ctx, "bot.create"));
  const name = username("username", input.username);
  const { services } = ctx;
  // Count, then insert: two creates racing at the cap may both pass, an overshoot bounded by the
  // owner's own concurrency (and createBot's rate limit) that harms no one else, so no lock.
  const maxBots = services.settings.caps.botsPerUser;
  if ((await services.accounts.countBots(viewer.id)) >= maxBots) throw capReached("botsPerUser", maxBots);
  const bot = await createAccount(services, { id: services.newId(), username: name, passwordHash: null, bot: true, botOwnerId: viewer.id });
  return issueToken(services, bot, null);
}

/**
 * Revokes every token of one of the viewer's bots and returns a new one (for a leaked token).
 * Subscriptions open with the old tokens end.
 */
export async function resetBotToken(ctx: RequestContext, botId: bigint): Promise<AuthPayload> {
  const viewer = requireViewer(ctx);
  await charge(ctx, perUser(ctx, "account.secret"));
  const bot = await ctx.loaders.user.load(botId);
  if (!bot || !bot.bot || bot.botOwnerId !== viewer.id) throw badInput("botId", "botId must be the id of a bot you created.");
  await ctx.services.accounts.deleteSessionsOfUser(bot.id);
  await announceRevocation(ctx.services, { userId: bot.id, tokenHash: ALL_SESSIONS, keepTokenHash: null });
  return issueToken(ctx.services, bot, null);
}

/** The bots the viewer created. */
export function listBots(ctx: RequestContext, owner: UserRecord): Promise<UserRecord[]> {
  if (ctx.viewer?.id !== owner.id) return Promise.resolve([]);
  return ctx.services.accounts.listBots(owner.id);
}

/**
 * The user and session behind a bearer token; "expired" when its session just expired (refused
 * like a revoked one, with a message that says so); null when the token is unknown or revoked.
 */
export async function authenticate(services: Services, token: string): Promise<{ user: UserRecord; tokenHash: string; sessionId: bigint } | "expired" | null> {
  const tokenHash = hashToken(token);
  const found = await services.credentials.get(tokenHash);
  if (found === null || found === "expired") return found;
  return { user: found.user, tokenHash, sessionId: found.sessionId };
}
