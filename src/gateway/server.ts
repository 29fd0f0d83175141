import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { renderGraphiQL } from "@graphql-yoga/render-graphiql";
import { getOperationAST, GraphQLError, type ExecutionArgs } from "graphql";
import { createYoga } from "graphql-yoga";
import { useServer } from "graphql-ws/use/ws";
import { WebSocketServer, type WebSocket } from "ws";
import { createContext, type Services } from "../context.js";
import { schema } from "../schema/index.js";
import { resolveAuth, type RequestAuth } from "./auth.js";
import { createErrorMasker } from "./errors.js";
import { EXAMPLE_OPERATIONS } from "./graphiql-examples.js";
import { useQueryLimits } from "./limits.js";
import { SessionRegistry } from "./sessions.js";
import { groupKey, selectsViewerDependentFields, subscribeShared, type DirectDelivery } from "./shared-fanout.js";

export const GRAPHQL_PATH = "/graphql";
/** graphql-ws's Unauthorized: its client does not retry, the user must sign in again. */
export const REVOKED_CLOSE_CODE = 4401;

export interface GatewayOptions {
  maxRequestBytes: number;
  maxQueryDepth: number;
  maxQueryCost: number;
  graphiql: boolean;
  /** Presence heartbeat: sessions are refreshed, and sockets pinged, this often. */
  heartbeatMs: number;
  /** A socket with more unsent bytes than this is closed as too slow (code 4008). */
  maxSocketBufferedBytes: number;
}

export interface Gateway {
  server: Server;
  /** This instance's presence sessions, one per authenticated WebSocket. */
  sessions: SessionRegistry;
  /**
   * Closes, with code 4401, the sockets whose session was opened with a revoked token (`tokenHash`,
   * or every token of `userId` when "*"): their user signs in again. Replies already being
   * written go out first.
   */
  closeRevoked(userId: bigint, tokenHash: string): void;
  /** Starts listening; resolves with the bound port (useful with port 0). */
  listen(port: number, host?: string): Promise<number>;
  /** Stops accepting, closes every WebSocket (code 1001) and waits for HTTP requests to end. */
  close(): Promise<void>;
}

/** What a subscription operation carries from onSubscribe to subscribe (as its rootValue). */
interface SubscriptionRoot {
  groupKey: string;
  direct: DirectDelivery;
}

/**
 * What yoga's context factory receives: HTTP requests carry `request`, WebSocket operations
 * `wsAuth` (and the upgrade request as `req`: under the name `request`, yoga's HTTP rules would
 * apply to the socket's GET upgrade and refuse every mutation).
 */
interface InitialContext {
  request?: Request;
  wsAuth?: RequestAuth;
  /** True for subscriptions: their context lives as long as the stream. */
  longLived?: boolean;
}

function tooLarge(res: ServerResponse, max: number) {
  res.writeHead(413, { "content-type": "application/json" });
  res.end(JSON.stringify({ errors: [{ message: `Request body too large: at most ${max} bytes.`, extensions: { code: "BAD_USER_INPUT" } }] }));
}

/**
 * The transport: GraphQL over HTTP (yoga, with GraphiQL at GET /graphql, assets served locally)
 * and over WebSocket (graphql-ws, same port and path). Both run the same envelop pipeline, so
 * query limits, error masking and context building are identical on either transport.
 */
