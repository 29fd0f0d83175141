import type { DocumentNode } from "graphql";
import { getOperationAST } from "graphql";
import type { EventBus } from "../pubsub/event-bus.js";
import { metrics } from "./metrics.js";

/** The stream a subscription document opens: its first root field (a schema field name, so a bounded label). */
export function streamOf(document: DocumentNode, operationName?: string | null): string {
  const selection = getOperationAST(document, operationName)?.selectionSet.selections[0];
  return selection?.kind === "Field" ? selection.name.value : "unknown";
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
