import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { _createLRUCache, createYoga } from "graphql-yoga";
import type { DocumentNode } from "graphql";
import { createContext, type Services } from "../context.js";
import { clientHintOf } from "../auth/client-hint.js";
import { clientAddress } from "../limits/client-address.js";
import { schema } from "../schema/index.js";
import { resolveAuth } from "./auth.js";
import { createErrorMasker } from "./errors.js";
import { createCorsPolicy } from "./cors.js";
import { EXAMPLE_OPERATIONS } from "./graphiql-examples.js";
import { createGraphiQLHandler } from "./graphiql-page.js";
import { createWebClientHandler } from "./web-client.js";
import { bodyRefusal, httpServerOptions, limitConnections, type HttpLimits } from "./http-limits.js";
import { useQueryLimits } from "./limits.js";
import { useInputSafety } from "./input-safety-plugin.js";
import type { PersistedQueries } from "./persisted-queries.js";
import { usePersistedQueries } from "./persisted-queries-plugin.js";
import { useRateLimits } from "./rate-limit-plugin.js";
import type { Revocation } from "../resolvers/session-revocation.js";
import { useHttpStreams } from "./http-streams.js";
import { useCompiledExecution } from "./compiled-execution.js";
import { useValidationCache } from "./validation-cache.js";
import { assertShortcutRunsEveryHook, createJsonPostHandler } from "./json-post.js";
import { useIncrementalDelivery } from "./incremental-delivery.js";
import type { SessionRegistry } from "./sessions.js";
import { attachWebSocketGateway, type InitialContext, type WebSocketLimits } from "./websocket-gateway.js";
import { SocketGuard } from "./socket-guard.js";
import { closeSpread } from "./close-spread.js";
import { createMetricsHandler } from "../metrics/metrics-endpoint.js";
import { useOperationMetrics } from "../metrics/metrics-plugin.js";
import { createHealthHandler } from "./health-endpoints.js";
import type { Readiness } from "./readiness.js";
import { createRestHandler } from "../rest/rest-handler.js";
import { REST_ROUTES } from "../rest/routes.js";
import { runWithRequestId } from "../log-context.js";
import { REQUEST_ID_HEADER, requestIdOf } from "./request-id.js";
import type { Tracer } from "@opentelemetry/api";
import { useOperationTracing } from "../tracing/operation-tracing.js";

export const GRAPHQL_PATH = "/graphql";
/** Discord's name for the live socket: the same graphql-ws endpoint as GRAPHQL_PATH. */
export const GATEWAY_PATH = "/gateway";

export interface GatewayOptions {
  maxRequestBytes: number;
  maxQueryDepth: number;
  maxQueryCost: number;
  graphiql: boolean;
  /** Directory of the built web client to serve at /app (gateway/web-client.ts); undefined serves none. */
  webClientDir: string | undefined;
  /** Cross-origin access (undefined: any origin, never with credentials), timeouts and the connection cap. */
  http: HttpLimits & { corsOrigins: readonly string[] | undefined };
  /** Presence heartbeat: sessions are refreshed, and sockets pinged, this often. */
  heartbeatMs: number;
  /** A socket with more unsent bytes than this is closed as too slow (code 4008). */
  maxSocketBufferedBytes: number;
  /** Proxies in front of this instance that append to X-Forwarded-For (0: trust the TCP peer). */
  trustProxyHops: number;
  /** Per-socket and per-client WebSocket caps (see socket-guard.ts), and the largest message a socket may send. */
  sockets: WebSocketLimits;
  /** Automatic persisted queries and trusted documents, on HTTP and WebSocket alike. */
  persisted: PersistedQueries;
  /** `GET /metrics` answers scrapers sending this bearer token (METRICS_TOKEN); undefined serves no metrics. */
  metricsToken: string | undefined;
  /** Where messages are stored ("postgres" or "cassandra"): the label of sendMessage's timing. */
  messageStoreKind: string;
  /** Answers /readyz; while it drains, new WebSockets and SSE streams are refused with 503. */
  readiness: Readiness;
  /** Tracing on: a span per GraphQL operation (HTTP and WebSocket); undefined adds nothing. */
  tracer?: Tracer;
}