export function createGateway(services: Services, options: GatewayOptions): Gateway {
  const maskError = createErrorMasker(services.logger);
  // graphql-ws sends what onSubscribe returns as is: give those errors codes as yoga does.
  const operationErrors = (errors: readonly unknown[]) => errors.map((error) => maskError(error) as GraphQLError);
  const yoga = createYoga<InitialContext>({
    schema,
    graphqlEndpoint: GRAPHQL_PATH,
    logging: false,
    landingPage: false,
    graphiql: options.graphiql ? { subscriptionsProtocol: "WS", title: "Concord GraphiQL", defaultQuery: EXAMPLE_OPERATIONS } : false,
    renderGraphiQL,
    maskedErrors: { maskError },
    plugins: useQueryLimits({ maxDepth: options.maxQueryDepth, maxCost: options.maxQueryCost }),
    context: async (initial) => {
      const auth = initial.wsAuth ?? (await resolveAuth(services, initial.request?.headers.get("authorization")));
      return createContext(services, auth, { longLived: initial.longLived === true });
    },
  });

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const length = Number(req.headers["content-length"] ?? 0);
    if (length > options.maxRequestBytes) return tooLarge(res, options.maxRequestBytes);
    if (req.method === "POST" && req.headers["content-length"] === undefined) {
      // A chunked body's size is only known after reading it all: ask for a declared length.
      res.writeHead(411, { "content-type": "application/json" });
      res.end(JSON.stringify({ errors: [{ message: "Send a Content-Length header.", extensions: { code: "BAD_USER_INPUT" } }] }));
      return;
    }
    void yoga.requestListener(req, res);
  });

  const wss = new WebSocketServer({ server, path: GRAPHQL_PATH, maxPayload: options.maxRequestBytes });
  const sessions = new SessionRegistry({
    presence: services.presence,
    announcer: services.announcer,
    accounts: services.accounts,
    logger: services.logger,
    now: services.now,
    heartbeatMs: options.heartbeatMs,
  });
  sessions.start();
  wss.on("connection", (socket) => {
    socket.once("close", () => void sessions.close(socket));
  });
  const ws = useServer<Record<string, unknown> | undefined, { credential?: unknown }>(
    {
      // The credential is kept per connection but checked per operation (one indexed lookup),
      // so a token revoked by logout cannot start new subscriptions on a socket it opened.
      onConnect: async (ctx) => {
        ctx.extra.credential = ctx.connectionParams?.authorization ?? ctx.connectionParams?.Authorization;
        // A socket that authenticates is a presence session: its user is online while it lives.
        // A bad token is not refused here; each operation reports it (UNAUTHENTICATED).
        if (ctx.extra.credential !== undefined) {
          const auth = await resolveAuth(services, ctx.extra.credential);
          if (auth.viewer && ctx.extra.socket.readyState === ctx.extra.socket.OPEN) void sessions.open(ctx.extra.socket, auth.viewer, auth.tokenHash);
        }
        return true;
      },
      onSubscribe: async (ctx, id, payload) => {
        // GraphiQL sends its Headers tab in each operation's extensions rather than in
        // connection_init; such a header wins for that operation.
        const headers = (payload.extensions?.headers ?? {}) as Record<string, unknown>;
        const header = headers.authorization ?? headers.Authorization;
        const wsAuth = await resolveAuth(services, header ?? ctx.extra.credential);
        // GraphiQL authenticates per operation: its socket becomes a session at the first one.
        if (wsAuth.viewer && ctx.extra.socket.readyState === ctx.extra.socket.OPEN) void sessions.open(ctx.extra.socket, wsAuth.viewer, wsAuth.tokenHash);
        const enveloped = yoga.getEnveloped({ ...ctx, req: ctx.extra.request, socket: ctx.extra.socket, params: payload, wsAuth });
        let document;
        try {
          document = enveloped.parse(payload.query);
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
        if (getOperationAST(document, payload.operationName)?.operation !== "subscription") {
          return {
            schema: enveloped.schema,
            document,
            operationName: payload.operationName,
            variableValues: payload.variables,
            contextValue: await enveloped.contextFactory({ longLived: false }),
            rootValue: { execute: enveloped.execute },
          } satisfies ExecutionArgs;
        }
        // A subscription lives for hours and the server holds one per socket and topic, so it
        // keeps only what it needs: a plain context (no per-request yoga context) and, to share
        // one execution and serialization with identical subscriptions, its group and socket.
        const subscription: SubscriptionRoot = {
          groupKey: groupKey({
            query: payload.query,
            operationName: payload.operationName,
            variables: payload.variables,
            viewerId: wsAuth.viewer?.id ?? null,
            viewerDependent: selectsViewerDependentFields(enveloped.schema, document),
          }),
          direct: { socket: ctx.extra.socket, id, maxBufferedBytes: options.maxSocketBufferedBytes },
        };
        return {
          schema: enveloped.schema,
          document,
          operationName: payload.operationName,
          variableValues: payload.variables,
          contextValue: createContext(services, wsAuth, { longLived: true }),
          rootValue: subscription,
        } satisfies ExecutionArgs;
      },
      execute: (args) => (args.rootValue as { execute: typeof import("graphql").execute }).execute(args),
      subscribe: (args) => {
        const { groupKey: key, direct } = args.rootValue as SubscriptionRoot;
        return subscribeShared({ ...args, rootValue: undefined }, key, maskError, direct);
      },
    },
    wss,
    // graphql-ws pings every socket each heartbeat and drops one that did not answer the
    // previous ping: a vanished client's session (and presence) ends within 2 heartbeats.
    options.heartbeatMs,
  );

  return {
    server,
    sessions,
    closeRevoked(userId, tokenHash) {
      const sockets = sessions.ownersOfRevoked(userId, tokenHash) as WebSocket[];
      if (sockets.length === 0) return;
      // A logout sent over this very socket is answered first (its reply is a few microtasks away).
      setTimeout(() => {
        for (const socket of sockets) socket.close(REVOKED_CLOSE_CODE, "Session revoked: sign in again");
      }, 50).unref();
    },
    listen: (port, host) =>
      new Promise((resolve, reject) => {
        server.once("error", reject);
        server.listen(port, host, () => {
          server.off("error", reject);
          resolve((server.address() as AddressInfo).port);
        });
      }),
    async close() {
      for (const client of wss.clients) client.close(1001, "Server shutting down");
      await sessions.stop();
      await ws.dispose();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
    },
  };
}
