import { randomUUID } from "node:crypto";

/** The header a request id comes in and goes back in. */
export const REQUEST_ID_HEADER = "x-request-id";

/** What an incoming request id may be: 1-128 characters a proxy or client would use (UUIDs, hex, `Root=1-…;Parent=…`). */
const ACCEPTED = /^[A-Za-z0-9._~:;=+/@-]{1,128}$/;

/**
 * The id of one HTTP request: the client's or proxy's `X-Request-Id` when it is well formed (so
 * a request can be followed through the load balancer's logs and ours), else a new UUID.
 */
export function requestIdOf(header: string | string[] | undefined): string {
  return typeof header === "string" && ACCEPTED.test(header) ? header : randomUUID();
}
