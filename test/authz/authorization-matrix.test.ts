import type { Client } from "graphql-ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { schema } from "../../src/schema/index.js";
import type { Database } from "../../src/stores/prisma/database.js";
import { openTestPglite } from "../support/databases.js";
import { startTestServer, type GraphQLResponse, type TestServer } from "../support/server.js";
import { ENTRIES, KNOWN_BUGS, OPEN_FIELDS, type Case, type Ctx, type Entry, type Prepared } from "./expectations.js";
import { differences, fingerprint } from "./fingerprint.js";
import { ACTOR_NAMES, buildWorld, repairToken, socket, type ActorName, type World } from "./world.js";

/**
 * The authorization matrix (issue #10): every operation of the schema × every kind of caller
 * (world.ts), over HTTP and graphql-ws (subscriptions over graphql-ws and server-sent events),
 * against the expectations table (expectations.ts): each answer must be the expected outcome
 * (ALLOWED, or the refusal's error code), and a refused call must have written nothing (a
 * fingerprint of every table before and after; see fingerprint.ts).
 *
 * - The operations come from the schema the server runs: an operation without an entry in the
 *   table fails the first test, and so does a field of Guild, Channel or User that is neither
 *   listed as open nor has an entry (expectations.ts, OPEN_FIELDS).
 * - One world for the whole file; per case and transport, the cells the table says are refused
 *   run together between two fingerprints (queries and subscriptions: every cell, none may
 *   write); when they wrote, the world is rebuilt and they are run again one at a time to name
 *   the culprit. Then each allowed mutation runs alone, on targets its `prepare` made for it.
 * - A subscription is ALLOWED when the server subscribed it to its bus topic (the test waits for
 *   the topic's subscriber count to rise) and sent no error; refused when it answered with one.
 * - Rate limits are off (the test server's default): the matrix is about permissions.
 */

const ROOTS = { Query: schema.getQueryType()!, Mutation: schema.getMutationType()!, Subscription: schema.getSubscriptionType()! };
const OPERATIONS = Object.entries(ROOTS).flatMap(([name, type]) => Object.keys(type.getFields()).map((field) => `${name}.${field}`));
const ACTORS: readonly ActorName[] = ACTOR_NAMES;

function inSchema(operation: string): boolean {
  const [typeName, field] = operation.split(".") as [string, string];
  const type = schema.getType(typeName);
  return !!type && "getFields" in type && field in type.getFields();
}

type Kind = "query" | "mutation" | "subscription";
type Transport = "http" | "graphql-ws" | "sse";
const kindOf = (operation: string): Kind => (operation.startsWith("Subscription.") ? "subscription" : operation.startsWith("Mutation.") ? "mutation" : "query");

/** What came back: ALLOWED or an error code, the error's message, the data. */
interface Answer {
  outcome: string;
  message?: string;
  data?: any;
}

function answerOf(res: GraphQLResponse): Answer {
  const error = res.errors?.[0];
  if (error) return { outcome: String(error.extensions?.code ?? "NO_CODE"), message: error.message };
  if (res.data) return { outcome: "ALLOWED", data: res.data };
  return { outcome: "NO_ANSWER", message: JSON.stringify(res) };
}

