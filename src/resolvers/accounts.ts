import { hashPassword, verifyPassword } from "../auth/password.js";
import { hashToken, newToken } from "../auth/token.js";
import type { RequestContext, Services } from "../context.js";
import { badInput, conflict, forbidden, unauthenticated } from "../errors.js";
import { topics } from "../pubsub/topics.js";
import type { UserRecord } from "../stores/account-store.js";
import { UniqueViolationError } from "../stores/store-errors.js";
import { requireViewer } from "./access.js";
import { text } from "./validate.js";

export interface AuthPayload {
  token: string;
  user: UserRecord;
}

const USERNAME = /^[A-Za-z0-9_.]+$/;

function username(field: string, value: string): string {
  const name = text(field, value, 2, 32);
  if (!USERNAME.test(name)) throw badInput(field, `${field} may contain only letters, digits, "_" and "." (got ${JSON.stringify(name)}).`);
  return name;
}

function password(field: string, value: string): string {
  // Not trimmed: spaces are part of a password. The upper bound keeps hashing cost bounded.
  const length = [...value].length;
  if (length < 8 || length > 256) throw badInput(field, `${field} must be 8 to 256 characters.`);
  return value;
}

async function issueToken(services: Services, user: UserRecord): Promise<AuthPayload> {
  const token = newToken();
  await services.accounts.createSession(hashToken(token), user.id);
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
  const name = username("username", input.username);
  const secret = password("password", input.password);
  const { services } = ctx;
  const passwordHash = await hashPassword(secret, services.settings.passwordHashCost);
  const user = await createAccount(services, { id: services.newId(), username: name, passwordHash, bot: false, botOwnerId: null });
  return issueToken(services, user);
}

/** A hash of a random password, so unknown usernames cost the same time as wrong passwords. */
let decoyHash: Promise<string> | undefined;

/** Exchanges a username and password for a new token. Bots cannot log in: they use their token. */
export async function login(ctx: RequestContext, input: { username: string; password: string }): Promise<AuthPayload> {
  const { services } = ctx;
  const found = await services.accounts.findCredentials(input.username.trim());
  const stored = found?.passwordHash ?? (await (decoyHash ??= hashPassword("decoy-password", services.settings.passwordHashCost)));
  const ok = await verifyPassword(input.password, stored);
  if (!found || !found.passwordHash || !ok) throw unauthenticated("Invalid username or password.");
  return issueToken(services, found.user);
}

/** Revokes the token the request was made with, and ends subscriptions opened with it. */
export async function logout(ctx: RequestContext): Promise<boolean> {
  const viewer = requireViewer(ctx);
  if (!ctx.tokenHash) return false;
  const revoked = await ctx.services.accounts.deleteSession(ctx.tokenHash);
  await announceRevocation(ctx.services, viewer.id, ctx.tokenHash);
  return revoked;
}

/** Creates a bot owned by the viewer and returns its first token. Bots cannot create bots. */
export async function createBot(ctx: RequestContext, input: { username: string }): Promise<AuthPayload> {
  const viewer = requireViewer(ctx);
  if (viewer.bot) throw forbidden("Bots cannot create bots.");
  const name = username("username", input.username);
  const { services } = ctx;
  const bot = await createAccount(services, { id: services.newId(), username: name, passwordHash: null, bot: true, botOwnerId: viewer.id });
  return issueToken(services, bot);
}

/**
 * Revokes every token of one of the viewer's bots and returns a new one (for a leaked token).
 * Subscriptions open with the old tokens end.
 */
export async function resetBotToken(ctx: RequestContext, botId: bigint): Promise<AuthPayload> {
  const viewer = requireViewer(ctx);
  const bot = await ctx.loaders.user.load(botId);
  if (!bot || !bot.bot || bot.botOwnerId !== viewer.id) throw badInput("botId", "botId must be the id of a bot you created.");
  await ctx.services.accounts.deleteSessionsOfUser(bot.id);
  await announceRevocation(ctx.services, bot.id, "*");
  return issueToken(ctx.services, bot);
}

/** The bots the viewer created. */
export function listBots(ctx: RequestContext, owner: UserRecord): Promise<UserRecord[]> {
  if (ctx.viewer?.id !== owner.id) return Promise.resolve([]);
  return ctx.services.accounts.listBots(owner.id);
}

/**
 * After a session was deleted from the store: forgets it in this instance's credential cache at
 * once, ends the subscriptions opened with it (the user's topic), and tells every other
 * instance's cache (the revocations topic). `tokenHash` "*" means every session of the user.
 *
 * The deletion is what counts, so a bus failure does not fail the request: instances that miss
 * the event clear their caches when they reconnect to the bus (see app.ts).
 */
async function announceRevocation(services: Services, userId: bigint, tokenHash: string): Promise<void> {
  services.credentials.revoke(userId, tokenHash);
  const event = { type: "SessionRevoked", userId, tokenHash } as const;
  const results = await Promise.allSettled([services.bus.publish(topics.user(userId), event), services.bus.publish(topics.revocations, event)]);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (failed) services.logger.warn("revocation stored but not announced; other instances forget it when they reconnect to the bus", { error: failed.reason, userId: String(userId) });
}

/** The user behind a bearer token, or null when the token is unknown or revoked. */
export async function authenticate(services: Services, token: string): Promise<{ user: UserRecord; tokenHash: string } | null> {
  const tokenHash = hashToken(token);
  const user = await services.credentials.get(tokenHash);
  return user ? { user, tokenHash } : null;
}
