import fc from "fast-check";
import type { Client } from "graphql-ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { schema } from "../../src/schema/index.js";
import type { Database } from "../../src/stores/prisma/database.js";
import { openTestPglite } from "../support/databases.js";
import { startTestServer, type GraphQLResponse, type TestServer } from "../support/server.js";
import { operationArb, render, rootFields, type Operation } from "./fuzz-operations.js";
import { checkFingerprintCoversEveryTable, fingerprint, seedWorld, type Actor, type World } from "./fuzz-world.js";
import { DEFAULT_LIMITS_ENV, signUpFrom, wsFrom } from "./hostile-client.js";

/**
 * Property-based fuzzing of every operation the schema has (issue #9). Each run seeds a fresh
 * world (fuzz-world.ts) and sends it up to MAX_STEPS random operations: one or two root fields of
 * Query or Mutation, or one of Subscription, with arguments generated from their GraphQL types
 * and a valid selection set (fuzz-operations.ts), half of them plausible (to reach deep paths and
 * change the world the next ones run in) and half hostile; sent by a seeded user, the bot, a
 * stranger, nobody or a forged token, from a random address, as JSON POST, GET, graphql-ws or
 * (subscriptions) server-sent events; now and then several at once. A few subscriptions per run
 * stay open, so the events later steps cause are executed with their fuzzed selections too.
 * After every operation (and for those subscriptions, at the end of the run):
 *
 * - no 5xx status, no INTERNAL_SERVER_ERROR, every error has a message and a known code
 *   (bad variables BAD_USER_INPUT, RATE_LIMITED with retryAfterMs), no socket closed as an
 *   internal error;
 * - no error-level line logged by the server (what a stack trace in the log would be);
 * - a refused mutation (an error on the field itself, no data for it) wrote nothing: the
 *   database fingerprint before and after it is the same.
 * At the end every Query and Mutation field has been called (new operations are fuzzed without
 * touching this file) and the server still answers.
 *
 * Two properties: one on the default rate limits (refusals are expected answers and must write
 * nothing either), one with rate limits off (so the fuzzer gets past the budgets to the deep
 * paths). Seeds are fixed so CI is deterministic (as far as the clock allows: rate-limit windows
 * are real time); FUZZ_SEED=<n> replays or explores another one, FUZZ_RUNS=<n> runs longer,
 * FUZZ_DEADLINE_MS=<ms> gives a long exploration (or its shrinking) more time, FUZZ_VERBOSE=1
 * prints the outcomes per field. On failure fast-check prints the seed and the shrunk
 * counterexample, and the cause carries the failing request exactly as sent.
 */

const SEED = Number(process.env.FUZZ_SEED ?? 20_261_209);
const RUNS = Number(process.env.FUZZ_RUNS ?? 26);
const MAX_STEPS = 45;
/** Past this, fast-check stops (shrinking, in practice: the runs themselves take a fraction of it); FUZZ_DEADLINE_MS for long explorations. */
const SHRINK_DEADLINE_MS = Number(process.env.FUZZ_DEADLINE_MS ?? 60_000);

/** Codes a client may see (src/errors.ts, GraphQL's own refusals, and yoga's BAD_REQUEST for a mutation over GET). */
const KNOWN_CODES = new Set(["UNAUTHENTICATED", "FORBIDDEN", "NOT_FOUND", "BAD_USER_INPUT", "CONFLICT", "RATE_LIMITED", "LIMIT_EXCEEDED", "GRAPHQL_VALIDATION_FAILED", "GRAPHQL_PARSE_FAILED", "BAD_REQUEST"]);
/** WebSocket close codes that are answers, not failures (src/gateway/close-codes.ts, graphql-ws's 44xx, and 1009 for a message over MAX_SOCKET_MESSAGE_BYTES). */
const EXPECTED_CLOSE_CODES = new Set([1000, 1009, 4008, 4029, 4400, 4401, 4403, 4429]);

/**
 * How an operation travels: `post` (JSON over HTTP), `get` (query string; mutations must be
 * refused) or `socket` (graphql-ws). A subscription goes over graphql-ws for `socket`, else as
 * server-sent events (POST or GET with Accept: text/event-stream).
 */
type Via = "post" | "get" | "socket";

interface Step {
  operation: Operation;
  actor: Actor;
  address: string;
  via: Via;
}

