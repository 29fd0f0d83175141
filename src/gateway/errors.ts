import { GraphQLError } from "graphql";
import { ConcordError } from "../errors.js";
import type { Logger } from "../logger.js";

/**
 * Yoga's `maskError`: errors a client caused (ConcordError, and GraphQL's own parse and
 * validation errors) pass through with their code; anything else is a bug or an outage, so it is
 * logged in full and the client gets a generic message with INTERNAL_SERVER_ERROR.
 */
export function createErrorMasker(logger: Logger) {
  return (error: unknown): Error => {
    const original = error instanceof GraphQLError ? error.originalError : error;
    if (original instanceof ConcordError || original === undefined || original === null) {
      if (error instanceof GraphQLError && !error.extensions?.code) {
        // GraphQL's own parse/validation/coercion errors: give them a code clients can branch on.
        return new GraphQLError(error.message, {
          nodes: error.nodes,
          source: error.source,
          positions: error.positions,
          path: error.path,
          extensions: { ...error.extensions, code: "GRAPHQL_VALIDATION_FAILED" },
        });
      }
      return error as Error;
    }
    if (original instanceof GraphQLError) return error as Error;
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
