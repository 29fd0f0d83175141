import { GraphQLError, type ExecutionResult } from "graphql";
import { CloseCode, GRAPHQL_TRANSPORT_WS_PROTOCOL, handleProtocols, MessageType, parseMessage, type Message, type SubscribePayload } from "graphql-ws";
import type { RawData, WebSocket, WebSocketServer } from "ws";
import { canReportItself, type OutcomeListener } from "./self-reporting.js";

/**
 * The graphql-transport-ws protocol (graphql-ws's wire protocol: its message validation, close
 * codes and message types) served on `ws` sockets, built for holding many idle sockets.
 *
 * graphql-ws's own `useServer` keeps, per socket, a dozen closures, a keep-alive interval, the
 * handshake timer and the whole upgrade request, and per subscription two suspended async
 * frames, an emitter object with three closures and the original message (query text included):
 * about 6 KB for an idle socket with one subscription. Here a connection is one object; its
 * listeners are shared functions; one heartbeat and one handshake-deadline sweep serve every
 * socket; a subscription is one entry and one suspended loop.
 *
 * What the protocol does is unchanged: connection_init once (4429 on a second), acknowledged
 * when `onConnect` allows (4403 when not), 4408 when it does not come in time, subscribe only
 * after the acknowledgement (4401) with ids unique among live operations (4409), error /
 * next / complete per operation, complete from the client ends its operation, ping answered
 * with pong, anything malformed closed with 4400.
 */

/** An operation in flight: null while it is being prepared, then its stream (subscriptions). */
type Operation = AsyncIterator<ExecutionResult> | null;

/**
 * Operations by id. The first is held inline, the rest in a map made when a second one is live
 * at once: most sockets hold one or two subscriptions for hours, and a Map costs ~400 bytes.
 */
export class Operations {
  private firstId: string | null = null;
  private first: Operation = null;
  private more: Map<string, Operation> | null = null;

  /** Whether an operation with this id is in flight. */
  has(id: string): boolean {
    return this.firstId === id || (this.more?.has(id) ?? false);
  }

  /** The operation with this id (undefined: none). */
  get(id: string): Operation | undefined {
    return this.firstId === id ? this.first : this.more?.get(id);
  }

  /** Records or replaces the operation with this id. */
  set(id: string, operation: Operation): void {
    if (this.firstId === id || (this.firstId === null && !this.more?.has(id))) {
      this.firstId = id;
      this.first = operation;
    } else (this.more ??= new Map()).set(id, operation);
  }

  /** Forgets the operation with this id. */
  delete(id: string): void {
    if (this.firstId === id) {
      this.firstId = null;
      this.first = null;
    } else if (this.more?.delete(id) && this.more.size === 0) this.more = null;
  }

  /** Every operation in flight, removed from the table. */
  drain(): Operation[] {
    const all = this.firstId === null ? [] : [this.first];
    if (this.more) all.push(...this.more.values());
    this.firstId = null;
    this.first = null;
    this.more = null;
    return all;
  }
}

/** One socket's connection: what the gateway's hooks read and keep per socket. */
export class GraphQLWsConnection implements OutcomeListener {
  /** Operations in flight by id. */
  readonly operations = new Operations();
  /** The connection_init payload, when it was an object. */
  connectionParams: Readonly<Record<string, unknown>> | undefined;
  /** Set by the gateway's onConnect: the credential the socket signed in with. */
  credential: unknown;
  initReceived = false;
  acknowledged = false;
  /** A ping was sent and its pong has not come back yet. */
  awaitingPong = false;
  /** When the connection_init must have arrived by (epoch ms). */
  readonly initDeadline: number;

  constructor(
    readonly socket: WebSocket,
    /** The client's address, worked out from the upgrade request (which is not kept). */
    readonly address: string,
    /** The upgrade request's User-Agent (the session list's fallback client name). */
    readonly userAgent: string | undefined,
    initTimeoutMs: number,
  ) {
    this.initDeadline = Date.now() + initTimeoutMs;
  }

  /** A self-reporting stream of operation `id` ended: its last result (if any), then complete. */
  ended(id: string, source: object, outcome: IteratorResult<ExecutionResult>): void {
    if (this.operations.get(id) !== source) return;
    this.operations.delete(id);
    if (!outcome.done) this.send(nextMessage(id, outcome.value));
    this.send(completeMessage(id));
  }

  /** Writes one protocol message if the socket is still open (ws keeps writes in order). */
  send(message: string): void {
    if (this.socket.readyState === this.socket.OPEN) this.socket.send(message);
  }

  /** Closes the socket with a code and a reason (the reason is cut to the protocol's 123 bytes). */
  close(code: number, reason: string): void {
    if (this.socket.readyState === this.socket.OPEN || this.socket.readyState === this.socket.CONNECTING) this.socket.close(code, limitReason(reason));
  }
}

/** What starting one operation gives: errors to send, or the operation's result or stream. */
export type Prepared = readonly GraphQLError[] | (() => Promise<ExecutionResult | AsyncIterable<ExecutionResult>>);

