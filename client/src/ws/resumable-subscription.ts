import type { Client, FormattedExecutionResult, Sink } from "graphql-ws";
import { type RetryDelay, wait } from "./backoff.js";
import { isCloseEvent, isRetryableClose } from "./close-codes.js";
import type { MutablePayload } from "./operation-payload.js";

export interface ResumeOptions {
  /** Delay before resubscribing after the n-th failure in a row. */
  retryDelay: RetryDelay;
  /** Failures in a row after which the error reaches the sink. */
  maxRetries: number;
}

/** The `cursor` of a live event: every event of channelEvents, guildEvents and userEvents has one (LiveEvent). */
function cursorOf(result: FormattedExecutionResult<Record<string, unknown>, unknown>): string | undefined {
  const root = result.data ? Object.values(result.data)[0] : undefined;
  const cursor = root && typeof root === "object" ? (root as { cursor?: unknown }).cursor : undefined;
  return typeof cursor === "string" ? cursor : undefined;
}

/** The server ended the stream because it fell behind (docs/LIVE.md §5): resubscribing with the cursor is the cure. */
const fellBehind = (result: FormattedExecutionResult<unknown, unknown>) =>
  result.data == null && (result.errors ?? []).some((error) => error.extensions?.code === "RATE_LIMITED");

/**
 * Runs one subscription that survives disconnects without loss or duplication (docs/LIVE.md §4):
 * it keeps the cursor of the last event received and, when graphql-ws re-sends the subscription
 * after a reconnect, the payload already carries `after: <that cursor>` (graphql-ws re-sends the
 * payload object it was given, so the variables are updated in place). Where graphql-ws gives
 * up but trying again can help — a 1011 close, a stream ended with RATE_LIMITED, or a network
 * failure past graphql-ws's own retries — it subscribes again itself after `retryDelay`, up to
 * `maxRetries` failures in a row. Fatal closes (4401: sign in again) and every other error reach
 * the sink. With `resumable` false (no `$after` variable) it only passes results through.
 * Returns the function that stops it.
 */
export function subscribeResumable<TData>(
  client: Client,
  payload: MutablePayload,
  sink: Sink<FormattedExecutionResult<TData, unknown>>,
  resumable: boolean,
  options: ResumeOptions,
): () => void {
  let stopped = false;
  let failures = 0;
  let unsubscribe: () => void = () => {};

  const retry = async () => {
    await wait(options.retryDelay(failures++));
    if (!stopped) start();
  };

  const start = () => {
    // The RATE_LIMITED end, held back while a resubscription may still cure it.
    let ended: FormattedExecutionResult<TData, unknown> | undefined;
    unsubscribe = client.subscribe<TData>(payload, {
      next(result) {
        const cursor = cursorOf(result as FormattedExecutionResult<Record<string, unknown>, unknown>);
        if (cursor !== undefined) {
          failures = 0;
          if (resumable) payload.variables.after = cursor;
        }
        if (resumable && fellBehind(result)) {
          ended = result;
          return;
        }
        sink.next(result);
      },
      error(error) {
        if (stopped) return;
        const retryable = isCloseEvent(error) && isRetryableClose(error.code);
        if (resumable && retryable && failures < options.maxRetries) return void retry();
        stopped = true;
        sink.error(error);
      },
      complete() {
        if (stopped) return;
        if (ended && failures < options.maxRetries) return void retry();
        stopped = true;
        if (ended) sink.next(ended);
        sink.complete();
      },
    });
  };

  start();
  return () => {
    stopped = true;
    unsubscribe();
  };
}
