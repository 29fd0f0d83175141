import { parseBearer } from "../auth/token.js";
import type { Services } from "../context.js";
import { authenticate } from "../resolvers/accounts.js";
import type { UserRecord } from "../stores/account-store.js";

export interface RequestAuth {
  viewer: UserRecord | null;
  tokenHash: string | null;
  /** Public id of the token's session. */
  sessionId: bigint | null;
  authFailure: string | null;
}

const ANONYMOUS: RequestAuth = { viewer: null, tokenHash: null, sessionId: null, authFailure: null };

/**
 * Resolves the credentials of a request: the HTTP `Authorization` header, or `authorization` in
 * the graphql-ws `connection_init` payload (with or without `Bearer `). A missing token is
 * anonymous; a malformed, unknown, revoked or expired one is remembered so that UNAUTHENTICATED
 * errors can say what is wrong instead of just "sign in". (An expired session is said to be so
 * once: its row is deleted then, and the token is unknown afterwards.)
 */
export async function resolveAuth(services: Services, credential: unknown): Promise<RequestAuth> {
  if (credential === undefined || credential === null || credential === "") return ANONYMOUS;
  const token = parseBearer(credential);
  if (!token) return { ...ANONYMOUS, authFailure: "The authorization value is not a bearer token; send `Bearer <token>`." };
  const found = await authenticate(services, token);
  if (found === "expired") return { ...ANONYMOUS, authFailure: "Your session expired; sign in again." };
  if (!found) return { ...ANONYMOUS, authFailure: "The token is invalid or was revoked; sign in again." };
  return { viewer: found.user, tokenHash: found.tokenHash, sessionId: found.sessionId, authFailure: null };
}
