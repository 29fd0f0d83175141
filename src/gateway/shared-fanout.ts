import {
  createSourceEventStream,
  execute,
  GraphQLError,
  TypeInfo,
  visit,
  visitWithTypeInfo,
  type DocumentNode,
  type ExecutionArgs,
  type ExecutionResult,
  type GraphQLSchema,
} from "graphql";
import type { StreamItem } from "../pubsub/event-stream.js";

/**
 * Fan-out that costs per group, not per subscriber.
 *
 * The naive path (graphql `subscribe`) executes every event once per subscription and serializes
 * the result once per socket, so a channel with 10,000 subscribers runs 10,000 GraphQL executions
 * and 10,000 JSON.stringify calls per message. Here each event is executed once per *group* and
 * serialized once: a group is every subscription on this instance with the same document,
 * operation, variables and, when the selection reads anything that depends on who is asking
 * (fields marked `viewerDependent`, such as `User.presence` or `Channel.readState`), the same
 * viewer. Members of a group get the same bytes; only the graphql-ws envelope
 * (`{"id":…,"type":"next","payload":…}`) is written per socket.
 *
 * What stays per subscriber, because it must: the access check when subscribing, the stream that
 * ends when access is lost (kick, leave, logout), and a bounded queue, so a slow socket never
 * holds back the others.
 */

/** Set on a field's `extensions` when its value depends on the viewer (not just on the event). */
export const VIEWER_DEPENDENT = "viewerDependent";

/** A result executed and serialized once, shared by every socket of a group. */
export class SharedPayload {
  private json: Buffer | undefined;
  constructor(readonly result: ExecutionResult) {}

  /** The result's JSON, encoded once. */
  get bytes(): Buffer {
    this.json ??= Buffer.from(JSON.stringify(this.result));
    return this.json;
  }

  /**
   * graphql-ws stringifies `{ id, type, payload }` per socket; with this payload that costs only
   * the envelope: the payload becomes a placeholder that {@link sendShared} swaps for the bytes.
   */
  toJSON(): string {
    pendingPayload = this;
    return PLACEHOLDER;
  }
}

const PLACEHOLDER = "__concord_shared_payload__";
const PLACEHOLDER_TAIL = `"payload":"${PLACEHOLDER}"}`;
const CLOSE_BRACE = Buffer.from("}");
/** The payload whose placeholder was written last; graphql-ws sends right after stringifying. */
let pendingPayload: SharedPayload | null = null;

/** WebSocket close code for a socket whose unsent data passed the limit (a consumer too slow to keep up). */
export const SLOW_CONSUMER_CLOSE_CODE = 4008;

/** The parts of a `ws` socket the send path uses. */
export interface SendableSocket {
  bufferedAmount: number;
  send(data: string | Buffer, options: { binary: boolean }, cb?: (err?: Error) => void): void;
  send(data: string | Buffer, cb?: (err?: Error) => void): void;
  close(code: number, reason: string): void;
}

/**
 * Makes `socket.send` understand shared payloads: a message whose payload is a placeholder is
 * sent as envelope + shared bytes (one buffer copy, no JSON work), and a socket with more than
 * `maxBufferedBytes` unsent is closed with {@link SLOW_CONSUMER_CLOSE_CODE} instead of growing.
 */
export function sendShared(socket: SendableSocket, maxBufferedBytes: number): void {
  const send = socket.send.bind(socket) as (data: string | Buffer, options: { binary: boolean }, cb?: (err?: Error) => void) => void;
  socket.send = ((data: string | Buffer, cb?: (err?: Error) => void) => {
    if (socket.bufferedAmount > maxBufferedBytes) {
      socket.close(SLOW_CONSUMER_CLOSE_CODE, "Too slow: unsent data passed the limit; reconnect and fetch missed messages from history");
      cb?.();
      return;
    }
    const shared = pendingPayload;
    if (shared && typeof data === "string" && data.endsWith(PLACEHOLDER_TAIL)) {
      pendingPayload = null;
      const envelope = Buffer.from(data.slice(0, data.length - PLACEHOLDER_TAIL.length + '"payload":'.length));
      send(Buffer.concat([envelope, shared.bytes, CLOSE_BRACE]), { binary: false }, cb);
      return;
    }
    send(data, { binary: false }, cb);
  }) as SendableSocket["send"];
}

