import type { IncomingMessage, Server } from "node:http";
import { getOperationAST, GraphQLError, type ExecutionArgs, type ExecutionResult } from "graphql";
import type { YogaServerInstance } from "graphql-yoga";
import { WebSocketServer, type WebSocket } from "ws";
import { createContext, type Services } from "../context.js";
import { limitExceeded } from "../errors.js";
import { clientAddress } from "../limits/client-address.js";
import type { Revocation } from "../resolvers/session-revocation.js";
import { resolveAuth, type RequestAuth } from "./auth.js";
import { CLOSE_CODES } from "./close-codes.js";
import { serveGraphQLWs } from "./graphql-ws-server.js";
import type { CorsPolicy } from "./cors.js";
import { unsafeInputError } from "./input-safety-plugin.js";
import type { PersistedQueries, ResolvedOperation } from "./persisted-queries.js";
import { checkOperationCost } from "./query-cost-limit.js";
import { streamOf } from "../metrics/live-counts.js";
import { metrics } from "../metrics/metrics.js";
import { closeSpread } from "./close-spread.js";
import type { Readiness } from "./readiness.js";
import { SessionRegistry } from "./sessions.js";
import { groupKey, selectsViewerDependentFields, subscribeShared, type DirectDelivery } from "./shared-fanout.js";
import type { GuardedSocket, SocketGuard, SocketGuardOptions } from "./socket-guard.js";
import type { Tracer } from "@opentelemetry/api";
import { traceSubscriptionStart } from "../tracing/operation-tracing.js";

/** The answer to operations still waiting when their socket closed (nobody will read it). */
const SOCKET_CLOSED = new GraphQLError("The connection closed.", { extensions: { code: "CLOSED" } });

/** A guard's refusal as an operation result (anything else is rethrown). */
function refusal(error: unknown): ExecutionResult {
  if (error instanceof GraphQLError) return { errors: [error] };
  throw error;
}

/**
 * What yoga's context factory receives: HTTP requests carry `request`, WebSocket operations
 * `wsAuth` and `wsClient` (not the upgrade request: under the name `request`, yoga's HTTP rules
 * would apply to the socket's GET upgrade and refuse every mutation; and a socket keeps nothing of it).
 */
export interface InitialContext {
  request?: Request;
  /** The Node HTTP request (HTTP requests only). */
  req?: IncomingMessage;
  /** A WebSocket's client, worked out from its upgrade request when it opened (the request itself is not kept). */
  wsClient?: { address: string; userAgent: string | undefined };
  wsAuth?: RequestAuth;
  /** A WebSocket's connection_init payload (its `client` names the app, for session lists). */
  connectionParams?: Readonly<Record<string, unknown>>;
  /** True for subscriptions: their context lives as long as the stream. */
  longLived?: boolean;
  /** Set by the REST routes (src/rest), never from the network: the operation is one of the server's own documents. */
  restRoute?: boolean;
}

/** Per-socket and per-client caps (see socket-guard.ts), the largest message, and the handshake's time limit. */
export type WebSocketLimits = SocketGuardOptions & {
  maxMessageBytes: number;
  /**
   * How long a socket may wait for its connection_init to be handled (graphql-ws closes it with
   * 4408 after). graphql-ws's own 3 s is short for a reconnect storm: an instance busy with
   * thousands of handshakes answers late, and each 4408 costs the client a new handshake.
   */
  initTimeoutMs: number;
};

export interface WebSocketGatewayOptions {
  /** Where upgrades are accepted (GraphQL's path, and Discord's /gateway): the same socket on each. */
  paths: readonly string[];
  maxQueryCost: number;
  /** Presence heartbeat: sessions are refreshed, and sockets pinged, this often. */
  heartbeatMs: number;
  /** A socket with more unsent bytes than this is closed as too slow (code 4008). */
  maxSocketBufferedBytes: number;
  trustProxyHops: number;
  sockets: WebSocketLimits;
}

