import type { SessionCutoffs, SessionRecord, UserRecord } from "../stores/account-store.js";

/**
 * When a session (a bearer token) stops working: after `idleMs` without use, and `maxMs` after
 * it was created however much it is used. Bot tokens are exempt: they are API keys, rotated by
 * their owner with resetBotToken, and a bot that silently stopped working once a year (or after
 * a quiet month) would be a surprise nobody asked for.
 *
 * The last use is written at most every `touchEveryMs` (see session-lookup.ts), so the stored
 * value can lag the real last use by up to that much; idle expiry is accurate to within that lag
 * (an hour in 30 days by default), and errs on the early side.
 */
export interface SessionPolicy {
  idleMs: number;
  maxMs: number;
  /** How stale the stored last use may get before a lookup writes it again. */
  touchEveryMs: number;
}

const DAY_MS = 24 * 60 * 60 * 1000;
const HOUR_MS = 60 * 60 * 1000;

/**
 * The policy for the configured days (fractions allowed). The last use is written about once an
 * hour, or every tenth of the idle time if that is shorter, so a session in use never looks
 * idle whatever the setting.
 */
export function createSessionPolicy(idleDays: number, maxDays: number): SessionPolicy {
  const idleMs = Math.round(idleDays * DAY_MS);
  return { idleMs, maxMs: Math.round(maxDays * DAY_MS), touchEveryMs: Math.max(1, Math.min(HOUR_MS, Math.floor(idleMs / 10))) };
}

/** When the session expires if not used again; null for bots' tokens, which do not expire. */
export function sessionExpiresAt(session: Pick<SessionRecord, "createdAt" | "lastUsedAt">, user: Pick<UserRecord, "bot">, policy: SessionPolicy): Date | null {
  if (user.bot) return null;
  return new Date(Math.min(session.lastUsedAt.getTime() + policy.idleMs, session.createdAt.getTime() + policy.maxMs));
}

/** True once the session has expired at `now` (expiry is the first instant it no longer works). */
export function isExpired(session: Pick<SessionRecord, "createdAt" | "lastUsedAt">, user: Pick<UserRecord, "bot">, policy: SessionPolicy, now: Date): boolean {
  const expiresAt = sessionExpiresAt(session, user, policy);
  return expiresAt !== null && expiresAt.getTime() <= now.getTime();
}

/** The cutoffs a person's live sessions are past at `now` (the store's form of {@link isExpired}). */
export function aliveCutoffs(policy: SessionPolicy, now: Date): SessionCutoffs {
  return { usedAfter: new Date(now.getTime() - policy.idleMs), createdAfter: new Date(now.getTime() - policy.maxMs) };
}

/** Cutoffs under which every session is alive (bots' tokens never expire); 1970 is within every database's range. */
export const NEVER_EXPIRED: SessionCutoffs = { usedAfter: new Date(0), createdAfter: new Date(0) };

/** True if the stored last use is stale enough that this use should be written. */
export function touchDue(session: Pick<SessionRecord, "lastUsedAt">, policy: SessionPolicy, now: Date): boolean {
  return now.getTime() - session.lastUsedAt.getTime() >= policy.touchEveryMs;
}
