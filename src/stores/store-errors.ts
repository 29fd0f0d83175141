/**
 * Errors a store port may throw for expected outcomes. Adapters translate their driver's errors
 * into these; use cases translate these into GraphQL errors. Anything else is a bug or an outage.
 */

/** A uniqueness rule of the port was violated (e.g. a username that is taken). */
export class UniqueViolationError extends Error {
  constructor(readonly what: string) {
    super(`unique violation: ${what}`);
    this.name = "UniqueViolationError";
  }
}

/**
 * A write would pass a count the caller asked the store to enforce atomically (e.g. channels per
 * guild); nothing was written. `what` names the cap, `limit` is the value that was enforced.
 */
export class LimitReachedError extends Error {
  constructor(
    readonly what: string,
    readonly limit: number,
  ) {
    super(`limit reached: ${what} (${limit})`);
    this.name = "LimitReachedError";
  }
}

/**
 * A write names a row that does not exist (any more): a channel or an invite for a guild deleted
 * after the caller checked it, by another request or by an earlier field of the same mutation.
 * Nothing was written. `what` names the missing row's kind ("guild").
 */
export class MissingReferenceError extends Error {
  constructor(readonly what: string) {
    super(`missing reference: ${what}`);
    this.name = "MissingReferenceError";
  }
}

/**
 * The store's backend cannot answer right now (too few replicas up, a timeout, no node
 * reachable): an outage, not a bug, and usually a short one. Whether a write that failed this
 * way was applied is unknown; repeating it is safe only if it is idempotent (a send with a
 * nonce is). `store` names the part that is down ("message history"); `retryAfterMs` is a
 * reasonable first wait. `cause` is the driver's error, for the log.
 */
export class StoreUnavailableError extends Error {
  constructor(
    readonly store: string,
    readonly retryAfterMs: number,
    options: { cause: unknown },
  ) {
    super(`${store} unavailable`, options);
    this.name = "StoreUnavailableError";
  }
}
