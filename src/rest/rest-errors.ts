import type { ServerResponse } from "node:http";

/**
 * HTTP status of each error code on the REST routes. GraphQL answers 200 with the code in
 * `errors`; REST says it in the status too. An unlisted code is a bug: 500.
 */
export const STATUS_OF_CODE: Readonly<Record<string, number>> = {
  BAD_USER_INPUT: 400,
  GRAPHQL_VALIDATION_FAILED: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  CONFLICT: 409,
  LIMIT_EXCEEDED: 409,
  LENGTH_REQUIRED: 411,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  RATE_LIMITED: 429,
  INTERNAL_SERVER_ERROR: 500,
  UNAVAILABLE: 503,
};

/** A REST error body: `{ "error": { "code", "message", ...details } }` (details: GraphQL's extensions, e.g. field, retryAfterMs). */
export interface RestError {
  code: string;
  message: string;
  [detail: string]: unknown;
}

/** The status for `code` (500 for one not in {@link STATUS_OF_CODE}). */
export const statusOf = (code: string): number => STATUS_OF_CODE[code] ?? 500;

/** Writes a JSON answer with `headers` added to those already set on `res` (CORS). */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (body === undefined) {
    res.writeHead(status, headers);
    res.end();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, { ...headers, "content-type": "application/json; charset=utf-8", "content-length": String(Buffer.byteLength(text)) });
  res.end(text);
}

/** Writes `error` with its code's status. */
export function sendError(res: ServerResponse, error: RestError, headers: Record<string, string> = {}): void {
  sendJson(res, statusOf(error.code), { error }, headers);
}
