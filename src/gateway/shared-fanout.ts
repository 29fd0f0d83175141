import {
  createSourceEventStream,
  execute,
  getOperationAST,
  GraphQLError,
  Kind,
  TypeInfo,
  visit,
  visitWithTypeInfo,
  type DocumentNode,
  type ExecutionArgs,
  type ExecutionResult,
  type GraphQLSchema,
} from "graphql";
import type { EventStream, StreamConsumer, StreamItem } from "../pubsub/event-stream.js";
import { snowflakeTime } from "../ids/snowflake.js";
import { hotCounts, metrics } from "../metrics/metrics.js";
import { CLOSE_CODES } from "./close-codes.js";
import type { OutcomeListener, SelfReporting } from "./self-reporting.js";

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
  /** Whole messages by envelope: clients mostly use the same subscription ids ("1", "2"…). */
  private readonly messages = new Map<string, Buffer>();
  /** The message's creation time (ms) until its first socket write here is measured (MessageCreated only). */
  createdAtMs: number | undefined;
  constructor(readonly result: ExecutionResult) {}

  /** The result's JSON, encoded once. */
  get bytes(): Buffer {
    this.json ??= ownBuffer(JSON.stringify(this.result));
    return this.json;
  }

  /**
   * The complete message for one envelope (`{"id":"1","type":"next","payload":`): built once per
   * distinct envelope, so sockets whose clients chose the same subscription id get the very same
   * buffer, with no allocation or copy per socket.
   */
  message(envelope: string): Buffer {
    let message = this.messages.get(envelope);
    if (!message) {
      const bytes = this.bytes;
      const head = Buffer.byteLength(envelope);
      message = Buffer.allocUnsafeSlow(head + bytes.length + 1);
      message.write(envelope, 0);
      bytes.copy(message, head);
      message[head + bytes.length] = CLOSE_BRACE;
      if (this.messages.size < MAX_ENVELOPES) this.messages.set(envelope, message);
    }
    return message;
  }
}

const CLOSE_BRACE = "}".charCodeAt(0);

/**
 * The string's UTF-8 bytes in a buffer of their own. `Buffer.from` would slice small strings
 * out of Node's shared 8 KB pool, and a payload kept alive with its event (the event log holds
 * recent events) would then keep a whole 8 KB slab alive for a few hundred bytes.
 */
function ownBuffer(text: string): Buffer {
  const buffer = Buffer.allocUnsafeSlow(Buffer.byteLength(text));
  buffer.write(text, 0);
  return buffer;
}
/** Distinct envelopes cached per payload (ids beyond that are built per send). */
const MAX_ENVELOPES = 32;

/** WebSocket close code for a socket whose unsent data passed the limit (a consumer too slow to keep up). */
export const SLOW_CONSUMER_CLOSE_CODE = CLOSE_CODES.tooSlow;

/** The parts of a `ws` socket that direct delivery uses. */
export interface FanoutSocket {
  readonly readyState: number;
  readonly OPEN: number;
  readonly bufferedAmount: number;
  send(data: Buffer, options: { binary: boolean }): void;
  close(code: number, reason: string): void;
}

/** Where a subscription's `next` messages go: written by us, not by graphql-ws (see {@link subscribeShared}). */
export interface DirectDelivery {
  socket: FanoutSocket;
  /** The graphql-ws operation id the client chose. */
  id: string;
  /** Unsent bytes allowed on the socket before it is closed with {@link SLOW_CONSUMER_CLOSE_CODE}. */
  maxBufferedBytes: number;
  /** Called once when the subscription ends, however it ends (the live-subscription gauge). */
  onEnd?: () => void;
}

/** The start of a graphql-ws `next` message for operation `id`, exactly as graphql-ws writes it. */
export function nextEnvelope(id: string): string {
  return `{"id":${JSON.stringify(id)},"type":"next","payload":`;
}

/**
 * Writes one shared payload to one socket without waiting for the write: returns false (and
 * closes the socket with 4008) when it already holds more than the allowed unsent bytes, so a
 * slow reader costs bounded memory and never delays the others.
 */
