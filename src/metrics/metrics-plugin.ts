import { getOperationAST, type ExecutionResult, type GraphQLError } from "graphql";
import type { Plugin } from "graphql-yoga";
import { metrics } from "./metrics.js";

/** Error codes are bounded by the server's own list; anything unexpected is counted as "OTHER". */
const CODE_PATTERN = /^[A-Z][A-Z_]{0,39}$/;
const BUCKET_PATTERN = /^[a-z][a-z0-9._-]{0,39}$/;

function countErrors(operationType: string, errors: readonly GraphQLError[] | undefined): void {
  if (!errors) return;
  for (const error of errors) {
    const raw = error.extensions?.code;
    const code = typeof raw === "string" && CODE_PATTERN.test(raw) ? raw : "OTHER";
    metrics.operationErrors.inc({ operation_type: operationType, code });
    if (code === "RATE_LIMITED") {
      const bucket = error.extensions?.bucket;
      metrics.rateLimited.inc({ bucket: typeof bucket === "string" && BUCKET_PATTERN.test(bucket) ? bucket : "other" });
    }
  }
}

/**
 * Times every executed query and mutation (HTTP and WebSocket alike) by operation type, counts
 * its errors by code (RATE_LIMITED also by bucket), and times sendMessage by message store. No
 * operation names: clients choose them, so they are not a bounded label.
 */
export function useOperationMetrics(store: string): Plugin {
  return {
    onExecute({ args }) {
      const operation = getOperationAST(args.document, args.operationName);
      const type = operation?.operation ?? "unknown";
      const started = performance.now();
      const sendsMessage =
        type === "mutation" && operation!.selectionSet.selections.some((selection) => selection.kind === "Field" && selection.name.value === "sendMessage");
      return {
        onExecuteDone({ result }) {
          // A stream (subscription over HTTP, @defer) is timed to its first result only.
          const seconds = (performance.now() - started) / 1_000;
          metrics.operationDuration.observe({ operation_type: type }, seconds);
          if (sendsMessage) metrics.sendMessageDuration.observe({ store }, seconds);
          if (!(Symbol.asyncIterator in result)) countErrors(type, (result as ExecutionResult).errors);
        },
      };
    },
  };
}
