import { GraphQLError, type ExecutionArgs } from "graphql";
import type { Plugin } from "graphql-yoga";
import { findUnsafeString } from "../resolvers/input-safety.js";

/**
 * The BAD_USER_INPUT error for an operation carrying a string no store can keep as given (NUL, a
 * lone surrogate) anywhere in its document or variables; null when there is none. A net under the
 * per-field validation: such a string never reaches a resolver, let alone a store.
 */
export function unsafeInputError(args: Pick<ExecutionArgs, "document" | "variableValues">): GraphQLError | null {
  const unsafe = findUnsafeString(args.document, args.variableValues ?? undefined);
  if (!unsafe) return null;
  return new GraphQLError(unsafe.message, { extensions: { code: "BAD_USER_INPUT", field: unsafe.path } });
}

/** Applies {@link unsafeInputError} before every execution and subscription that goes through yoga. */
export function useInputSafety(): Plugin {
  return {
    onExecute({ args, setResultAndStopExecution }) {
      const error = unsafeInputError(args);
      if (error) setResultAndStopExecution({ errors: [error] });
    },
    onSubscribe({ args, setResultAndStopExecution }) {
      const error = unsafeInputError(args);
      if (error) setResultAndStopExecution({ errors: [error] });
    },
  };
}