/** The gateway's part: authentication, preparing operations, and the socket's lifecycle. */
export interface GraphQLWsHooks {
  /** A new socket (before its connection_init). */
  opened(connection: GraphQLWsConnection): void;
  /** The connection_init arrived: true acknowledges it; false closes the socket (4403) unless the hook closed it already. */
  onConnect(connection: GraphQLWsConnection): Promise<boolean>;
  /** A subscribe message: errors for the client, or how to run the operation. */
  onSubscribe(connection: GraphQLWsConnection, id: string, payload: SubscribePayload): Promise<Prepared>;
  /** The socket closed (after its operations were ended). */
  closed(connection: GraphQLWsConnection): void;
  /** An error while handling a message that nothing else answered (the socket is closed with 4500). */
  internalError(error: unknown): void;
}

export interface GraphQLWsServerOptions {
  /** How long a socket may wait before its connection_init arrives (4408 after). */
  initTimeoutMs: number;
  /** Every socket is pinged this often; one that did not answer the previous ping is terminated. */
  keepAliveMs: number;
  /** The client address of an upgrade request. */
  addressOf(request: import("node:http").IncomingMessage): string;
}

/** Protocol heartbeat slices: each socket is pinged once per keep-alive, in one of this many turns, so pings are spread out. */
const HEARTBEAT_SLICES = 8;

/** What serves the protocol on a WebSocketServer. */
export interface GraphQLWsServer {
  /** Stops the timers (sockets are closed by the caller). */
  dispose(): void;
}

/**
 * Serves graphql-transport-ws on every socket the WebSocketServer accepts (it selects the
 * subprotocol; a socket without it is closed with 4406).
 */
export function serveGraphQLWs(wss: WebSocketServer, hooks: GraphQLWsHooks, options: GraphQLWsServerOptions): GraphQLWsServer {
  wss.options.handleProtocols = handleProtocols;
  const bySocket = new WeakMap<WebSocket, GraphQLWsConnection>();
  const slices = Array.from({ length: HEARTBEAT_SLICES }, () => new Set<GraphQLWsConnection>());
  const awaitingInit = new Set<GraphQLWsConnection>();
  let nextSlice = 0;
  let sequence = 0;

  // Listeners are shared functions (`this` is the socket), not closures per socket.
  function onMessage(this: WebSocket, data: RawData): void {
    const connection = bySocket.get(this);
    if (connection) receive(connection, String(data));
  }
  function onPong(this: WebSocket): void {
    const connection = bySocket.get(this);
    if (connection) connection.awaitingPong = false;
  }
  function onClose(this: WebSocket): void {
    const connection = bySocket.get(this);
    if (!connection) return;
    bySocket.delete(this);
    awaitingInit.delete(connection);
    for (const slice of slices) if (slice.delete(connection)) break;
    for (const iterator of connection.operations.drain()) void iterator?.return?.();
    hooks.closed(connection);
  }

  wss.on("connection", (socket, request) => {
    const connection = new GraphQLWsConnection(socket, options.addressOf(request), request.headers["user-agent"], options.initTimeoutMs);
    bySocket.set(socket, connection);
    socket.on("message", onMessage);
    socket.on("pong", onPong);
    socket.once("close", onClose);
    hooks.opened(connection);
    if (socket.protocol !== GRAPHQL_TRANSPORT_WS_PROTOCOL) {
      connection.close(CloseCode.SubprotocolNotAcceptable, "Subprotocol not acceptable");
      return;
    }
    awaitingInit.add(connection);
    slices[sequence++ % HEARTBEAT_SLICES]!.add(connection);
  });

  function receive(connection: GraphQLWsConnection, data: string): void {
    let message: Message;
    try {
      message = parseMessage(data);
    } catch {
      return connection.close(CloseCode.BadRequest, "Invalid message received");
    }
    switch (message.type) {
      case MessageType.ConnectionInit:
        if (connection.initReceived) return connection.close(CloseCode.TooManyInitialisationRequests, "Too many initialisation requests");
        connection.initReceived = true;
        awaitingInit.delete(connection);
        if (isObject(message.payload)) connection.connectionParams = message.payload;
        return void acknowledge(connection);
      case MessageType.Ping:
        return connection.send(JSON.stringify(message.payload ? { type: MessageType.Pong, payload: message.payload } : { type: MessageType.Pong }));
      case MessageType.Pong:
        return;
      case MessageType.Subscribe:
        if (!connection.acknowledged) return connection.close(CloseCode.Unauthorized, "Unauthorized");
        if (connection.operations.has(message.id)) return connection.close(CloseCode.SubscriberAlreadyExists, `Subscriber for ${message.id} already exists`);
        connection.operations.set(message.id, null);
        return void run(connection, message.id, message.payload);
      case MessageType.Complete: {
        const iterator = connection.operations.get(message.id);
        connection.operations.delete(message.id);
        return void iterator?.return?.();
      }
      default:
        return connection.close(CloseCode.BadRequest, `Unexpected message of type ${message.type} received`);
    }
  }

  async function acknowledge(connection: GraphQLWsConnection): Promise<void> {
    try {
      if (!(await hooks.onConnect(connection))) return connection.close(CloseCode.Forbidden, "Forbidden");
      connection.acknowledged = true;
      connection.send(CONNECTION_ACK);
    } catch (error) {
      failed(connection, error);
    }
  }

  /** Starts one operation: its result as a next message and complete, or its stream followed (see {@link follow}). */
  async function run(connection: GraphQLWsConnection, id: string, payload: SubscribePayload): Promise<void> {
    const { operations } = connection;
    try {
      const prepared = await hooks.onSubscribe(connection, id, payload);
      if (typeof prepared !== "function") {
        if (operations.get(id) === null) {
          operations.delete(id);
          connection.send(errorMessage(id, prepared));
        }
        return;
      }
      const result = await prepared();
      if (isAsyncIterable(result)) {
        const iterator = result[Symbol.asyncIterator]();
        // Completed by the client (or closed) while it started: end it at once.
        if (operations.get(id) !== null) return void (await iterator.return?.());
        operations.set(id, iterator);
        return follow(connection, id, iterator);
      }
      if (operations.get(id) === null) {
        operations.delete(id);
        connection.send(nextMessage(id, result));
        connection.send(completeMessage(id));
      }
    } catch (error) {
      if (operations.get(id) === null) operations.delete(id);
      failed(connection, error);
    }
  }

  function failed(connection: GraphQLWsConnection, error: unknown): void {
    hooks.internalError(error);
    connection.close(CloseCode.InternalServerError, "Internal server error");
  }

  // One handshake-deadline sweep and one sliced heartbeat for every socket.
  const initSweep = setInterval(
    () => {
      const now = Date.now();
      for (const connection of awaitingInit) {
        if (connection.initDeadline > now) continue;
        awaitingInit.delete(connection);
        connection.close(CloseCode.ConnectionInitialisationTimeout, "Connection initialisation timeout");
      }
    },
    Math.max(50, Math.min(1_000, Math.floor(options.initTimeoutMs / 4))),
  );
  initSweep.unref();
  const heartbeat = setInterval(
    () => {
      const slice = slices[nextSlice]!;
      nextSlice = (nextSlice + 1) % HEARTBEAT_SLICES;
      for (const connection of slice) {
        const { socket } = connection;
        if (socket.readyState !== socket.OPEN) continue;
        if (connection.awaitingPong) {
          socket.terminate();
          continue;
        }
        connection.awaitingPong = true;
        socket.ping();
      }
    },
    Math.max(1, Math.floor(options.keepAliveMs / HEARTBEAT_SLICES)),
  );
  heartbeat.unref();

  return {
    dispose() {
      clearInterval(initSweep);
      clearInterval(heartbeat);
    },
  };
}

