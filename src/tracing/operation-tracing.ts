import { context, SpanKind, SpanStatusCode, trace, type Span, type Tracer } from "@opentelemetry/api";
import { getOperationAST, type DocumentNode, type ExecutionResult, type GraphQLError } from "graphql";
import type { Plugin } from "graphql-yoga";
import { ATTR_ERROR_TYPE, ATTR_GRAPHQL_OPERATION_NAME, ATTR_GRAPHQL_OPERATION_TYPE } from "./attributes.js";

/** Error codes are the server's own list; anything else is reported as "OTHER". */
const CODE_PATTERN = /^[A-Z][A-Z_]{0,39}$/;

/**
 * Names the span after the operation, as the GraphQL semantic conventions say:
 * `<type> <name>` (`mutation SendMessage`), or `<type>` for an anonymous one. The document itself
 * is never recorded: inline arguments would put message contents and tokens in the trace.
 */
function describe(span: Span, document: DocumentNode, operationName: string | null | undefined): void {
  const operation = getOperationAST(document, operationName);
  const type = operation?.operation ?? "unknown";
  const name = operation?.name?.value;
  span.updateName(name ? `${type} ${name}` : type);
  span.setAttribute(ATTR_GRAPHQL_OPERATION_TYPE, type);
  if (name) span.setAttribute(ATTR_GRAPHQL_OPERATION_NAME, name);
}

/** Marks the span failed when the result carries errors, with the first error's code as error.type. */
function recordErrors(span: Span, errors: readonly GraphQLError[] | undefined): void {
  if (!errors || errors.length === 0) return;
  const code = errors[0]!.extensions?.code;
  span.setAttribute(ATTR_ERROR_TYPE, typeof code === "string" && CODE_PATTERN.test(code) ? code : "OTHER");
  span.setStatus({ code: SpanStatusCode.ERROR });
}

/** Runs `phase` inside a new server span (a child of the active context) and ends it when `phase` settles. */
function inSpan<T>(tracer: Tracer, phase: () => T): T {
  const span = tracer.startSpan("graphql", { kind: SpanKind.SERVER });
  const end = () => span.end();
  try {
    const result = context.with(trace.setSpan(context.active(), span), phase);
    if (isThenable(result)) {
      result.then(end, (error: unknown) => {
        span.setStatus({ code: SpanStatusCode.ERROR });
        span.setAttribute(ATTR_ERROR_TYPE, (error as Error)?.name ?? "Error");
        end();
      });
    } else end();
    return result;
  } catch (error) {
    span.setStatus({ code: SpanStatusCode.ERROR });
    end();
    throw error;
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | null)?.then === "function";
}

/**
 * A span per GraphQL operation executed through yoga's pipeline: queries and mutations over
 * HTTP and over the WebSocket, subscriptions over SSE (the span covers starting the stream, not
 * its events). Store and event-bus calls made while executing become its children. Installed
 * only when tracing is on.
 */
export function useOperationTracing(tracer: Tracer): Plugin {
  return {
    instrumentation: {
      execute: (_payload, wrapped) => inSpan(tracer, wrapped),
      subscribe: (_payload, wrapped) => inSpan(tracer, wrapped),
    },
    onExecute({ args }) {
      const span = trace.getActiveSpan();
      if (!span) return;
      describe(span, args.document, args.operationName);
      return {
        onExecuteDone({ result }) {
          if (!(Symbol.asyncIterator in result)) recordErrors(span, (result as ExecutionResult).errors);
        },
      };
    },
    onSubscribe({ args }) {
      const span = trace.getActiveSpan();
      if (span) describe(span, args.document, args.operationName);
    },
  };
}

/**
 * A span for starting one subscription over the WebSocket (which the shared fan-out runs outside
 * yoga's pipeline): it covers authorization and the first reads, not the events that follow.
 */
export function traceSubscriptionStart<T>(tracer: Tracer, document: DocumentNode, operationName: string | null | undefined, start: () => Promise<T>): Promise<T> {
  return inSpan(tracer, () => {
    describe(trace.getActiveSpan()!, document, operationName);
    return start();
  });
}
