import { useGraphQlJit } from "@envelop/graphql-jit";
import { getOperationAST } from "graphql";
import type { Logger } from "../logger.js";
import { usesIncrementalDelivery } from "./incremental-delivery.js";

/**
 * Queries and mutations run as compiled JavaScript (graphql-jit): each document is compiled once
 * per instance (cached by its parsed DocumentNode, which yoga's parser cache keeps stable) into a
 * function that resolves its fields without graphql-js's per-field walk of the selection set, and
 * serialises the result with a serializer made for that document's shape. A 50-message history
 * page executes ~400 fields; this is most of its GraphQL cost.
 *
 * Subscriptions keep graphql-js: their events are executed once per group of identical
 * subscriptions by the shared fan-out (shared-fanout.ts), which has its own execution path. So do
 * documents with `@defer` or `@stream`: graphql-jit does not know them and would answer in one piece.
 */
export function useCompiledExecution(logger: Logger) {
  return useGraphQlJit(
    {},
    {
      enableIf: (args) => getOperationAST(args.document, args.operationName)?.operation !== "subscription" && !usesIncrementalDelivery(args.document),
      // A valid document graphql-jit cannot compile is answered with the compile error (the plugin's
      // fallback): worth knowing about, since graphql-js would have run it.
      onError: (result) => logger.error("graphql-jit could not compile a validated document", { errors: result.errors?.map((e) => e.message) }),
    },
  );
}
