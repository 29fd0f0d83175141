import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";

/**
 * The process's Prometheus series (README, "Metrics"). One registry per process, like the
 * process itself: hot paths increment these in memory (a counter bump, no labels per user,
 * channel or subscriber) and GET /metrics serializes them when scraped. Label values are
 * bounded: operation types, error codes, rate-limit buckets, stream names, store kinds.
 */
export const registry = new Registry();

/**
 * Counts bumped once per subscriber per event (the fan-out's hottest line) as plain numbers, and
 * added to their counters when /metrics is scraped: a prom-client inc() per socket write would
 * cost a label-hash lookup each.
 */
export const hotCounts = { delivered: 0 };

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1, 2.5, 5];

export const metrics = {
  openWebSockets: new Gauge({ name: "concord_websockets_open", help: "Open WebSocket connections on this instance.", registers: [registry] }),
  liveSubscriptions: new Gauge({
    name: "concord_subscriptions_active",
    help: "Live subscriptions on this instance (WebSocket and SSE), by stream (subscription field).",
    labelNames: ["stream"] as const,
    registers: [registry],
  }),
  eventsPublished: new Counter({ name: "concord_events_published_total", help: "Events this instance published to the event bus.", registers: [registry] }),
  eventsDelivered: new Counter({
    name: "concord_events_delivered_total",
    help: "Event messages written to WebSockets (one per subscriber).",
    registers: [registry],
    collect() {
      if (hotCounts.delivered === 0) return;
      this.inc(hotCounts.delivered);
      hotCounts.delivered = 0;
    },
  }),
  deliveryLatency: new Histogram({
    name: "concord_message_delivery_latency_seconds",
    help: "From a message's creation (its snowflake time) to the first socket write of it on this instance (sampled once per message per instance).",
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  }),
  operationDuration: new Histogram({
    name: "concord_graphql_operation_duration_seconds",
    help: "GraphQL query and mutation execution time, by operation type.",
    labelNames: ["operation_type"] as const,
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  }),
  operationErrors: new Counter({
    name: "concord_graphql_errors_total",
    help: "GraphQL errors returned, by operation type and error code.",
    labelNames: ["operation_type", "code"] as const,
    registers: [registry],
  }),
  sendMessageDuration: new Histogram({
    name: "concord_send_message_duration_seconds",
    help: "sendMessage mutation time, by message store.",
    labelNames: ["store"] as const,
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  }),
  rateLimited: new Counter({ name: "concord_rate_limit_refusals_total", help: "Calls refused with RATE_LIMITED, by bucket.", labelNames: ["bucket"] as const, registers: [registry] }),
  slowConsumerCloses: new Counter({
    name: "concord_slow_consumer_closes_total",
    help: "WebSockets closed with 4008 because their unsent data passed MAX_SOCKET_BUFFERED_BYTES.",
    registers: [registry],
  }),
};

let defaultsStarted = false;

/** Adds Node's default process series (CPU, memory, GC, handles, event-loop lag) once per process. */
export function startDefaultMetrics(): void {
  if (defaultsStarted) return;
  defaultsStarted = true;
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 20 });
}
