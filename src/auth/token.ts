import { hash, randomBytes } from "node:crypto";

/**
 * Bearer tokens: 32 random bytes, base64url, with a readable prefix so leaked tokens are easy to
 * spot in logs and secret scanners. Only the SHA-256 of a token is stored, so a database leak
 * does not hand out sessions; a fast hash is fine because the token has 256 bits of entropy.
 */
const PREFIX = "cnc_";

/** A new random token, shown to its owner once. */
export function newToken(): string {
  return PREFIX + randomBytes(32).toString("base64url");
}

/** The value stored and looked up for a token (one-shot `crypto.hash`: half the cost of a Hash object, per request). */
export function hashToken(token: string): string {
  return hash("sha256", token, "hex");
}

/**
 * Extracts the token from an `Authorization` header or a graphql-ws `connection_init` value:
 * accepts `Bearer <token>` (any case) or the bare token. Returns null when absent or malformed.
 */
export function parseBearer(value: unknown): string | null {
  if (typeof value !== "string") return null;
  const token = value.trim().replace(/^bearer\s+/i, "");
  return /^[A-Za-z0-9_-]{16,200}$/.test(token) ? token : null;
}
