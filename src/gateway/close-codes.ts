import { CloseCode } from "graphql-ws";

/**
 * Every WebSocket close code Concord sends, in one place (documented in docs/LIVE.md). graphql-ws
 * clients retry after any 4xxx code except the ones graphql-ws calls fatal (4400, 4401, 4406,
 * 4409, 4429, 4500): so a code whose cause will not go away by itself must be one of those.
 */
export const CLOSE_CODES = {
  /** Normal closure: an anonymous socket idle too long (a lazy client reconnects when it needs to). */
  idle: 1000,
  /** The server is shutting down: reconnect (to another instance). */
  goingAway: 1001,
  /**
   * The instance is draining (SIGTERM): reconnect, to another instance. 1012 "Service Restart" is
   * one of the 1xxx codes graphql-ws clients retry (with their usual randomised back-off).
   */
  serviceRestart: 1012,
  /** The token at connection_init is unknown, expired or revoked, or was revoked while connected: sign in again (not retried). */
  unauthorized: CloseCode.Unauthorized,
  /** More unsent data queued than MAX_SOCKET_BUFFERED_BYTES: the client reads too slowly (reconnect, catch up from history). */
  tooSlow: 4008,
  /** Too many messages on this socket, or too many sockets for this user: back off and retry later. */
  tooMany: 4029,
  /** The socket itself failed on the server (a write error): graphql-ws clients treat it as fatal; reconnect by hand. */
  internalError: 1011,
} as const;
