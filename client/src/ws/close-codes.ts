/**
 * The WebSocket close codes a Concord server sends (docs/LIVE.md §7; the server's list is
 * src/gateway/close-codes.ts, and a test keeps the two equal).
 */
export const CONCORD_CLOSE_CODES = {
  /** An anonymous socket idle too long: reconnect when you next need it. */
  idle: 1000,
  /** The server is shutting down: reconnect, then catch up. */
  goingAway: 1001,
  /** The token at connection_init is unknown, expired or revoked, or was revoked since: sign in again. */
  unauthorized: 4401,
  /** More unsent data queued than the server allows: reconnect and resume from the last cursor. */
  tooSlow: 4008,
  /** Too many messages on this socket, or too many sockets for this user: back off, then retry. */
  tooMany: 4029,
  /** The socket failed on the server: graphql-ws gives up on it, Concord's client reconnects. */
  internalError: 1011,
} as const;

/**
 * Closes after which trying again cannot help: the same token, document or protocol would be
 * refused again. 4401 (sign in again), 1009 (the message was too large), graphql-ws's protocol
 * errors (4400, 4403, 4406, 4409, 4429, 4500) and its client-side ones (4004, 4005), and the
 * WebSocket protocol errors 1002, 1003, 1007, 1008, 1010.
 */
const FATAL = new Set([1002, 1003, 1007, 1008, 1009, 1010, 4004, 4005, 4400, 4401, 4403, 4406, 4409, 4429, 4500]);

/** True when a socket closed with `code` is worth reconnecting (everything but {@link FATAL}). */
export function isRetryableClose(code: number): boolean {
  return !FATAL.has(code);
}

/** A WebSocket close event as graphql-ws reports it (a browser CloseEvent or ws's). */
export interface CloseEventLike {
  code: number;
  reason: string;
}

/** True for a close event (what graphql-ws hands to `error` and `shouldRetry` when its socket closed). */
export function isCloseEvent(value: unknown): value is CloseEventLike {
  return typeof value === "object" && value !== null && "code" in value && "reason" in value;
}
