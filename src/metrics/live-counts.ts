import type { DocumentNode } from "graphql";
import { getOperationAST } from "graphql";
import type { EventBus } from "../pubsub/event-bus.js";
import { metrics } from "./metrics.js";

/** The stream a subscription document opens: its first root field (a schema field name, so a bounded label). */
export function streamOf(document: DocumentNode, operationName?: string | null): string {
  const selection = getOperationAST(document, operationName)?.selectionSet.selections[0];
  return selection?.kind === "Field" ? selection.name.value : "unknown";
}

/**
 * Counts a live subscription in `concord_subscriptions_active{stream}` until it ends (done,
 * returned or thrown), forwarding everything else to `source`.
 */
export function countLive<T>(source: AsyncIterable<T>, stream: string): AsyncIterableIterator<T> {
  const iterator = source[Symbol.asyncIterator]();
  metrics.liveSubscriptions.inc({ stream });
  let live = true;
  const ended = () => {
    if (!live) return;
    live = false;
    metrics.liveSubscriptions.dec({ stream });
  };
  const settle = async (step: Promise<IteratorResult<T>>) => {
    try {
      const result = await step;
      if (result.done) ended();
      return result;
    } catch (error) {
      ended();
      throw error;
    }
  };
  return {
    [Symbol.asyncIterator]() {
      return this;
    },
    next: () => settle(iterator.next()),
    return: (value?: unknown) => {
      ended();
      return iterator.return ? settle(iterator.return(value)) : Promise.resolve({ done: true, value: undefined as T });
    },
    throw: (error?: unknown) => {
      ended();
      return iterator.throw ? settle(iterator.throw(error)) : Promise.reject(error);
    },
  };
}

/** Counts every publish of `bus` in `concord_events_published_total` (the instance's own method is wrapped). */
export function countPublishes(bus: EventBus): EventBus {
  const publish = bus.publish.bind(bus);
  bus.publish = (topic, event, options) => {
    metrics.eventsPublished.inc();
    return publish(topic, event, options);
  };
  return bus;
}