const CONNECTION_ACK = JSON.stringify({ type: MessageType.ConnectionAck });

/**
 * Sends a stream's results as next messages until it ends (then complete), or an error message
 * if it throws; nothing once the client completed it. Callbacks made once per operation rather
 * than an async loop: a subscription idles for hours, and a suspended async frame per
 * subscription costs more than two closures.
 */
function follow(connection: GraphQLWsConnection, id: string, iterator: AsyncIterator<ExecutionResult>): void {
  if (canReportItself(iterator) && iterator.reportTo(connection)) return;
  const { operations } = connection;
  const end = (complete: boolean): void => {
    if (operations.get(id) !== iterator) return;
    operations.delete(id);
    if (complete) connection.send(completeMessage(id));
  };
  const onStep = (step: IteratorResult<ExecutionResult>): void => {
    if (step.done) return end(true);
    if (operations.get(id) !== iterator) return;
    connection.send(nextMessage(id, step.value));
    iterator.next().then(onStep, onError);
  };
  const onError = (error: unknown): void => {
    if (operations.get(id) === iterator) connection.send(errorMessage(id, [asGraphQLError(error)]));
    end(false);
  };
  iterator.next().then(onStep, onError);
}

function asGraphQLError(error: unknown): GraphQLError {
  return new GraphQLError(error instanceof Error ? error.message : String(error), { originalError: error instanceof Error ? error : undefined });
}

function completeMessage(id: string): string {
  return JSON.stringify({ id, type: MessageType.Complete });
}

/** A `next` message, as graphql-ws writes it (errors through their toJSON). */
function nextMessage(id: string, result: ExecutionResult): string {
  return `{"id":${JSON.stringify(id)},"type":"next","payload":${JSON.stringify(result)}}`;
}

function errorMessage(id: string, errors: readonly GraphQLError[]): string {
  return JSON.stringify({ id, type: MessageType.Error, payload: errors.map((error) => error.toJSON()) });
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null;
}

function isAsyncIterable(value: unknown): value is AsyncIterable<ExecutionResult> {
  return typeof value === "object" && value !== null && Symbol.asyncIterator in value;
}

/** A close reason within the 123 bytes the WebSocket protocol allows. */
function limitReason(reason: string): string {
  if (Buffer.byteLength(reason) <= 123) return reason;
  let cut = reason.slice(0, 120);
  while (Buffer.byteLength(cut) > 120) cut = cut.slice(0, -1);
  return cut;
}
