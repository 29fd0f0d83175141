import type { RequestContext } from "../context.js";
import { notFound, unauthenticated } from "../errors.js";
import type { SessionRecord, UserRecord } from "../stores/account-store.js";
import { requireViewer } from "./access.js";
import { aliveCutoffs, NEVER_EXPIRED, sessionExpiresAt } from "./session-expiry.js";
import { ALL_SESSIONS, announceRevocation } from "./session-revocation.js";

/**
 * Sessions the viewer controls: each bearer token (a sign-in on some device, or a bot's token)
 * is a session with a public id. Listing shows them; revoking one, or all but the one in use,
 * takes effect on every instance at once (see session-revocation.ts).
 */

/** At most this many sessions are listed: the most recently used. */
export const SESSION_LIST_CAP = 100;

/** A session as listed to its owner. */
export interface SessionView extends SessionRecord {
  /** When it stops working unless used again; null for bots' tokens, which do not expire. */
  expiresAt: Date | null;
  /** True for the session this request was made with. */
  current: boolean;
}

function viewOf(ctx: RequestContext, viewer: UserRecord, session: SessionRecord): SessionView {
  return { ...session, expiresAt: sessionExpiresAt(session, viewer, ctx.services.settings.sessionPolicy), current: session.id === ctx.sessionId };
}

/** The viewer's live sessions, most recently used first, at most {@link SESSION_LIST_CAP}. */
export async function listSessions(ctx: RequestContext): Promise<SessionView[]> {
  const viewer = requireViewer(ctx);
  const { services } = ctx;
  const alive = viewer.bot ? NEVER_EXPIRED : aliveCutoffs(services.settings.sessionPolicy, services.now());
  const sessions = await services.accounts.listSessions(viewer.id, alive, SESSION_LIST_CAP);
  return sessions.map((session) => viewOf(ctx, viewer, session));
}

/**
 * Revokes one of the viewer's sessions by its id: its token stops working on every instance,
 * its subscriptions end with UNAUTHENTICATED and its sockets close with 4401. Revoking the
 * current session is signing out. NOT_FOUND for an id that is not one of the viewer's live
 * sessions (another user's looks the same, so ids cannot be probed).
 */
export async function revokeSession(ctx: RequestContext, id: bigint): Promise<boolean> {
  const viewer = requireViewer(ctx);
  const tokenHash = await ctx.services.accounts.deleteSessionById(viewer.id, id);
  if (tokenHash === null) throw notFound("Session", String(id));
  await announceRevocation(ctx.services, { userId: viewer.id, tokenHash, keepTokenHash: null });
  return true;
}

/**
 * Revokes every session of the viewer except the one this request was made with ("sign out
 * everywhere else"); returns how many were revoked. One announcement covers them all.
 */
export async function revokeOtherSessions(ctx: RequestContext): Promise<number> {
  const viewer = requireViewer(ctx);
  const current = currentTokenHash(ctx);
  const revoked = await ctx.services.accounts.deleteSessionsOfUser(viewer.id, current);
  if (revoked > 0) await announceRevocation(ctx.services, { userId: viewer.id, tokenHash: ALL_SESSIONS, keepTokenHash: current });
  return revoked;
}

/** The token hash of the request's session; every authenticated request has one. */
export function currentTokenHash(ctx: RequestContext): string {
  requireViewer(ctx);
  if (!ctx.tokenHash) throw unauthenticated();
  return ctx.tokenHash;
}