export function deliver(target: DirectDelivery, envelope: string, payload: SharedPayload): boolean {
  const { socket } = target;
  if (socket.readyState !== socket.OPEN) return false;
  if (socket.bufferedAmount > target.maxBufferedBytes) {
    socket.close(SLOW_CONSUMER_CLOSE_CODE, "Too slow: unsent data passed the limit; reconnect and resume from your last cursor");
    metrics.slowConsumerCloses.inc();
    return false;
  }
  socket.send(payload.message(envelope), { binary: false });
  hotCounts.delivered++;
  if (payload.createdAtMs !== undefined) observeDelivery(payload);
  return true;
}

/** MessageCreated events whose delivery latency this instance measured (once per message, not per group). */
const measured = new WeakSet<object>();

/** A MessageCreated event's creation time the first time any group executes it here, else undefined. */
function firstSighting(event: object): number | undefined {
  const created = event as { type?: string; message?: { id?: unknown } };
  if (created.type !== "MessageCreated" || typeof created.message?.id !== "bigint" || measured.has(event)) return undefined;
  measured.add(event);
  return snowflakeTime(created.message.id).getTime();
}

/** Records the time from the message's creation to this first write, once. */
function observeDelivery(payload: SharedPayload): void {
  metrics.deliveryLatency.observe(Math.max(0, Date.now() - payload.createdAtMs!) / 1_000);
  payload.createdAtMs = undefined;
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

/** A small number per parsed document (yoga's parse cache hands every subscription of the same text the same document). */
const documentIds = new WeakMap<DocumentNode, number>();
let nextDocumentId = 0;

/**
 * The group of a subscription: same document, operation and the variables its events' execution
 * reads, plus the viewer when it matters. Keyed by the parsed document's identity rather than its
 * text, so a subscription keeps a short key instead of its own copy of the query (the same text
 * parsed again after the parse cache dropped it only makes a second group).
 *
 * Variables that only feed the subscription field's own arguments (`channelId`, `after`,
 * `resume`, `filter`) are left out: they choose which events enter the stream, while an event is
 * executed by the field's `resolve`, which hands the event over whatever the arguments (every
 * subscription field resolves with `unwrap`). So subscribers of different channels, and clients
 * resuming from different cursors after a reconnect storm, share one execution per event.
 */
export function groupKey(args: { document: DocumentNode; operationName?: string | null; variables?: unknown; viewerId: bigint | null; viewerDependent: boolean }): string {
  let id = documentIds.get(args.document);
  if (id === undefined) documentIds.set(args.document, (id = nextDocumentId++));
  return `${id}\u0000${args.operationName ?? ""}\u0000${JSON.stringify(executionVariables(args.document, args.operationName, args.variables))}\u0000${args.viewerDependent ? String(args.viewerId) : "*"}`;
}

/** The variables an event's execution can read: those used anywhere but in the root field's arguments (sorted, so key order does not split groups). */
function executionVariables(document: DocumentNode, operationName: string | null | undefined, variables: unknown): Record<string, unknown> | null {
  if (typeof variables !== "object" || variables === null) return null;
  const read = variablesReadByExecution(document, operationName);
  const kept: Record<string, unknown> = {};
  for (const name of Object.keys(variables).sort()) if (read.has(name)) kept[name] = (variables as Record<string, unknown>)[name];
  return kept;
}

const executionVariableNames = new WeakMap<DocumentNode, Map<string, ReadonlySet<string>>>();

/** Names of the variables used outside the subscription root fields' arguments (memoized per document and operation). */
function variablesReadByExecution(document: DocumentNode, operationName: string | null | undefined): ReadonlySet<string> {
  let byOperation = executionVariableNames.get(document);
  if (!byOperation) executionVariableNames.set(document, (byOperation = new Map()));
  const known = byOperation.get(operationName ?? "");
  if (known) return known;
  const names = new Set<string>();
  const collect = { Variable: (node: { name: { value: string } }) => void names.add(node.name.value) };
  const operation = getOperationAST(document, operationName);
  for (const definition of document.definitions) {
    // Fragments may be executed with the event: all their variables count.
    if (definition.kind === Kind.FRAGMENT_DEFINITION) visit(definition, collect);
    if (definition !== operation) continue;
    if (operation.operation !== "subscription") {
      visit(operation, collect);
      continue;
    }
    for (const directive of operation.directives ?? []) visit(directive, collect);
    for (const selection of operation.selectionSet.selections) {
      if (selection.kind !== Kind.FIELD) {
        visit(selection, collect);
        continue;
      }
      // The root field's arguments are left out; its directives and selections are executed.
      for (const directive of selection.directives ?? []) visit(directive, collect);
      if (selection.selectionSet) visit(selection.selectionSet, collect);
    }
  }
  byOperation.set(operationName ?? "", names);
  return names;
}

/** Results per event, per group: computed by the first member to see the event, reused by the rest. */
const resultsByEvent = new WeakMap<object, Map<string, SharedPayload | PendingPayload>>();

/**
 * A group's result still being executed (a resolver awaited something). The group's members
 * that reach it wait in `waiters` and are resumed together, synchronously, when it is ready: one
 * promise per group and event, not one per subscriber (each would cost a microtask, and on
 * Node 20 an AsyncLocalStorage hook, per subscriber per event).
 */
class PendingPayload {
  readonly waiters: SharedSubscription[] = [];
  constructor(readonly promise: Promise<SharedPayload>) {}
}

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
  direct?: DirectDelivery,
): Promise<AsyncIterable<ExecutionResult> | ExecutionResult> {
  const source = await createSourceEventStream(args);
  if (!isAsyncIterable(source)) return masked(source as ExecutionResult, maskError);
  return new SharedSubscription(args, key, maskError, (source as AsyncIterable<StreamItem<object>>)[Symbol.asyncIterator](), direct);
}

