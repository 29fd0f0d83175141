import { AsyncLocalStorage } from "node:async_hooks";
import { context, trace } from "@opentelemetry/api";

/**
 * What ties a log line to the request and the trace it was written for: the request id of the
 * HTTP request being served (AsyncLocalStorage, entered once per request by the gateway) and
 * the active span's trace and span ids (OpenTelemetry's context; with tracing off the API is
 * a no-op and there never is one).
 */
const requests = new AsyncLocalStorage<string>();

/** Runs `serve` with `requestId` as the request id of every log line written while it (and what it starts) runs. */
export function runWithRequestId<T>(requestId: string, serve: () => T): T {
  return requests.run(requestId, serve);
}

/** The request id of the request being served, if any. */
export function currentRequestId(): string | undefined {
  return requests.getStore();
}

/**
 * `request_id`, `trace_id` and `span_id` for the line being written, those that apply (the
 * logger's mixin: a new object each time, which the logger fills with the line's fields).
 */
export function logCorrelation(): Record<string, string> {
  const fields: Record<string, string> = {};
  const requestId = requests.getStore();
  const span = trace.getSpanContext(context.active());
  if (requestId !== undefined) fields.request_id = requestId;
  if (span !== undefined) {
    fields.trace_id = span.traceId;
    fields.span_id = span.spanId;
  }
  return fields;
}