/** Who sends a hostile operation: anyone, a stranger, nobody or a forged token included. */
const actorArb: fc.Arbitrary<Actor> = fc.constantFrom<Actor>("ada", "ada", "ada", "bob", "bob", "cy", "bot", "stranger", "anonymous", "anonymous", "forged");
/** Who sends a plausible one: a member of the world (ada owns the guild and wrote most messages). */
const memberArb: fc.Arbitrary<Actor> = fc.constantFrom<Actor>("ada", "ada", "ada", "bob", "bob", "cy", "bot");

/** Mostly a few shared addresses (so per-IP budgets run out), else any address, or a header that is not an address at all. */
const addressArb = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom("203.0.113.1", "203.0.113.2", "2001:db8::1") },
  { weight: 3, arbitrary: fc.ipV4() },
  { weight: 1, arbitrary: fc.ipV6() },
  { weight: 1, arbitrary: fc.constantFrom("", "unknown", "not an address", "::ffff:203.0.113.9", "203.0.113.1, 203.0.113.2", "999.999.999.999", "[::1]:80", "fe80::1%eth0", "a".repeat(300)) },
);

const operationsArb = fc.oneof(
  { weight: 4, arbitrary: operationArb(schema, "query") },
  { weight: 7, arbitrary: operationArb(schema, "mutation") },
  { weight: 2, arbitrary: operationArb(schema, "subscription") },
);
const viaArb = fc.oneof({ weight: 8, arbitrary: fc.constant<Via>("post") }, { weight: 1, arbitrary: fc.constant<Via>("get") }, { weight: 3, arbitrary: fc.constant<Via>("socket") });
/** Subscriptions mostly over graphql-ws, where some stay open and receive the run's later events. */
const subscriptionViaArb = fc.oneof({ weight: 3, arbitrary: fc.constant<Via>("post") }, { weight: 1, arbitrary: fc.constant<Via>("get") }, { weight: 6, arbitrary: fc.constant<Via>("socket") });
const stepArb: fc.Arbitrary<Step> = operationsArb.chain((operation) =>
  fc.record({
    operation: fc.constant(operation),
    actor: operation.roots.every((r) => r.mode === "plausible") ? memberArb : actorArb,
    address: addressArb,
    via: operation.kind === "subscription" ? subscriptionViaArb : viaArb,
  }),
);

/** What a run does next: one step alone, or a few at once (the same one 2-4 times, or 2-3 different ones). */
const moveArb: fc.Arbitrary<Step[]> = fc.oneof(
  { weight: 12, arbitrary: stepArb.map((step) => [step]) },
  { weight: 1, arbitrary: fc.tuple(stepArb, fc.integer({ min: 2, max: 4 })).map(([step, copies]) => Array.from({ length: copies }, () => step)) },
  { weight: 1, arbitrary: fc.array(stepArb, { minLength: 2, maxLength: 3 }) },
);

/** What the fuzzer saw, for the report printed at the end of each property. */
class Stats {
  runs = 0;
  seedingMs = 0;
  operations = 0;
  transports = new Map<string, number>();
  refusedMutations = 0;
  concurrentGroups = 0;
  liveSubscriptions = 0;
  liveEvents = 0;
  fingerprintChecks = 0;
  codes = new Map<string, number>();
  fields = new Map<string, { calls: number; answered: number }>();
  closeCodes = new Map<number, number>();
  /** Per root field, how often each outcome (OK or an error code) came back: FUZZ_VERBOSE=1 prints it. */
  outcomes = new Map<string, Map<string, number>>();
  field(name: string, answered: boolean, outcome: string) {
    const entry = this.fields.get(name) ?? { calls: 0, answered: 0 };
    entry.calls++;
    if (answered) entry.answered++;
    this.fields.set(name, entry);
    const outcomes = this.outcomes.get(name) ?? new Map<string, number>();
    outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
    this.outcomes.set(name, outcomes);
  }
  code(code: string) {
    this.codes.set(code, (this.codes.get(code) ?? 0) + 1);
  }
  report(label: string, ms: number): string {
    const sorted = (m: Map<string | number, number>) => [...m.entries()].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(", ");
    const fields = [...this.fields.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([name, f]) => `${name} ${f.answered}/${f.calls}`).join(", ");
    return [
      `fuzz (${label}): ${this.operations} operations in ${this.runs} worlds in ${(ms / 1000).toFixed(1)} s (seeding the worlds: ${(this.seedingMs / 1000).toFixed(1)} s; counts include shrinking after a failure)`,
      `  transports: ${sorted(this.transports as Map<string | number, number>)}; ${this.concurrentGroups} groups of operations sent at once; ${this.liveEvents} events to the ${this.liveSubscriptions} subscriptions kept open`,
      `  refused mutations checked for writes: ${this.fingerprintChecks} (of ${this.refusedMutations} refused)`,
      `  error codes: ${sorted(this.codes as Map<string | number, number>)}`,
      `  socket closes: ${sorted(this.closeCodes as Map<string | number, number>) || "none"}`,
      `  answered without error / calls per root field: ${fields}`,
      ...(process.env.FUZZ_VERBOSE ? [...this.outcomes.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([name, o]) => `    ${name}: ${sorted(o as Map<string | number, number>)}`) : []),
    ].join("\n");
  }
}