export interface Gateway {
  server: Server;
  /** This instance's presence sessions, one per authenticated WebSocket. */
  sessions: SessionRegistry;
  /**
   * Closes, with code 4401, the sockets authenticated with a token the revocation covers (one
   * token, or every token of the user but a kept one; see resolvers/session-revocation.ts):
   * their user signs in again. Replies already being written go out first.
   */
  closeRevoked(revocation: Revocation): void;
  /** Starts listening; resolves with the bound port (useful with port 0). */
  listen(port: number, host?: string): Promise<number>;
  /**
   * Closes the open WebSockets (code 1012: reconnect elsewhere) and SSE streams spread over
   * `windowMs` (call it once readiness is draining, so none open meanwhile). Resolves when all are closed.
   */
  drain(windowMs: number): Promise<void>;
  /** Stops accepting, closes every WebSocket (code 1001) and waits for HTTP requests to end. */
  close(): Promise<void>;
}







/** True for a request asking for an SSE stream (a GraphQL subscription over HTTP). */
function wantsEventStream(req: IncomingMessage): boolean {
  return req.headers.accept?.includes("text/event-stream") === true;
}

/** Discord's X-Audit-Log-Reason header, URL-decoded (a malformed encoding is taken as written). */
function auditLogReasonOf(header: string | null | undefined): string | null {
  if (!header) return null;
  try {
    return decodeURIComponent(header);
  } catch {
    return header;
  }
}

/**
 * The transport: GraphQL over HTTP (yoga, with GraphiQL at GET /graphql, assets served locally)
 * and over WebSocket (graphql-ws, same port and path). Both run the same envelop pipeline, so
 * query limits, error masking and context building are identical on either transport.
 */
