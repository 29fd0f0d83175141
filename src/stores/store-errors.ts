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
