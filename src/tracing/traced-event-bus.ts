import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Tracer } from "@opentelemetry/api";
import type { DeliveryTracer, EventBus } from "../pubsub/event-bus.js";
import type { Topic } from "../pubsub/topics.js";
import {
  ATTR_CONCORD_EVENT_TYPE,
  ATTR_DB_SYSTEM_NAME,
  ATTR_ERROR_TYPE,
  ATTR_MESSAGING_DESTINATION_NAME,
  ATTR_MESSAGING_OPERATION_NAME,
  ATTR_MESSAGING_OPERATION_TYPE,
  ATTR_MESSAGING_SYSTEM,
} from "./attributes.js";

/** The kind of a topic (`channel`, `guild`, `user`, `revocations`...): span names stay few, ids go in attributes. */
function topicKind(topic: Topic): string {
  const colon = topic.indexOf(":");
  return colon < 0 ? topic : topic.slice(0, colon);
}

/**
 * The bus with a producer span around each publish (`publish channel`; on Redis that is the
 * publish script, so the span also says db.system.name redis), whose W3C trace context rides in
 * the published event's envelope (PublishOptions.traceparent) to every instance. Other members
 * are the bus's own. Applied by the composition root only when tracing is on.
 */
export function traceEventBus<T extends EventBus>(bus: T, tracer: Tracer, system: "redis" | "memory"): T {
  const publish: EventBus["publish"] = (topic, event, options) =>
    tracer.startActiveSpan(
      `publish ${topicKind(topic)}`,
      {
        kind: SpanKind.PRODUCER,
        attributes: {
          [ATTR_MESSAGING_SYSTEM]: system,
          [ATTR_MESSAGING_OPERATION_TYPE]: "send",
          [ATTR_MESSAGING_OPERATION_NAME]: "publish",
          [ATTR_MESSAGING_DESTINATION_NAME]: topic,
          [ATTR_CONCORD_EVENT_TYPE]: event.type,
          ...(system === "redis" ? { [ATTR_DB_SYSTEM_NAME]: "redis" } : {}),
        },
      },
      async (span) => {
        const carrier: { traceparent?: string } = {};
        propagation.inject(context.active(), carrier);
        try {
          return await bus.publish(topic, event, carrier.traceparent ? { ...options, traceparent: carrier.traceparent } : options);
        } catch (error) {
          span.setStatus({ code: SpanStatusCode.ERROR });
          span.setAttribute(ATTR_ERROR_TYPE, (error as Error)?.name ?? "Error");
          throw error;
        } finally {
          span.end();
        }
      },
    );
  return new Proxy(bus, {
    get(target, key) {
      if (key === "publish") return publish;
      const value = Reflect.get(target, key);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

/**
 * The {@link DeliveryTracer} the buses call for each event that arrived with a trace context: a
 * consumer span `deliver <EventType>`, a child of the sender's context, covering this instance's
 * hand-over of the event to its local subscriptions (one span per event per instance, whatever the
 * number of subscribers; the work those subscriptions start inside it joins the trace).
 */
export function createDeliveryTracer(tracer: Tracer, system: "redis" | "memory"): DeliveryTracer {
  return (topic, event, traceparent, fanOut) => {
    const parent = propagation.extract(ROOT_CONTEXT, { traceparent });
    const span = tracer.startSpan(
      `deliver ${event.type}`,
      {
        kind: SpanKind.CONSUMER,
        attributes: {
          [ATTR_MESSAGING_SYSTEM]: system,
          [ATTR_MESSAGING_OPERATION_TYPE]: "process",
          [ATTR_MESSAGING_OPERATION_NAME]: "deliver",
          [ATTR_MESSAGING_DESTINATION_NAME]: topic,
          [ATTR_CONCORD_EVENT_TYPE]: event.type,
        },
      },
      parent,
    );
    context.with(trace.setSpan(parent, span), () => fanOut(() => span.end()));
  };
}