/** An error a graphql-ws sink received, as a response: GraphQL errors, or a socket close. */
function socketError(error: unknown): GraphQLResponse {
  if (Array.isArray(error)) return { errors: error };
  if (error && typeof error === "object" && "code" in error) {
    const close = error as { code: number; reason?: string };
    return { errors: [{ message: `socket closed: ${close.code} ${close.reason ?? ""}`, extensions: { code: `CLOSED_${close.code}` } }] };
  }
  return { errors: [{ message: String(error), extensions: { code: "SOCKET_ERROR" } }] };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const SHORT: Record<string, string> = { ALLOWED: "OK", UNAUTHENTICATED: "UN", FORBIDDEN: "F", NOT_FOUND: "NF", BAD_USER_INPUT: "BAD", CONFLICT: "CONF" };

class Matrix {
  world!: World;
  private sockets = new Map<string, Client>();
  /** Outcome per row (operation and case), actor and transport, for the printed matrix. */
  readonly results = new Map<string, Map<ActorName, Map<Transport, { outcome: string; ok: boolean }>>>();
  readonly knownBugsSeen: string[] = [];
  cells = 0;
  worldsBuilt = 0;

  constructor(
    readonly server: TestServer,
    readonly database: Database,
  ) {}

  async rebuild(): Promise<void> {
    await this.closeSockets();
    this.world = await buildWorld(this.server);
    this.worldsBuilt++;
  }

  ctx(actor: ActorName): Ctx {
    return { server: this.server, w: this.world, actor, a: this.world.actors[actor] };
  }

  /** A graphql-ws client per token (one anonymous one), dropped when the server closes it. */
  client(token: string | undefined): Client {
    const key = token ?? "anonymous";
    let client = this.sockets.get(key);
    if (!client) {
      client = socket(this.server, token);
      const mine = client;
      client.on("closed", () => {
        if (this.sockets.get(key) === mine) this.sockets.delete(key);
      });
      this.sockets.set(key, client);
    }
    return client;
  }

  async dropClient(token: string | undefined): Promise<void> {
    const key = token ?? "anonymous";
    const client = this.sockets.get(key);
    this.sockets.delete(key);
    await client?.dispose();
  }

  async closeSockets(): Promise<void> {
    const clients = [...this.sockets.values()];
    this.sockets.clear();
    await Promise.all(clients.map((c) => c.dispose()));
  }

  async snapshot(): Promise<Record<string, string>> {
    await this.server.app.services.acks.flush();
    return fingerprint(this.database);
  }

  private subscriberCount(topic: string): number {
    const bus = this.server.app.services.bus as { subscriberCount?: (topic: string) => number };
    if (!bus.subscriberCount) throw new Error("the matrix needs a bus that counts subscribers");
    return bus.subscriberCount(topic);
  }

  private async countBackTo(topic: string, count: number): Promise<boolean> {
    const deadline = Date.now() + 3_000;
    while (this.subscriberCount(topic) > count) {
      if (Date.now() > deadline) return false;
      await sleep(5);
    }
    return true;
  }

  /** A query or mutation over graphql-ws: its first result (or error). */
  private overSocket(client: Client, query: string, variables: Record<string, unknown>): Promise<GraphQLResponse> {
    return new Promise((resolve) => {
      let done = false;
      const finish = (res: GraphQLResponse) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        resolve(res);
      };
      client.subscribe(
        { query, variables },
        {
          next: (value) => finish(value as GraphQLResponse),
          error: (error) => finish(socketError(error)),
          complete: () => finish({ errors: [{ message: "completed without a result", extensions: { code: "NO_ANSWER" } }] }),
        },
      );
      const timer = setTimeout(() => finish({ errors: [{ message: "no answer over graphql-ws in 10 s", extensions: { code: "NO_ANSWER" } }] }), 10_000);
    });
  }

  /**
   * Waits until a subscription answered (an error, an event, its end) or the server subscribed
   * it to `topic`; then stops it and waits until the topic is back to its earlier count.
   */
  private async watchSubscription(topic: string, before: number, start: (sink: { next: (r: GraphQLResponse) => void; end: () => void }) => () => void): Promise<Answer> {
    let first: GraphQLResponse | undefined;
    let ended = false;
    const stop = start({ next: (r) => void (first ??= r), end: () => void (ended = true) });
    let started = false;
    const deadline = Date.now() + 10_000;
    for (;;) {
      if (first || ended) break;
      if (this.subscriberCount(topic) > before) {
        started = true;
        // An access re-check right after subscribing would end it at once: give it the chance.
        await sleep(20);
        break;
      }
      if (Date.now() > deadline) break;
      await sleep(3);
    }
    stop();
    const cleaned = await this.countBackTo(topic, before);
    if (first) {
      const answer = answerOf(first);
      if (answer.outcome === "ALLOWED") return { outcome: "ALLOWED", data: answer.data };
      return cleaned ? answer : { ...answer, message: `${answer.message} (and its bus subscription stayed after it was refused)` };
    }
    if (started) return cleaned ? { outcome: "ALLOWED" } : { outcome: "LEAKED", message: "the subscription stayed subscribed after it was stopped" };
    if (ended) return { outcome: "ENDED", message: "the subscription ended without an answer" };
    return { outcome: "NO_ANSWER", message: `no error and no subscriber on ${topic} within 10 s` };
  }

  private subscribeOverSocket(token: string | undefined, query: string, variables: Record<string, unknown>, topic: string): Promise<Answer> {
    const client = this.client(token);
    return this.watchSubscription(topic, this.subscriberCount(topic), (sink) =>
      client.subscribe({ query, variables }, { next: (v) => sink.next(v as GraphQLResponse), error: (e) => sink.next(socketError(e)), complete: () => sink.end() }),
    );
  }

  private async subscribeOverSse(token: string | undefined, query: string, variables: Record<string, unknown>, topic: string): Promise<Answer> {
    // Counted before the request: the server may subscribe before its response headers arrive.
    const before = this.subscriberCount(topic);
    const abort = new AbortController();
    const res = await fetch(this.server.url, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "text/event-stream", ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify({ query, variables }),
      signal: abort.signal,
    });
    if (!res.headers.get("content-type")?.includes("text/event-stream")) {
      const text = await res.text();
      try {
        return answerOf(JSON.parse(text) as GraphQLResponse);
      } catch {
        return { outcome: `HTTP_${res.status}`, message: text.slice(0, 200) };
      }
    }
    return this.watchSubscription(topic, before, (sink) => {
      void (async () => {
        const decoder = new TextDecoder();
        let buffer = "";
        try {
          for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
            buffer += decoder.decode(chunk, { stream: true });
            let end;
            while ((end = buffer.indexOf("\n\n")) >= 0) {
              const block = buffer.slice(0, end);
              buffer = buffer.slice(end + 2);
              if (/^event: complete$/m.test(block)) sink.end();
              const data = block
                .split("\n")
                .filter((l) => l.startsWith("data:"))
                .map((l) => l.slice(5).trim())
                .join("\n");
              if (data && /^event: next$/m.test(block)) sink.next(JSON.parse(data) as GraphQLResponse);
            }
          }
          sink.end();
        } catch {
          // aborted
        }
      })();
      return () => abort.abort();
    });
  }

  /** Sends one cell's operation as `actor` over `transport`. */
  async send(entry: Entry, kase: Case, actor: ActorName, transport: Transport, prepared: Prepared): Promise<Answer> {
    this.cells++;
    const c = this.ctx(actor);
    const variables = kase.vars(c, prepared);
    const token = prepared.token ?? c.a.token;
    if (kindOf(entry.operation) === "subscription") {
      const topic = kase.topic!(c);
      return transport === "sse" ? this.subscribeOverSse(token, kase.document, variables, topic) : this.subscribeOverSocket(token, kase.document, variables, topic);
    }
    if (transport === "http") return answerOf(await this.server.gql(kase.document, variables, token));
    const answer = answerOf(await this.overSocket(this.client(token), kase.document, variables));
    if (prepared.token) await this.dropClient(prepared.token);
    return answer;
  }

  /** Compares a cell's answer with the table; returns the problem, if any. */
  judge(entry: Entry, kase: Case, actor: ActorName, transport: Transport, answer: Answer): string | null {
    const rowKey = `${entry.operation}${kase.name ? ` [${kase.name}]` : ""}`;
    const expected = kase.expect[actor];
    const bugKey = `${entry.operation}|${kase.name}|${actor}`;
    const known = KNOWN_BUGS[bugKey];
    let problem: string | null = null;
    if (answer.outcome !== expected) {
      if (known && known.actual === answer.outcome) this.knownBugsSeen.push(`${rowKey} as ${actor} over ${transport}: ${answer.outcome} instead of ${expected} (${known.bug})`);
      else problem = `expected ${expected}, got ${answer.outcome}${answer.message ? ` ("${answer.message}")` : ""}`;
    } else if (known) {
      problem = `fixed: the known bug is gone, remove "${bugKey}" from KNOWN_BUGS`;
    } else if (expected === "ALLOWED" && kase.check) {
      problem = kase.check(this.ctx(actor), answer.data);
    }
    let cells = this.results.get(rowKey);
    if (!cells) this.results.set(rowKey, (cells = new Map()));
    let byTransport = cells.get(actor);
    if (!byTransport) cells.set(actor, (byTransport = new Map()));
    byTransport.set(transport, { outcome: answer.outcome, ok: problem === null });
    return problem === null ? null : `${rowKey} as ${actor} over ${transport}: ${problem}`;
  }

  /** Renews the tokens an allowed cell may have revoked (the actor's, the bot's), and their sockets. */
  async repair(actors: ActorName[]): Promise<void> {
    for (const actor of actors) {
      const old = this.world.actors[actor].token;
      if (await repairToken(this.server, this.world, actor)) await this.dropClient(old);
    }
  }

  /** Runs one case over one transport (see the file's comment); returns the problems found. */
  async runCase(entry: Entry, kase: Case, transport: Transport): Promise<string[]> {
    const problems: string[] = [];
    const writes = kindOf(entry.operation) === "mutation";
    const together = ACTORS.filter((a) => !writes || kase.expect[a] !== "ALLOWED");
    const alone = writes ? ACTORS.filter((a) => kase.expect[a] === "ALLOWED") : [];

    const before = await this.snapshot();
    const firstPass: string[] = [];
    for (const actor of together) {
      const problem = this.judge(entry, kase, actor, transport, await this.send(entry, kase, actor, transport, {}));
      if (problem) firstPass.push(problem);
    }
    if (kase.settleMs) await sleep(kase.settleMs);
    const wrote = differences(before, await this.snapshot());
    if (wrote.length === 0) {
      problems.push(...firstPass);
    } else {
      // Some cell wrote (a refusal that was not one, or one that wrote anyway), and may have
      // broken the world for the cells after it: run them again one at a time, each judged anew
      // on an intact world, to name the culprit.
      await this.rebuild();
      let named = false;
      for (const actor of together) {
        const b = await this.snapshot();
        const answer = await this.send(entry, kase, actor, transport, {});
        const problem = this.judge(entry, kase, actor, transport, answer);
        if (kase.settleMs) await sleep(kase.settleMs);
        const d = differences(b, await this.snapshot());
        if (problem) problems.push(problem);
        if (d.length > 0) {
          named = true;
          problems.push(`${entry.operation}${kase.name ? ` [${kase.name}]` : ""} as ${actor} over ${transport} (${answer.outcome}) wrote:\n      ${d.join("\n      ")}`);
          await this.rebuild();
        }
      }
      if (!named) problems.push(`the cells run together wrote, but none alone did:\n      ${wrote.join("\n      ")}`, ...firstPass);
    }

    for (const actor of alone) {
      const c = this.ctx(actor);
      const prepared = kase.prepare ? await kase.prepare(c) : {};
      const answer = await this.send(entry, kase, actor, transport, prepared);
      const problem = this.judge(entry, kase, actor, transport, answer);
      if (problem) problems.push(problem);
      if (answer.outcome === "ALLOWED" && kase.undo) await kase.undo(this.ctx(actor), prepared, answer.data);
      if (kase.revokes) await this.repair(actor === "bot" ? ["bot"] : [actor, "bot"]);
    }
    return problems;
  }

  /** The matrix as text: a row per operation and case, a column per actor; `*` marks a cell that disagrees with the table. */
  print(): string {
    const width = Math.max(...[...this.results.keys()].map((k) => k.length)) + 2;
    const col = 10;
    const header = "".padEnd(width) + ACTORS.map((a) => a.slice(0, col - 1).padEnd(col)).join("");
    const lines = [...this.results.entries()].map(([rowKey, cells]) => {
      const text = ACTORS.map((actor) => {
        const byTransport = cells.get(actor);
        if (!byTransport) return "-".padEnd(col);
        const outcomes = [...new Set([...byTransport.values()].map((r) => SHORT[r.outcome] ?? r.outcome))].join("|");
        const bad = [...byTransport.values()].some((r) => !r.ok);
        return `${outcomes}${bad ? "*" : ""}`.padEnd(col);
      }).join("");
      return rowKey.padEnd(width) + text;
    });
    return [header, ...lines].join("\n");
  }
}