/**
 * One subscriber of a group, as the async generator the socket's protocol consumes (it calls
 * `return()` when the client completes). A class rather than closures: the server holds one per
 * live subscription for hours.
 *
 * With direct delivery from an {@link EventStream}, the socket's protocol starts it with
 * {@link reportTo} (push mode): events are written to the socket as the stream hands them over,
 * with no promise pending while the subscription idles and none per event, and only its end is
 * reported. Otherwise `next()` pulls one result at a time.
 */
class SharedSubscription implements AsyncGenerator<ExecutionResult>, StreamConsumer, SelfReporting {
  private readonly envelope: string;
  /** Push mode: told once when the subscription ends. */
  private listener: OutcomeListener | null = null;
  private finished = false;
  private draining = false;

  constructor(
    private readonly args: ExecutionArgs,
    private readonly key: string,
    private readonly maskError: (error: unknown) => Error,
    private readonly iterator: AsyncIterator<StreamItem<object>> & Partial<Pick<EventStream<object>, "listen" | "take" | "ended">>,
    private readonly direct: DirectDelivery | undefined,
  ) {
    this.envelope = direct ? nextEnvelope(direct.id) : "";
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<IteratorResult<ExecutionResult>> {
    // Push-mode subscriptions are not pulled (their end goes to the listener).
    if (this.finished || this.listener) return Promise.resolve(DONE);
    return this.pull();
  }

  /**
   * Push mode without a promise per subscription: events go to the socket as they come and the
   * end is told to `listener` (see {@link SelfReporting}); false when this subscription has no
   * direct delivery or its source cannot push.
   */
  reportTo(listener: OutcomeListener): boolean {
    const stream = this.iterator;
    if (!this.direct || !stream.listen || this.listener) return false;
    this.listener = listener;
    if (this.finished) {
      listener.ended(this.direct.id, this, DONE);
      return true;
    }
    stream.listen(this);
    this.readable();
    return true;
  }

  /** Push mode: the stream has items (or ended); write them out unless already doing so. */
  readable(): void {
    if (!this.draining && !this.finished) this.drain();
  }

  async return(): Promise<IteratorResult<ExecutionResult>> {
    await this.iterator.return?.();
    this.finish(DONE);
    return DONE;
  }

  async throw(error: unknown): Promise<IteratorResult<ExecutionResult>> {
    await this.iterator.return?.();
    this.finish(DONE);
    throw error;
  }

  /** Pull mode (not started with reportTo: no direct delivery, or a source that is not an EventStream): one result per next(). */
  private async pull(): Promise<IteratorResult<ExecutionResult>> {
    const { direct } = this;
    for (;;) {
      const step = await this.iterator.next();
      if (step.done) return this.ended(DONE);
      const item = step.value;
      // A final error is this subscriber's own: executed for it alone, sent by the protocol.
      if (item.kind === "end") return this.ended({ done: false, value: await this.run(item) });
      const shared = this.shared(item.event);
      const payload = shared instanceof PendingPayload ? await shared.promise : shared;
      if (!direct) return { done: false, value: payload.result };
      if (!deliver(direct, this.envelope, payload)) {
        await this.iterator.return?.();
        return this.ended(DONE);
      }
    }
  }

  /** Pull mode's last answer: the subscription is finished once it is given. */
  private ended(result: IteratorResult<ExecutionResult>): IteratorResult<ExecutionResult> {
    this.finish(result);
    return result;
  }

  /**
   * Push mode: writes every queued event in order, synchronously while each event's group result
   * exists. At a result still being executed it waits among that group's members (see
   * {@link PendingPayload}) and goes on from {@link resume}; `draining` stays set meanwhile, so
   * later events wait in the stream, in order.
   */
  private drain(): void {
    const stream = this.iterator as EventStream<object>;
    this.draining = true;
    try {
      for (;;) {
        const item = stream.take();
        if (!item) {
          this.draining = false;
          if (stream.ended) this.finish(DONE);
          return;
        }
        // A final error is this subscriber's own: executed for it alone, sent by the protocol.
        if (item.kind === "end") {
          this.run(item).then(
            (value) => this.finish({ done: false, value }),
            (error: unknown) => this.fail(error),
          );
          return;
        }
        const payload = this.shared(item.event);
        if (payload instanceof PendingPayload) {
          payload.waiters.push(this);
          return;
        }
        if (!this.write(payload)) return;
      }
    } catch (error) {
      this.fail(error);
    }
  }

  /** Push mode: the group result this subscription waited for is ready; write it and go on. */
  resume(payload: SharedPayload): void {
    if (this.finished) return;
    if (this.write(payload)) this.drain();
  }

  /** Push mode: executing an event (or this subscription's end) failed: end with that error. */
  fail(error: unknown): void {
    this.draining = false;
    this.finish({ done: false, value: masked({ errors: [error as GraphQLError] }, this.maskError) });
  }

  /** Writes one payload to the socket; false (and the subscription finished) if the socket is gone or too slow. */
  private write(payload: SharedPayload): boolean {
    if (deliver(this.direct!, this.envelope, payload)) return true;
    this.draining = false;
    void this.iterator.return?.();
    this.finish(DONE);
    return false;
  }

  private finish(result: IteratorResult<ExecutionResult>): void {
    if (this.finished) return;
    this.finished = true;
    this.direct?.onEnd?.();
    const listener = this.listener;
    this.listener = null;
    if (listener) listener.ended(this.direct!.id, this, result);
  }

  /**
   * The event's result for this subscriber's group: executed by the group's first member to see
   * it, reused by the rest. When execution completes synchronously (no resolver awaits) every
   * member gets the result itself; otherwise a {@link PendingPayload} the members wait on.
   */
  private shared(event: object): SharedPayload | PendingPayload {
    let byGroup = resultsByEvent.get(event);
    if (!byGroup) resultsByEvent.set(event, (byGroup = new Map()));
    const known = byGroup.get(this.key);
    if (known) return known;
    fanoutStats.executions++;
    const executed = execute({ ...this.args, rootValue: { kind: "event", event } });
    if (!isPromiseLike(executed)) {
      const done = this.payloadOf(executed, event);
      byGroup.set(this.key, done);
      return done;
    }
    const group = byGroup;
    const pending: PendingPayload = new PendingPayload(
      Promise.resolve(executed).then((result) => {
        const done = this.payloadOf(result, event);
        group.set(this.key, done);
        for (const waiter of pending.waiters) waiter.resume(done);
        return done;
      }),
    );
    pending.promise.catch((error: unknown) => {
      for (const waiter of pending.waiters) waiter.fail(error);
    });
    byGroup.set(this.key, pending);
    return pending;
  }

  private payloadOf(result: ExecutionResult, event: object): SharedPayload {
    const done = new SharedPayload(masked(result, this.maskError));
    done.createdAtMs = firstSighting(event);
    return done;
  }

  private run(item: StreamItem<object>): Promise<ExecutionResult> {
    fanoutStats.executions++;
    return Promise.resolve(execute({ ...this.args, rootValue: item })).then((result) => masked(result, this.maskError));
  }
}

const DONE: IteratorResult<ExecutionResult> = Object.freeze({ done: true, value: undefined });

function masked(result: ExecutionResult, maskError: (error: unknown) => Error): ExecutionResult {
  if (!result.errors?.length) return result;
  return { ...result, errors: result.errors.map((error) => maskError(error) as GraphQLError) };
}

function isPromiseLike<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return typeof (value as PromiseLike<T> | null)?.then === "function";
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof value === "object" && value !== null && Symbol.asyncIterator in value;
}
