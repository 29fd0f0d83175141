import type { ExecutionResult } from "graphql";

/**
 * Where an operation's stream reports how it ended: the socket's connection, which then sends
 * the last `next` (if any) and `complete` for that operation id, unless the operation was
 * completed or replaced meanwhile (`source` is no longer the one registered under `id`).
 */
export interface OutcomeListener {
  ended(id: string, source: object, outcome: IteratorResult<ExecutionResult>): void;
}

/**
 * A stream that writes its events to the socket itself (push-mode shared fan-out) and only needs
 * to say when it ended. Following it costs no pending promise and no callbacks per subscription,
 * which a socket would otherwise keep for its subscription's whole life.
 */
export interface SelfReporting {
  /**
   * Starts delivery and reports the end to `listener`, exactly once; false (and nothing started)
   * when this stream cannot run that way, and must be followed through `next()` instead.
   * `return()` still ends it from the protocol's side (the end is then reported too).
   */
  reportTo(listener: OutcomeListener): boolean;
}

/** Whether `iterator` offers {@link SelfReporting}. */
export function canReportItself(iterator: object): iterator is SelfReporting {
  return typeof (iterator as Partial<SelfReporting>).reportTo === "function";
}
