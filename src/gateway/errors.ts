import { GraphQLError } from "graphql";
import { ConcordError } from "../errors.js";
import type { Logger } from "../logger.js";
import { isDatabaseUnavailable } from "../stores/prisma/prisma-errors.js";
import { StoreUnavailableError } from "../stores/store-errors.js";

/** A first wait before retrying after the database was unreachable (a restart takes seconds). */
const DATABASE_RETRY_AFTER_MS = 1_000;

/**
 * graphql-armor words its limits as "Syntax Error: Query depth limit of 10 exceeded, found 11."
 * although the query parsed fine; the client gets the limit without the misleading prefix.
 */
function withoutArmorPrefix(message: string): string {
  return /^Syntax Error: .*limit of \d+ exceeded/.test(message) ? message.slice("Syntax Error: ".length) : message;
}

/** A code for GraphQL's own errors, which come without one: bad variables are the caller's input. */
function codeFor(error: GraphQLError): string {
  return error.message.startsWith('Variable "$') ? "BAD_USER_INPUT" : "GRAPHQL_VALIDATION_FAILED";
}

/**
 * Yoga's `maskError`: errors a client caused (ConcordError, and GraphQL's own parse, validation
 * and variable-coercion errors) pass through, each with a code; a store that is down
 * (StoreUnavailableError, or the database unreachable) becomes UNAVAILABLE with `retryAfterMs`,
 * logged as a warning; anything
 * else is a bug, so it is logged in full and the client gets a generic message with
 * INTERNAL_SERVER_ERROR.
 */
export function createErrorMasker(logger: Logger) {
  return (error: unknown): Error => {
    const original = error instanceof GraphQLError ? error.originalError : error;
    if (original instanceof StoreUnavailableError) return unavailable(error, original, logger);
    const clientCaused = original instanceof GraphQLError || original === undefined || original === null;
    if (clientCaused && error instanceof GraphQLError) {
      if (error.extensions?.code) return error;
      return new GraphQLError(withoutArmorPrefix(error.message), {
        nodes: error.nodes,
        source: error.source,
        positions: error.positions,
        path: error.path,
        originalError: error.originalError,
        extensions: { ...error.extensions, code: codeFor(error) },
      });
    }
    if (isDatabaseUnavailable(original)) return unavailable(error, new StoreUnavailableError("database", DATABASE_RETRY_AFTER_MS, { cause: original }), logger);
    logger.error("unexpected error", {
      error: original,
      path: error instanceof GraphQLError ? error.path?.join(".") : undefined,
    });
    return new GraphQLError("Something went wrong on our side; it was logged. Try again later.", {
      nodes: error instanceof GraphQLError ? error.nodes : undefined,
      path: error instanceof GraphQLError ? error.path : undefined,
      extensions: { code: "INTERNAL_SERVER_ERROR" },
    });
  };
}

/** The client's answer to a store outage: what is down, that retrying is the remedy, and when. */
function unavailable(error: unknown, original: StoreUnavailableError, logger: Logger): GraphQLError {
  const path = error instanceof GraphQLError ? error.path : undefined;
  logger.warn("store unavailable", { store: original.store, error: original.cause, path: path?.join(".") });
  return new GraphQLError(
    `The ${original.store} is briefly unavailable; try again in a moment. What you sent may or may not have been saved: repeat a send with the same nonce, and it is never stored twice.`,
    {
      nodes: error instanceof GraphQLError ? error.nodes : undefined,
      path,
      extensions: { code: "UNAVAILABLE", retryAfterMs: original.retryAfterMs, store: original.store },
    },
  );
}