/** Strings of a repro made printable: very long ones summarized, the rest JSON-escaped by the caller. */
function shorten(value: unknown): unknown {
  if (typeof value === "string") return value.length > 300 ? `${value.slice(0, 100)}… (${value.length} UTF-16 units, ${[...new Set(value)].length} distinct)` : value;
  if (Array.isArray(value)) return value.length > 20 ? [...value.slice(0, 20).map(shorten), `… ${value.length} items`] : value.map(shorten);
  if (value && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, shorten(v)]));
  return value;
}

interface Answer {
  status?: number;
  bodies: GraphQLResponse[];
  /** graphql-ws: errors sent instead of a result (the operation never ran). */
  refusedBeforeExecution?: GraphQLResponse["errors"];
  closeCode?: number;
  /** The transport failed in a way that is not an answer at all. */
  failure?: string;
}

/** One graphql-ws client per actor per run, created on first use, dropped once the server closes it. */
class SocketPool {
  private clients = new Map<Actor, Client>();
  /** Subscriptions kept open, checked when the run ends. */
  readonly live: (Omit<Sent, "answer"> & { live: LiveSubscription })[] = [];
  constructor(private readonly server: TestServer) {}
  get(actor: Actor, token: string | undefined, address: string): Client {
    let client = this.clients.get(actor);
    if (!client) {
      client = wsFrom(this.server, token, address);
      this.clients.set(actor, client);
    }
    return client;
  }
  drop(actor: Actor) {
    const client = this.clients.get(actor);
    this.clients.delete(actor);
    if (client) void disposeClient(client);
  }
  async close() {
    for (const { live } of this.live) live.stop();
    await Promise.all([...this.clients.values()].map(disposeClient));
    this.clients.clear();
  }
}

/**
 * Disposes a client. graphql-ws's dispose() waits for a connection still being set up and
 * rejects with its close event when the server refuses it (4401 for a forged token): on a loaded
 * machine that close can come after the run's last step. A refusal is an answer to the
 * operation (its close code is checked when it arrives in time), not a failure of the run;
 * anything else still is.
 */
async function disposeClient(client: Client): Promise<void> {
  try {
    await client.dispose();
  } catch (error) {
    if (!(error && typeof error === "object" && "code" in error && typeof error.code === "number")) throw error;
  }
}

/** An HTTP request: POST with a JSON body, or GET with the operation in the query string. */
function httpRequest(server: TestServer, method: "post" | "get", document: string, variables: Record<string, unknown>, token: string | undefined, address: string, accept: string, signal: AbortSignal) {
  const headers = { accept, "x-forwarded-for": address, ...(token ? { authorization: `Bearer ${token}` } : {}) };
  if (method === "get") {
    const url = new URL(server.url);
    url.searchParams.set("query", document);
    url.searchParams.set("variables", JSON.stringify(variables));
    return fetch(url, { headers, signal });
  }
  return fetch(server.url, { method: "POST", headers: { ...headers, "content-type": "application/json" }, body: JSON.stringify({ query: document, variables }), signal });
}

/**
 * Node's HTTP parser answers a request line and headers over its 16 KB limit (a long GET query
 * string) with an empty 431 before the server sees the request: a refusal, but not a GraphQL one.
 */
const PARSER_REFUSALS = new Set([431]);

/** The answer of a JSON body (or of a parser refusal without one). */
function jsonAnswer(status: number, text: string): Answer {
  try {
    return { status, bodies: [JSON.parse(text) as GraphQLResponse] };
  } catch {
    if (PARSER_REFUSALS.has(status) && text === "") return { status, bodies: [] };
    return { status, bodies: [], failure: `a body that is not JSON: ${text.slice(0, 300)}` };
  }
}

