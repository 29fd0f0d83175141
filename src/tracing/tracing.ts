import { randomUUID } from "node:crypto";
import { trace, type Tracer } from "@opentelemetry/api";
import { OTLPTraceExporter as JsonExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { OTLPTraceExporter as ProtobufExporter } from "@opentelemetry/exporter-trace-otlp-proto";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { BatchSpanProcessor, NodeTracerProvider } from "@opentelemetry/sdk-trace-node";
import type { TracingConfig } from "../config.js";
import { ATTR_SERVICE_INSTANCE_ID, ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from "./attributes.js";

/** The instrumentation scope of every Concord span. */
const TRACER_NAME = "concord";
const VERSION = "0.1.0";

/** What tracing gives the composition root: the tracer for its decorators, and a flush for shutdown. */
export interface Tracing {
  tracer: Tracer;
  /** This process's `service.instance.id` (a new UUID per process). */
  serviceInstanceId: string;
  /** Exports the spans still batched and stops; nothing is traced afterwards. */
  shutdown(): Promise<void>;
}

/**
 * Registers this process's tracer provider: spans batched (OTEL_BSP_* tune the batch) and sent
 * over OTLP/HTTP to `config.tracesUrl` (the exporter reads OTEL_EXPORTER_OTLP_HEADERS, _TIMEOUT
 * and _COMPRESSION itself), W3C trace context as the propagator, AsyncLocalStorage as the context
 * manager. Called only when tracing is configured: otherwise the OpenTelemetry API stays the
 * no-op it is by default.
 */
export function startTracing(config: TracingConfig): Tracing {
  const serviceInstanceId = randomUUID();
  const exporter = config.protocol === "http/json" ? new JsonExporter({ url: config.tracesUrl }) : new ProtobufExporter({ url: config.tracesUrl });
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({
      [ATTR_SERVICE_NAME]: config.serviceName,
      [ATTR_SERVICE_VERSION]: VERSION,
      [ATTR_SERVICE_INSTANCE_ID]: serviceInstanceId,
    }),
    spanProcessors: [new BatchSpanProcessor(exporter)],
  });
  provider.register();
  return {
    tracer: trace.getTracer(TRACER_NAME, VERSION),
    serviceInstanceId,
    async shutdown() {
      await provider.shutdown();
      trace.disable();
    },
  };
}