describe("authorization matrix (issue #10)", () => {
  let matrix: Matrix;
  const started = performance.now();

  beforeAll(async () => {
    const database = await openTestPglite();
    // Bots are created per cell (resetBotToken targets, cloned bots): more than the default cap.
    const server = await startTestServer({ database, warmUp: true, env: { MAX_BOTS_PER_USER: "1000", ANONYMOUS_SOCKET_IDLE_MS: "600000" } });
    matrix = new Matrix(server, database);
    await matrix.rebuild();
  }, 120_000);

  afterAll(async () => {
    if (!matrix) return;
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    console.log(
      `authorization matrix: ${matrix.cells} cells (${ACTIVE.length} operations and fields, ${ACTIVE.reduce((n, e) => n + e.cases.length, 0)} cases, ${ACTORS.length} actors) in ${seconds} s, ${matrix.worldsBuilt} world(s) built\n` +
        `OK allowed, UN unauthenticated, F forbidden, NF not found, BAD bad user input, CONF conflict; a|b: HTTP and graphql-ws (or graphql-ws and SSE) differ; * disagrees with the table\n` +
        matrix.print() +
        (matrix.knownBugsSeen.length ? `\nknown bugs (KNOWN_BUGS):\n  ${matrix.knownBugsSeen.join("\n  ")}` : ""),
    );
    await matrix.closeSockets();
    await matrix.server.close();
  });

  it("has an entry for every operation of the schema, and none for operations it does not have", () => {
    const covered = new Set(ENTRIES.map((e) => e.operation));
    const missing = OPERATIONS.filter((op) => !covered.has(op));
    expect(missing, "operations of the schema without an entry in test/authz/expectations.ts: add one, with the outcome of every actor").toEqual([]);
    const stale = ENTRIES.filter((e) => !inSchema(e.operation) && !e.upcoming).map((e) => e.operation);
    expect(stale, "entries for operations the schema does not have").toEqual([]);
    for (const entry of ENTRIES) {
      for (const kase of entry.cases) {
        expect(Object.keys(kase.expect).sort(), `${entry.operation} [${kase.name}] must give every actor an outcome`).toEqual([...ACTOR_NAMES].sort());
        if (kindOf(entry.operation) === "subscription") expect(kase.topic, `${entry.operation} [${kase.name}] needs a topic`).toBeDefined();
      }
    }
  });

  it("classifies every field of Guild, Channel and User: open to whoever reads the object, or an entry of its own", () => {
    const covered = new Set(ENTRIES.map((e) => e.operation));
    const unclassified = Object.entries(OPEN_FIELDS).flatMap(([typeName, open]) => {
      const type = schema.getType(typeName) as { getFields(): Record<string, unknown> };
      return Object.keys(type.getFields())
        .filter((field) => !open.includes(field) && !covered.has(`${typeName}.${field}`))
        .map((field) => `${typeName}.${field}`);
    });
    expect(unclassified, "fields without an entry in test/authz/expectations.ts: give them one, or list them in OPEN_FIELDS if whoever reads the object may read them").toEqual([]);
  });

  const ACTIVE = ENTRIES.filter((e) => inSchema(e.operation));
  for (const entry of ACTIVE) {
    const transports: Transport[] = kindOf(entry.operation) === "subscription" ? ["graphql-ws", "sse"] : ["http", "graphql-ws"];
    for (const transport of transports) {
      it(`${entry.operation} over ${transport}`, async () => {
        const problems: string[] = [];
        for (const kase of entry.cases) problems.push(...(await matrix.runCase(entry, kase, transport)));
        expect(problems, problems.join("\n")).toEqual([]);
      }, 120_000);
    }
  }
});
