import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface OtlpReceiver {
  /** http://127.0.0.1:<port>: what OTEL_EXPORTER_OTLP_ENDPOINT is set to. */
  endpoint: string;
  /** Every span received so far, in arrival order. */
  spans: ReceivedSpan[];
  /** POSTs received (any path). */
  requests: number;
  close(): Promise<void>;
}

type OtlpValue = { stringValue?: string; intValue?: string | number; boolValue?: boolean; doubleValue?: number };

/** OTLP JSON says ids are hex; base64 (protobuf JSON's bytes encoding) is accepted too. */
function hexId(id: string | undefined): string {
  if (!id) return "";
  return /^[0-9a-f]+$/.test(id) ? id : Buffer.from(id, "base64").toString("hex");
}

function attributesOf(list: { key: string; value: OtlpValue }[] | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const { key, value } of list ?? []) out[key] = value.stringValue ?? value.intValue ?? value.boolValue ?? value.doubleValue;
  return out;
}

/**
 * One span of an OTLP/HTTP JSON export, with its resource's attributes; `kind` is OTLP's
 * (1 internal, 2 server, 3 client, 4 producer, 5 consumer).
 */
function spanOf(span: { traceId?: string; spanId?: string; parentSpanId?: string; name: string; kind: number; attributes?: { key: string; value: OtlpValue }[] }, resource: Record<string, unknown>) {
  const { name, kind } = span;
  return { traceId: hexId(span.traceId), spanId: hexId(span.spanId), parentSpanId: hexId(span.parentSpanId), name, kind, attributes: attributesOf(span.attributes), resource };
}

export type ReceivedSpan = ReturnType<typeof spanOf>;

/**
 * An OpenTelemetry collector stand-in: a plain HTTP server on a free loopback port that accepts
 * OTLP/HTTP JSON exports (POST /v1/traces, OTEL_EXPORTER_OTLP_PROTOCOL=http/json) and keeps
 * their spans for a test to look at.
 */
export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = [];
  const receiver = { spans, requests: 0 } as OtlpReceiver;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      receiver.requests++;
      if (req.method !== "POST" || req.url !== "/v1/traces" || !req.headers["content-type"]?.includes("json")) {
        res.writeHead(415).end();
        return;
      }
      const body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
      for (const resourceSpans of body.resourceSpans ?? []) {
        const resource = attributesOf(resourceSpans.resource?.attributes);
        for (const scope of resourceSpans.scopeSpans ?? []) {
          for (const span of scope.spans ?? []) spans.push(spanOf(span, resource));
        }
      }
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  receiver.endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  receiver.close = () => new Promise((resolve) => server.close(() => resolve()));
  return receiver;
}