/** True if the operation selects any field marked viewer-dependent (memoized per document). */
const viewerDependence = new WeakMap<DocumentNode, boolean>();
export function selectsViewerDependentFields(schema: GraphQLSchema, document: DocumentNode): boolean {
  const known = viewerDependence.get(document);
  if (known !== undefined) return known;
  const typeInfo = new TypeInfo(schema);
  let dependent = false;
  visit(
    document,
    visitWithTypeInfo(typeInfo, {
      Field() {
        if (typeInfo.getFieldDef()?.extensions?.[VIEWER_DEPENDENT]) dependent = true;
      },
    }),
  );
  viewerDependence.set(document, dependent);
  return dependent;
}

/** The group of a subscription: same text, operation and variables, plus the viewer when it matters. */
export function groupKey(args: { query: string; operationName?: string | null; variables?: unknown; viewerId: bigint | null; viewerDependent: boolean }): string {
  return `${args.operationName ?? ""}\u0000${JSON.stringify(args.variables ?? null)}\u0000${args.viewerDependent ? String(args.viewerId) : "*"}\u0000${args.query}`;
}

/** Results per event, per group: computed by the first member to see the event, reused by the rest. */
const resultsByEvent = new WeakMap<object, Map<string, Promise<SharedPayload>>>();

/** How many times an event was executed (tests prove sharing with it). */
export const fanoutStats = { executions: 0 };

/**
 * graphql-ws's `subscribe`: access checks and the source stream as usual (the field's subscribe
 * resolver, per subscriber), then each event executed once per group and shared.
 */
export async function subscribeShared(
  args: ExecutionArgs,
  key: string,
  maskError: (error: unknown) => Error,
): Promise<AsyncIterable<ExecutionResult> | ExecutionResult> {
  const source = await createSourceEventStream(args);
  if (!isAsyncIterable(source)) return masked(source as ExecutionResult, maskError);
  const iterator = (source as AsyncIterable<StreamItem<object>>)[Symbol.asyncIterator]();
  const run = (item: StreamItem<object>): Promise<ExecutionResult> => {
    fanoutStats.executions++;
    return Promise.resolve(execute({ ...args, rootValue: item })).then((result) => masked(result, maskError));
  };
  const next = async (item: StreamItem<object>): Promise<ExecutionResult> => {
    if (item.kind === "end") return run(item);
    let byGroup = resultsByEvent.get(item.event);
    if (!byGroup) resultsByEvent.set(item.event, (byGroup = new Map()));
    let payload = byGroup.get(key);
    if (!payload) {
      payload = run(item).then((result) => new SharedPayload(result));
      byGroup.set(key, payload);
    }
    return (await payload) as unknown as ExecutionResult;
  };
  // An async generator in shape: graphql-ws calls return() on it when the client completes.
  const stream: AsyncGenerator<ExecutionResult> = {
    [Symbol.asyncIterator]() {
      return stream;
    },
    async next() {
      const step = await iterator.next();
      return step.done ? { done: true, value: undefined } : { done: false, value: await next(step.value) };
    },
    async return() {
      await iterator.return?.();
      return { done: true, value: undefined };
    },
    async throw(error: unknown) {
      await iterator.return?.();
      throw error;
    },
  } as AsyncGenerator<ExecutionResult>;
  return stream;
}

function masked(result: ExecutionResult, maskError: (error: unknown) => Error): ExecutionResult {
  if (!result.errors?.length) return result;
  return { ...result, errors: result.errors.map((error) => maskError(error) as GraphQLError) };
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof value === "object" && value !== null && Symbol.asyncIterator in value;
}