async function overHttp(server: TestServer, method: "post" | "get", document: string, variables: Record<string, unknown>, token: string | undefined, address: string): Promise<Answer> {
  const res = await httpRequest(server, method, document, variables, token, address, "application/graphql-response+json, application/json", AbortSignal.timeout(15_000));
  // A mutation over GET is refused by yoga (405) with a GraphQL body too.
  return jsonAnswer(res.status, await res.text());
}

/**
 * A subscription over server-sent events: the first event (an error, or the first result) or, if
 * the server accepted it and has nothing to say yet, nothing within a short wait; then the stream
 * is cancelled.
 */
async function overSse(server: TestServer, method: "post" | "get", document: string, variables: Record<string, unknown>, token: string | undefined, address: string): Promise<Answer> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), 15_000);
  try {
    const res = await httpRequest(server, method, document, variables, token, address, "text/event-stream", abort.signal);
    if (!res.headers.get("content-type")?.includes("text/event-stream")) return jsonAnswer(res.status, await res.text());
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let buffered = "";
    const quiet = new Promise<"quiet">((resolve) => setTimeout(() => resolve("quiet"), 30));
    for (;;) {
      const chunk = await Promise.race([reader.read(), quiet]);
      if (chunk === "quiet" || chunk.done) break;
      buffered += decoder.decode(chunk.value, { stream: true });
      const data = /^data: (.*)$/m.exec(buffered.split("\n\n").find((event) => /^event: next$/m.test(event) && /^data: /m.test(event)) ?? "");
      if (data) return { status: res.status, bodies: [JSON.parse(data[1]!) as GraphQLResponse] };
      if (/^event: complete$/m.test(buffered)) break;
    }
    return { status: res.status, bodies: [] };
  } finally {
    clearTimeout(timer);
    abort.abort();
  }
}

/**
 * What a subscription the server accepted delivers afterwards: the events the run's later steps
 * cause, each executed with the subscription's fuzzed selection, and how it ended if it did.
 */
interface LiveSubscription {
  later: Answer;
  stop(): void;
}

/** Subscriptions kept open per run (the rest are stopped once accepted). */
const MAX_LIVE_SUBSCRIPTIONS = 6;

/**
 * Runs an operation over graphql-ws. A subscription that the server accepted says nothing until
 * an event: after a short wait it counts as accepted (a start that fails does so within
 * milliseconds), and it is stopped, or kept open as `live` when `keepOpen` says so.
 */
function overSocket(client: Client, document: string, variables: Record<string, unknown>, subscription: boolean, keepOpen: boolean): Promise<Answer & { live?: LiveSubscription }> {
  return new Promise((resolve) => {
    const bodies: GraphQLResponse[] = [];
    let later: Answer | undefined;
    let settled = false;
    const finish = (answer: Omit<Answer, "bodies"> = {}, live = false) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (!live) return (unsubscribe(), resolve({ bodies, ...answer }));
      later = { bodies: [] };
      resolve({ bodies, ...answer, live: { later, stop: unsubscribe } });
    };
    const ended = (answer: Omit<Answer, "bodies">) => (later ? Object.assign(later, answer) : finish(answer));
    const unsubscribe = client.subscribe(
      { query: document, variables },
      {
        next: (value) => {
          if (later) return void later.bodies.push(value as GraphQLResponse);
          bodies.push(value as GraphQLResponse);
          if (subscription) finish();
        },
        error: (error: unknown) => {
          if (Array.isArray(error)) ended({ refusedBeforeExecution: error as GraphQLResponse["errors"] });
          else if (error && typeof error === "object" && "code" in error && typeof (error as { code: unknown }).code === "number") ended({ closeCode: (error as { code: number }).code });
          else ended({ failure: `socket error: ${error instanceof Error ? error.stack : JSON.stringify(error)}` });
        },
        complete: () => (later ? undefined : finish()),
      },
    );
    const timer = setTimeout(() => (subscription ? finish({}, keepOpen) : finish({ failure: "no answer over graphql-ws within 15 s" })), subscription ? 30 : 15_000);
  });
}