export function createGateway(services: Services, options: GatewayOptions): Gateway {
  const maskError = createErrorMasker(services.logger);
  const guard = new SocketGuard(options.sockets);
  // Persisted queries first (they supply the document); then the cheapest refusals first: the
  // document's shape and strings, its cost, then the client's budget. Execution is compiled last.
  const plugins = [
    useValidationCache(),
    ...(options.tracer ? [useOperationTracing(options.tracer)] : []),
    useOperationMetrics(options.messageStoreKind),
    usePersistedQueries(options.persisted),
    useIncrementalDelivery(),
    useInputSafety(),
    ...useQueryLimits({ maxDepth: options.maxQueryDepth, maxCost: options.maxQueryCost }),
    useRateLimits(),
    useHttpStreams(services, guard),
    useCompiledExecution(services.logger),
  ];
  // POST /graphql with a JSON body skips yoga's request and response hooks (json-post.ts).
  assertShortcutRunsEveryHook(plugins);
  // yoga's parsed documents by query text (the cache it would make itself), shared with json-post.ts.
  const documents = _createLRUCache<DocumentNode>();
  const yoga = createYoga<InitialContext>({
    schema,
    graphqlEndpoint: GRAPHQL_PATH,
    logging: false,
    landingPage: false,
    // GraphiQL and CORS are answered before yoga (graphiql-page.ts, cors.ts).
    graphiql: false,
    cors: false,
    maskedErrors: { maskError },
    // The listener below refuses bodies over maxRequestBytes by their Content-Length and POSTs
    // without one, so yoga's own body limit could only repeat that; it would pipe every body
    // through a web TransformStream and a second Request (about 5 % of a request's CPU).
    maxRequestBodySize: false,
    // No file uploads in this schema: a multipart/form-data body is refused like any other
    // unsupported content type, and no request pays for the multipart parser's match.
    multipart: false,
    // Parsed documents stay cached by yoga; validation results by validation-cache.ts instead.
    parserAndValidationCache: { documentCache: documents, validationCache: false },
    plugins,
    context: async (initial) => {
      const auth = initial.wsAuth ?? (await resolveAuth(services, initial.request?.headers.get("authorization")));
      const client = {
        address: initial.wsClient?.address ?? clientAddress(initial.req, options.trustProxyHops),
        transport: initial.wsAuth ? ("ws" as const) : ("http" as const),
        // Read only by sign-in and sign-up (a session's device name): worked out when asked,
        // not on every request (its sanitizing costs a few µs).
        get hint() {
          return clientHintOf(initial.wsClient ? { "user-agent": initial.wsClient.userAgent } : initial.req?.headers, initial.connectionParams);
        },
      };
      return createContext(services, auth, { longLived: initial.longLived === true, client, auditLogReason: auditLogReasonOf(initial.request?.headers.get("x-audit-log-reason")) });
    },
  });

  const cors = createCorsPolicy(options.http.corsOrigins);
  const graphiql = options.graphiql
    ? createGraphiQLHandler(GRAPHQL_PATH, { subscriptionsProtocol: "WS", title: "Concord GraphiQL", defaultQuery: EXAMPLE_OPERATIONS }, (error) =>
        services.logger.error("rendering GraphiQL failed", { error }),
      )
    : () => false;
  const webClient =
    options.webClientDir !== undefined ? createWebClientHandler(options.webClientDir, (error) => services.logger.error("serving the web client failed", { error })) : () => false;
  const health = createHealthHandler(options.readiness);
  const metricsEndpoint = createMetricsHandler(options.metricsToken);
  // Open SSE streams, so a drain can end them (their clients reconnect, to another instance).
  const streams = new Set<ServerResponse>();
  const jsonPost = createJsonPostHandler({ yoga, path: GRAPHQL_PATH, persisted: options.persisted, documents, logger: services.logger });
  const rest = createRestHandler({ yoga, schema, routes: REST_ROUTES, graphqlPath: GRAPHQL_PATH, maxRequestBytes: options.maxRequestBytes, logger: services.logger });
  // Every response says its request id. With tracing on, every log line written while serving it
  // carries it too: that needs AsyncLocalStorage, which on Node 20 slows every promise in the
  // process (about 0.4 ms of CPU per WebSocket connect + subscribe, bench S3), a cost tracing's
  // own context propagation pays anyway.
  const withRequestIdInLogs = options.tracer !== undefined;
  const server = createServer(httpServerOptions(options.http), (req: IncomingMessage, res: ServerResponse) => {
    const requestId = requestIdOf(req.headers[REQUEST_ID_HEADER]);
    res.setHeader(REQUEST_ID_HEADER, requestId);
    if (withRequestIdInLogs) runWithRequestId(requestId, () => serve(req, res));
    else serve(req, res);
  });
  const serve = (req: IncomingMessage, res: ServerResponse): void => {
    if (health(req, res) || metricsEndpoint(req, res) || cors.handle(req, res) || graphiql(req, res) || webClient(req, res) || rest(req, res)) return;
    if (wantsEventStream(req)) {
      if (options.readiness.draining) {
        res.writeHead(503, { "content-type": "application/json", "retry-after": "1" });
        res.end(JSON.stringify({ errors: [{ message: "Shutting down: connect to another instance.", extensions: { code: "UNAVAILABLE" } }] }));
        return;
      }
      streams.add(res);
      res.once("close", () => streams.delete(res));
    }
    const refusal = bodyRefusal(req, options.maxRequestBytes);
    if (refusal) {
      // The codes GraphQL clients have always had here (REST answers PAYLOAD_TOO_LARGE, LENGTH_REQUIRED).
      res.writeHead(refusal.status, { "content-type": "application/json" });
      res.end(JSON.stringify({ errors: [{ message: refusal.message, extensions: { code: "BAD_USER_INPUT" } }] }));
      return;
    }
    if (req.method === "POST" && req.headers["content-type"]?.trimStart().toLowerCase().startsWith("multipart/")) {
      // yoga's multipart parser is off (see multipart above); say why rather than a bare 415.
      res.writeHead(415, { "content-type": "application/json" });
      res.end(JSON.stringify({ errors: [{ message: "File uploads (multipart requests) are not supported: send the operation as application/json.", extensions: { code: "BAD_USER_INPUT" } }] }));
      return;
    }
    if (!jsonPost(req, res)) void yoga.requestListener(req, res);
  };
  limitConnections(server, options.http, (refused) => services.logger.warn("connections refused: MAX_CONNECTIONS reached", { refused, maxConnections: options.http.maxConnections }));


  const sockets = attachWebSocketGateway({
    server,
    yoga,
    services,
    guard,
    cors,
    maskError,
    persisted: options.persisted,
    readiness: options.readiness,
    tracer: options.tracer,
    options: {
      paths: [GRAPHQL_PATH, GATEWAY_PATH],
      maxQueryCost: options.maxQueryCost,
      heartbeatMs: options.heartbeatMs,
      maxSocketBufferedBytes: options.maxSocketBufferedBytes,
      trustProxyHops: options.trustProxyHops,
      sockets: options.sockets,
    },
  });

  return {
    server,
    sessions: sockets.sessions,
    closeRevoked: (revocation) => sockets.closeRevoked(revocation),
    listen: (port, host) =>
      new Promise((resolve, reject) => {
        server.once("error", reject);
        // A deeper accept queue than Node's 511 (the kernel caps it at net.core.somaxconn): a
        // reconnect storm's handshakes wait in it instead of being reset.
        server.listen({ port, host, backlog: 4096 }, () => {
          server.off("error", reject);
          resolve((server.address() as AddressInfo).port);
        });
      }),
    async drain(windowMs) {
      // Ending an SSE response mid-stream is a dropped connection to its client, which reconnects.
      await Promise.all([sockets.drain(windowMs), closeSpread([...streams], windowMs, (res) => res.destroy())]);
    },
    async close() {
      await sockets.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
    },
  };
}
