import { GraphQLError } from "graphql";

/**
 * The error codes a client can branch on (`extensions.code`). Anything else that escapes a
 * resolver is a bug: the server masks it as INTERNAL_SERVER_ERROR and logs it.
 */
export type ErrorCode =
  | "UNAUTHENTICATED"
  | "FORBIDDEN"
  | "NOT_FOUND"
  | "BAD_USER_INPUT"
  | "CONFLICT"
  | "RATE_LIMITED"
  | "LIMIT_EXCEEDED"
  | "UNAVAILABLE"
  | "PERSISTED_QUERY_NOT_FOUND"
  | "PERSISTED_QUERY_NOT_SUPPORTED"
  | "PERSISTED_QUERY_MISMATCH"
  | "PERSISTED_QUERY_NOT_IN_LIST";

/**
 * A failure the client caused or may act on; always safe to show. It carries no stack trace: it
 * is never logged, and capturing one was most of the cost of refusing a call, which hostile
 * clients make by the thousand.
 */
export class ConcordError extends GraphQLError {
  constructor(code: ErrorCode, message: string, extra: Record<string, unknown> = {}) {
    const stackTraceLimit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    try {
      super(message, { extensions: { code, ...extra } });
    } finally {
      Error.stackTraceLimit = stackTraceLimit;
    }
    this.name = "ConcordError";
  }
}

/** No or invalid credentials. */
export const unauthenticated = (message = "Sign in first: send `Authorization: Bearer <token>`.") =>
  new ConcordError("UNAUTHENTICATED", message);

/** The viewer can see the thing but may not do this to it. */
export const forbidden = (message: string) => new ConcordError("FORBIDDEN", message);

/**
 * The thing does not exist, or the viewer may not know it exists: both look the same, so ids of
 * private guilds and channels cannot be probed.
 */
export const notFound = (what: string, id?: string) =>
  new ConcordError("NOT_FOUND", id === undefined ? `${what} not found.` : `${what} ${id} not found.`);

/** One input field is wrong; `field` names it (dotted path inside the input, e.g. `input.name`). */
export const badInput = (field: string, message: string) =>
  new ConcordError("BAD_USER_INPUT", message, { field });

/** The request is valid but clashes with the current state (taken name, already a member, ...). */
export const conflict = (message: string) => new ConcordError("CONFLICT", message);

/**
 * A resource cap is reached (channels per guild, guilds per user, subscriptions per socket...):
 * valid, but one more is not allowed until one is removed. `resource` names the cap, `limit` is
 * its value and `setting` the environment variable that configures it.
 */
export const limitExceeded = (resource: string, limit: number, setting: string, message: string) =>
  new ConcordError("LIMIT_EXCEEDED", message, { resource, limit, setting });