/** The problems with one answer (empty: it is a proper answer). */
function problemsOf(answer: Answer, stats: Stats): string[] {
  const problems: string[] = [];
  if (answer.failure) problems.push(answer.failure);
  if (answer.status !== undefined && answer.status >= 500) problems.push(`HTTP status ${answer.status}`);
  if (answer.status !== undefined && PARSER_REFUSALS.has(answer.status)) stats.code(`HTTP ${answer.status} (no body)`);
  if (answer.closeCode !== undefined) {
    stats.closeCodes.set(answer.closeCode, (stats.closeCodes.get(answer.closeCode) ?? 0) + 1);
    if (!EXPECTED_CLOSE_CODES.has(answer.closeCode)) problems.push(`socket closed with code ${answer.closeCode}`);
  }
  const errors = [...(answer.refusedBeforeExecution ?? []), ...answer.bodies.flatMap((b) => b.errors ?? [])];
  for (const body of answer.bodies) if (body.data === undefined && body.errors === undefined) problems.push(`an answer with neither data nor errors: ${JSON.stringify(body)}`);
  for (const error of errors) {
    const code = error.extensions?.code;
    stats.code(String(code));
    if (typeof error.message !== "string" || error.message === "") problems.push(`an error without a message: ${JSON.stringify(error)}`);
    if (code === "INTERNAL_SERVER_ERROR") problems.push(`INTERNAL_SERVER_ERROR: ${JSON.stringify(error)}`);
    else if (typeof code !== "string" || !KNOWN_CODES.has(code)) problems.push(`an error without a known code: ${JSON.stringify(error)}`);
    if (code === "RATE_LIMITED" && !(typeof error.extensions?.retryAfterMs === "number" && error.extensions.retryAfterMs >= 0)) problems.push(`RATE_LIMITED without retryAfterMs: ${JSON.stringify(error)}`);
    // Variables of the wrong type (or missing, or null where not allowed) are the caller's input.
    if (/^Variable "\$/.test(error.message) && code !== "BAD_USER_INPUT") problems.push(`a bad variable that is not BAD_USER_INPUT: ${JSON.stringify(error)}`);
  }
  return problems;
}

/**
 * Whether a mutation was refused: an error on the field itself (or on the whole request) and no
 * data for it. An error deeper in the selection (say `createGuild { channels { messages(first: -1) } }`)
 * comes after the mutation ran, so it is not a refusal, even though non-null propagation nulls the field.
 */
function refusedField(answer: Answer, key: string): boolean {
  if (answer.refusedBeforeExecution?.length) return true;
  const body = answer.bodies[0];
  if (!body?.errors?.length) return false;
  const data = body.data as Record<string, unknown> | null | undefined;
  if (data?.[key] !== undefined && data[key] !== null) return false;
  return body.errors.some((e) => !e.path || (e.path.length === 1 && e.path[0] === key));
}

/** The outcome of one root field, for the report: OK, or the code of its (or the request's) first error. */
function outcomeOf(answer: Answer, key: string, subscription: boolean): string {
  if (answer.closeCode !== undefined) return `close ${answer.closeCode}`;
  if (answer.status !== undefined && PARSER_REFUSALS.has(answer.status) && answer.bodies.length === 0) return `HTTP ${answer.status}`;
  const body = answer.bodies[0];
  const error = answer.refusedBeforeExecution?.[0] ?? body?.errors?.find((e) => !e.path || e.path[0] === key);
  if (error) return String(error.extensions?.code ?? "?");
  const data = body?.data as Record<string, unknown> | null | undefined;
  if (data?.[key] != null || (subscription && !body)) return "OK";
  return answer.failure ? "failure" : "?";
}

interface Fuzzing {
  seed: number;
  server: TestServer;
  database: Database;
  stats: Stats;
}

interface Sent {
  step: Step;
  transport: string;
  document: string;
  variables: Record<string, unknown>;
  answer: Answer;
}

/** Sends one step the way it says (never throws: a transport failure is an answer with `failure`). */
async function send(f: Fuzzing, world: World, sockets: SocketPool, step: Step): Promise<Sent> {
  const { document, variables } = render(step.operation, world.resolve);
  const token = world.tokenOf(step.actor);
  const subscription = step.operation.kind === "subscription";
  const transport = step.via === "socket" ? "graphql-ws" : subscription ? `sse (${step.via})` : `http (${step.via})`;
  let answer: Answer;
  try {
    if (step.via === "socket") {
      const { live, ...answered } = await overSocket(sockets.get(step.actor, token, step.address), document, variables, subscription, sockets.live.length < MAX_LIVE_SUBSCRIPTIONS);
      if (live) sockets.live.push({ step, transport, document, variables, live });
      answer = answered;
    }
    else if (subscription) answer = await overSse(f.server, step.via, document, variables, token, step.address);
    else answer = await overHttp(f.server, step.via, document, variables, token, step.address);
  } catch (error) {
    answer = { bodies: [], failure: `the request failed: ${error instanceof Error ? error.stack : String(error)}` };
  }
  if (answer.closeCode !== undefined) sockets.drop(step.actor);
  return { step, transport, document, variables, answer };
}

/** Records what came back and returns the problems with it. */
function examine(stats: Stats, { step, transport, answer }: Sent): string[] {
  stats.operations++;
  stats.transports.set(transport, (stats.transports.get(transport) ?? 0) + 1);
  const subscription = step.operation.kind === "subscription";
  step.operation.roots.forEach((root) => {
    const outcome = outcomeOf(answer, root.selection.alias ?? root.selection.field, subscription);
    stats.field(`${step.operation.kind === "query" ? "" : `${step.operation.kind} `}${root.selection.field}`, outcome === "OK", `${root.mode[0]}:${outcome}`);
  });
  return problemsOf(answer, stats);
}

/** Fails the run with every problem and the requests exactly as sent. */
function fail(problems: string[], sent: Sent[]): never {
  const repro = sent.map(({ step, transport, document, variables, answer }) => ({ actor: step.actor, address: step.address, transport, document, variables: shorten(variables), answer: shorten(answer) }));
  throw new Error(`${problems.join("\n")}\n\nreproduction${sent.length > 1 ? ` (${sent.length} requests sent at once)` : ""}:\n${JSON.stringify(repro.length === 1 ? repro[0] : repro, null, 2)}`);
}

/** New error-level lines in the server's log since `mark`. */
const errorsLoggedSince = (server: TestServer, mark: number) => server.logs.slice(mark).filter((line) => line.includes('"level":"error"'));

/** One operation alone, with the no-write check when it is a refused mutation. */
async function runStep(f: Fuzzing, world: World, sockets: SocketPool, step: Step): Promise<void> {
  const { server, database, stats } = f;
  const mutation = step.operation.kind === "mutation";
  // Acknowledgements of earlier (successful) calls are written in batches, on a timer: write them
  // now, so the only thing that can change the database during this call is this call.
  if (mutation) await server.app.services.acks.flush();
  const before = mutation ? await fingerprint(database) : undefined;
  const mark = server.logs.length;
  const sent = await send(f, world, sockets, step);
  const problems = examine(stats, sent);
  // Only when every root field was refused: a mutation that ran and failed deeper in its
  // selection, or the first of two that ran before the second was refused, may have written.
  if (mutation && step.operation.roots.every((r) => refusedField(sent.answer, r.selection.alias ?? r.selection.field))) {
    stats.refusedMutations++;
    // An ack the refused call may have buffered is written now, so the fingerprint shows it.
    await server.app.services.acks.flush();
    const after = await fingerprint(database);
    stats.fingerprintChecks++;
    for (const [table, value] of Object.entries(after)) if (before![table] !== value) problems.push(`a refused mutation wrote to ${table}: ${before![table]} -> ${value}`);
  }
  const logged = errorsLoggedSince(server, mark);
  if (logged.length > 0) problems.push(`the server logged errors:\n${logged.join("\n")}`);
  if (problems.length > 0) fail(problems, [sent]);
}

/**
 * Operations sent at once (the same one several times, as a double-clicking or retrying client
 * does, or different ones), where check-then-act races live: each must still be a proper answer
 * and nothing may be logged. No fingerprint here: a refused copy may run beside one that wrote.
 */
async function runTogether(f: Fuzzing, world: World, sockets: SocketPool, steps: Step[]): Promise<void> {
  const mark = f.server.logs.length;
  const sent = await Promise.all(steps.map((step) => send(f, world, sockets, step)));
  f.stats.concurrentGroups++;
  const problems = sent.flatMap((one) => examine(f.stats, one));
  // Give work that outlives the answers (publishing, bookkeeping) a moment to log what it would.
  await new Promise((resolve) => setTimeout(resolve, 5));
  const logged = errorsLoggedSince(f.server, mark);
  if (logged.length > 0) problems.push(`the server logged errors:\n${logged.join("\n")}`);
  if (problems.length > 0) fail(problems, sent);
}

/** Runs the property: RUNS runs, each a fresh world and up to MAX_STEPS operations. */
async function fuzz(f: Fuzzing): Promise<fc.RunDetails<[Step[][]]>> {
  const details = await fc.check(
    fc.asyncProperty(fc.array(moveArb, { minLength: 1, maxLength: MAX_STEPS, size: "max" }), async (moves) => {
      const seeding = performance.now();
      const world = await seedWorld(f.server);
      f.stats.runs++;
      f.stats.seedingMs += performance.now() - seeding;
      const sockets = new SocketPool(f.server);
      try {
        for (const move of moves) {
          if (move.length === 1) await runStep(f, world, sockets, move[0]!);
          else await runTogether(f, world, sockets, move);
        }
        // What the subscriptions kept open received: every event executed with a fuzzed selection.
        for (const { live, ...sent } of sockets.live) {
          live.stop();
          f.stats.liveSubscriptions++;
          f.stats.liveEvents += live.later.bodies.length;
          const problems = problemsOf(live.later, f.stats);
          if (problems.length > 0) fail(problems.map((problem) => `in what a subscription kept open received afterwards: ${problem}`), [{ ...sent, answer: live.later }]);
        }
      } finally {
        await sockets.close();
      }
    }),
    // Shrinking seeds a world per attempt: cap it, so a failure is reported (with the smallest
    // counterexample found so far) within the test's time, not after minutes of shrinking.
    { numRuns: RUNS, seed: f.seed, interruptAfterTimeLimit: SHRINK_DEADLINE_MS },
  );
  // What fc.assert would throw (seed, path, shrunk counterexample), with the failing request as the cause.
  if (details.failed) throw new Error(fc.defaultReportMessage(details), { cause: details.errorInstance });
  return details;
}

/** The server is alive and answers anonymous and signed-in queries. */
async function expectAlive(server: TestServer) {
  expect((await server.gql(`{ __typename }`)).data).toEqual({ __typename: "Query" });
  const someone = await signUpFrom(server, "alive");
  expect((await server.gql(`{ me { id } }`, {}, someone.token)).data).toEqual({ me: { id: someone.id } });
}

/** Every Query and Mutation field was called at least once: new operations are fuzzed, not skipped. */
function expectEveryFieldCalled(stats: Stats) {
  const called = new Set(stats.fields.keys());
  const missing = [...rootFields(schema, "query"), ...rootFields(schema, "mutation").map((f) => `mutation ${f}`)].filter((f) => !called.has(f));
  expect(missing, "root fields the fuzzer never called").toEqual([]);
}

describe.each([
  { label: "default rate limits", env: { ...DEFAULT_LIMITS_ENV }, seed: SEED },
  { label: "rate limits off", env: { RATE_LIMITS: "off", TRUST_PROXY_HOPS: "1" }, seed: SEED + 1 },
])("fuzzing every operation ($label)", ({ label, env, seed }) => {
  const f = { seed } as Fuzzing;

  beforeAll(async () => {
    f.database = await openTestPglite();
    f.server = await startTestServer({ database: f.database, env });
    f.stats = new Stats();
    await checkFingerprintCoversEveryTable(f.database);
    // The check must be able to fail: seeding a world (acks flushed) changes every table's fingerprint.
    const before = await fingerprint(f.database);
    await seedWorld(f.server);
    await f.server.app.services.acks.flush();
    const after = await fingerprint(f.database);
    expect(Object.keys(after).filter((table) => after[table] === before[table]), "tables whose fingerprint a write did not change").toEqual([]);
  }, 60_000);
  afterAll(() => f.server?.close());

  it("never answers with an internal error, never crashes, and writes nothing when it refuses", async () => {
    const started = performance.now();
    let details: fc.RunDetails<[Step[][]]> | undefined;
    try {
      details = await fuzz(f);
    } finally {
      const runs = details ? `${details.numRuns} of ${RUNS} runs${details.interrupted ? ` (cut short by FUZZ_DEADLINE_MS=${SHRINK_DEADLINE_MS})` : ""}` : "failed";
      console.log(f.stats.report(`${label}, seed ${seed}, ${runs}`, performance.now() - started));
    }
    // With the default runs every field is called some 25 times; a short FUZZ_RUNS may miss some.
    if (details!.numRuns >= 20) expectEveryFieldCalled(f.stats);
    await expectAlive(f.server);
  }, SHRINK_DEADLINE_MS + 30_000);
});
