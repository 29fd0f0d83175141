import { getOperationAST, GraphQLError, type DocumentNode, type ExecutionResult } from "graphql";
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

/** The operation type of a parsed document (its only or first operation), or "unknown". */
function operationTypeOf(document: DocumentNode): string {
  const operation = document.definitions.find((definition) => definition.kind === "OperationDefinition");
  return operation?.kind === "OperationDefinition" ? operation.operation : "unknown";
}

/** Errors without a code of their own get the code their phase gives them in responses. */
function withCode(errors: readonly Error[], code: string): GraphQLError[] {
  return errors.map((error) => {
    const graphQLError = error instanceof GraphQLError ? error : new GraphQLError(error.message);
    return graphQLError.extensions?.code ? graphQLError : new GraphQLError(graphQLError.message, { extensions: { code } });
  });
}

/**
 * Times every executed query and mutation (HTTP and WebSocket alike) by operation type, counts
 * its errors by code (RATE_LIMITED also by bucket), and times sendMessage by message store.
 * Documents refused before execution count too: parse errors (operation type "unknown") and
 * validation errors (which include the depth, alias and token limits). No operation names:
 * clients choose them, so they are not a bounded label.
 */
export function useOperationMetrics(store: string): Plugin {
  return {
    onParse() {
      return ({ result }) => {
        if (result instanceof Error) countErrors("unknown", withCode([result], "GRAPHQL_PARSE_FAILED"));
      };
    },
    onValidate({ params }) {
      return ({ valid, result }) => {
        if (!valid) countErrors(operationTypeOf(params.documentAST), withCode(result, "GRAPHQL_VALIDATION_FAILED"));
      };
    },
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