export interface WebSocketGateway {
  /** This instance's presence sessions, one per authenticated WebSocket. */
  sessions: SessionRegistry;
  /** Closes, with code 4401, the sockets authenticated with a token the revocation covers. */
  closeRevoked(revocation: Revocation): void;
  /**
   * Closes every open socket with 1012 (reconnect elsewhere), each at a random moment within
   * `windowMs` so their clients do not all reconnect at once; resolves when the last is closed.
   */
  drain(windowMs: number): Promise<void>;
  /** Closes every socket (1001) and stops the sessions' timers. */
  close(): Promise<void>;
}

/**
 * GraphQL over WebSocket (graphql-ws) on the HTTP server's path: upgrades refused before the
 * handshake for disallowed origins and addresses over their cap, each socket guarded (see
 * socket-guard.ts), operations run through yoga's envelop pipeline (queries and mutations) or
 * the shared fan-out (subscriptions, with yoga's checks made here since they skip its subscribe).
 */
export function attachWebSocketGateway(deps: {
  server: Server;
  yoga: YogaServerInstance<InitialContext, {}>;
  services: Services;
  guard: SocketGuard;
  cors: CorsPolicy;
  maskError: (error: unknown) => Error;
  persisted: PersistedQueries;
  /** While it drains, upgrades are refused (503). */
  readiness: Readiness;
  /** Tracing on: a span for starting each subscription (queries and mutations get theirs from yoga's pipeline). */
  tracer?: Tracer;
  options: WebSocketGatewayOptions;
}): WebSocketGateway {
  const { server, yoga, services, guard, cors, maskError, persisted, readiness, tracer, options } = deps;
  // graphql-ws sends what onSubscribe returns as is: give those errors codes as yoga does, and
  // drop the HTTP status some carry for yoga (a socket has none).
  const operationErrors = (errors: readonly unknown[]) =>
    errors.map((error) => {
      const masked = maskError(error) as GraphQLError;
      if (masked.extensions.http !== undefined) delete (masked.extensions as Record<string, unknown>).http;
      return masked;
    });
  const wss = new WebSocketServer({
    server,
    maxPayload: options.sockets.maxMessageBytes,
    // Refused before the handshake, so a client over its socket cap costs no upgrade.
    verifyClient: (info, done) => {
      if (readiness.draining) return done(false, 503, "Shutting down: connect to another instance");
      // Browsers send Origin on upgrades too: a page CORS_ORIGINS does not allow gets no socket.
      if (!cors.originAllowed(info.req.headers.origin, info.req.headers.host)) return done(false, 403, "Origin not allowed");
      if (guard.admitsAddress(clientAddress(info.req, options.trustProxyHops))) return done(true);
      done(false, 429, "Too many connections from your address");
    },
  });
  // ws matches one `path`; every listed one is the same gateway (any other path is refused, 400).
  // (The exact path, the common case, is matched without parsing a URL.)
  wss.shouldHandle = (req) => (req.url !== undefined && options.paths.includes(req.url)) || options.paths.includes(new URL(req.url ?? "/", "ws://gateway.local").pathname);
  const sessions = new SessionRegistry({
    presence: services.presence,
    announcer: services.announcer,
    accounts: services.accounts,
    logger: services.logger,
    now: services.now,
    heartbeatMs: options.heartbeatMs,
  });
  sessions.start();
  /** Opens the presence session of an authenticated socket, unless its user holds too many sockets here (then it is closed). */
  const claim = (socket: WebSocket, viewer: NonNullable<RequestAuth["viewer"]>, tokenHash: string | null): boolean => {
    if (socket.readyState !== socket.OPEN) return false;
    if (!guard.authenticate(socket, viewer.id)) {
      socket.close(CLOSE_CODES.tooMany, `Too many connections for this user (at most ${options.sockets.maxSocketsPerUser})`);
      return false;
    }
    void sessions.open(socket, viewer, tokenHash);
    return true;
  };
  const protocol = serveGraphQLWs(
    wss,
    {
      opened: (connection) => {
        metrics.openWebSockets.inc();
        guard.open(connection.socket, connection.address);
      },
      closed: (connection) => {
        metrics.openWebSockets.dec();
        guard.close(connection.socket);
        void sessions.close(connection.socket);
      },
      internalError: (error) => services.logger.error("WebSocket operation failed", { error }),
      // The credential is kept per connection but checked per operation (one indexed lookup),
      // so a token revoked by logout cannot start new subscriptions on a socket it opened.
      onConnect: async (connection) => {
        const params = connection.connectionParams;
        connection.credential = params?.authorization ?? params?.Authorization;
        // A socket that authenticates is a presence session: its user is online while it lives.
        // A token that does not authenticate is refused (4401: graphql-ws clients do not retry),
        // rather than acknowledged as an anonymous socket its owner would not expect.
        if (connection.credential !== undefined && connection.credential !== null && connection.credential !== "") {
          const auth = await resolveAuth(services, connection.credential);
          if (!auth.viewer) {
            connection.close(CLOSE_CODES.unauthorized, auth.authFailure ?? "Unauthorized");
            return false;
          }
          return claim(connection.socket, auth.viewer, auth.tokenHash);
        }
        return true;
      },
      onSubscribe: async (connection, id, payload) => {
        const { socket } = connection;
        await guard.turn(socket);
        if (socket.readyState !== socket.OPEN) return [SOCKET_CLOSED];
        const overBudget = guard.countOperation(socket);
        if (overBudget) return operationErrors([overBudget]);
        // GraphiQL sends its Headers tab in each operation's extensions rather than in
        // connection_init; such a header wins for that operation.
        const headers = (payload.extensions?.headers ?? {}) as Record<string, unknown>;
        const header = headers.authorization ?? headers.Authorization;
        const wsAuth = await resolveAuth(services, header ?? connection.credential);
        // GraphiQL authenticates per operation: its socket becomes a session at the first one.
        // (A user over their socket cap has this socket closed by claim: nothing more to answer.)
        if (wsAuth.viewer && !claim(socket, wsAuth.viewer, wsAuth.tokenHash)) return operationErrors([limitExceeded("socketsPerUser", options.sockets.maxSocketsPerUser, "MAX_SOCKETS_PER_USER", "Too many connections for this user.")]);
        // A persisted query or trusted document becomes its text here, as yoga's onParams does over HTTP.
        let resolved: ResolvedOperation<typeof payload> = { params: payload };
        try {
          if (persisted.concerns(payload)) resolved = await persisted.resolve(payload);
        } catch (error) {
          return operationErrors([error]);
        }
        const params = resolved.params;
        const client = { address: connection.address, userAgent: connection.userAgent };
        const enveloped = yoga.getEnveloped({ wsClient: client, connectionParams: connection.connectionParams, params, wsAuth });
        let document;
        try {
          document = enveloped.parse(params.query);
        } catch (error) {
          // The code yoga gives parse errors over HTTP.
          if (error instanceof GraphQLError && !error.extensions.code) error.extensions.code = "GRAPHQL_PARSE_FAILED";
          return operationErrors([error]);
        }
        let errors: readonly GraphQLError[];
        try {
          // graphql-armor's rules throw rather than report: either way the client gets an error
          // message for this operation, and the socket with its other subscriptions lives on.
          errors = enveloped.validate(enveloped.schema, document);
        } catch (error) {
          return operationErrors([error]);
        }
        if (errors.length > 0) return operationErrors(errors);
        if (resolved.registration) void persisted.register(resolved.registration);
        const operation = getOperationAST(document, params.operationName);
        if (!operation) return operationErrors([new GraphQLError("Unable to identify operation", { extensions: { code: "BAD_USER_INPUT" } })]);
        const args = { schema: enveloped.schema, document, operationName: params.operationName, variableValues: params.variables } satisfies ExecutionArgs;
        if (operation.operation !== "subscription") {
          const contextValue = await enveloped.contextFactory({ longLived: false });
          // Each socket runs a bounded number of operations at once; the rest wait (or are
          // refused when too many wait), so one socket cannot occupy the store pool.
          return () =>
            guard
              .run(socket, "operation", async () => (await enveloped.execute({ ...args, contextValue })) as ExecutionResult)
              .catch((error) => refusal(error));
        }
        // Subscriptions over the socket skip yoga's subscribe, so its checks run here.
        const refused =
          unsafeInputError({ document, variableValues: params.variables }) ??
          checkOperationCost(enveloped.schema, document, params.operationName, params.variables, { maxCost: options.maxQueryCost, caps: services.settings.caps });
        if (refused) return operationErrors([refused]);
        // Counted before anything is read: a socket at its cap costs nothing more per attempt.
        const overCap = guard.reserveSubscription(socket, id, (known) => connection.operations.has(known));
        if (overCap) return operationErrors([overCap]);
        // A subscription lives for hours and the server holds one per socket and topic, so it
        // keeps only what it needs: a plain context (no per-request yoga context) and, to share
        // one execution and serialization with identical subscriptions, its group and socket.
        const key = groupKey({
          document,
          operationName: params.operationName,
          variables: params.variables,
          viewerId: wsAuth.viewer?.id ?? null,
          viewerDependent: selectsViewerDependentFields(enveloped.schema, document),
        });
        const stream = streamOf(document, params.operationName);
        const direct: DirectDelivery = { socket, id, maxBufferedBytes: options.maxSocketBufferedBytes, onEnd: uncountOnEnd(stream) };
        const contextValue = createContext(services, wsAuth, { longLived: true, client: { address: connection.address, transport: "ws" } });
        const start = () => subscribeShared({ ...args, contextValue }, key, maskError, direct);
        return () =>
          guard
            .run(socket, "subscription", tracer ? () => traceSubscriptionStart(tracer, document, params.operationName, start) : start)
            .then((result) => {
              // Counted here and uncounted by the subscription itself when it ends (no wrapper iterator per subscription).
              if (Symbol.asyncIterator in result) metrics.liveSubscriptions.inc({ stream });
              return result;
            })
            .catch((error) => refusal(error));
      },
    },
    {
      initTimeoutMs: options.sockets.initTimeoutMs,
      // Every socket is pinged each heartbeat and dropped when it did not answer the previous
      // ping: a vanished client's session (and presence) ends within 2 heartbeats.
      keepAliveMs: options.heartbeatMs,
      addressOf: (request) => clientAddress(request, options.trustProxyHops),
    },
  );
  // A client can break the WebSocket protocol on purpose (oversized or malformed frames, which ws
  // answers by closing the socket itself): those are debug lines, so nobody can flood the log.
  wss.on("connection", (socket) => socket.on("error", onSocketError));
  // The HTTP server's errors are re-emitted here; unheard, they would end the process.
  wss.on("error", (error) => services.logger.error("WebSocket server error", { error }));
  function onSocketError(this: WebSocket, error: Error & { code?: string }): void {
    if (error.code?.startsWith("WS_ERR_")) return services.logger.debug("a client broke the WebSocket protocol", { code: error.code });
    services.logger.warn("WebSocket error", { error });
    if (this.readyState === this.OPEN) this.close(CLOSE_CODES.internalError, "Internal error");
  }

  return {
    sessions,
    closeRevoked(revocation) {
      const sockets = sessions.ownersOfRevoked(revocation) as WebSocket[];
      if (sockets.length === 0) return;
      // A logout sent over this very socket is answered first (its reply is a few microtasks away).
      setTimeout(() => {
        for (const socket of sockets) socket.close(CLOSE_CODES.unauthorized, "Session revoked: sign in again");
      }, 50).unref();
    },
    drain: (windowMs) => closeSpread([...wss.clients], windowMs, (socket) => socket.close(CLOSE_CODES.serviceRestart, "Server restarting: reconnect")),
    async close() {
      guard.stop();
      for (const client of wss.clients) client.close(CLOSE_CODES.goingAway, "Server shutting down");
      await sessions.stop();
      protocol.dispose();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}

const uncounters = new Map<string, () => void>();
/**
 * The `onEnd` of a live subscription of `stream`: one shared function per stream name. A closure
 * made inside onSubscribe would share (and keep for the subscription's life) that function's
 * scope: the yoga envelope, the operation's text and variables, the credentials.
 */
function uncountOnEnd(stream: string): () => void {
  let uncount = uncounters.get(stream);
  if (!uncount) uncounters.set(stream, (uncount = () => metrics.liveSubscriptions.dec({ stream })));
  return uncount;
}
