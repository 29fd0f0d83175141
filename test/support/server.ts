import { createClient, type Client } from "graphql-ws";
import { Kind, parse, print, visit, type FieldNode } from "graphql";
import { expect } from "vitest";
import WebSocket from "ws";
import { createApp, type App } from "../../src/app.js";
import { loadConfig } from "../../src/config.js";
import { createLogger } from "../../src/logger.js";
import type { Database } from "../../src/stores/prisma/database.js";
import { openTestPglite } from "./databases.js";

export interface GraphQLResponse<T = any> {
  data?: T | null;
  errors?: { message: string; path?: string[]; extensions?: { code?: string; field?: string; [key: string]: unknown } }[];
}

export interface TestServer {
  app: App;
  url: string;
  wsUrl: string;
  /** POSTs one operation; `token` becomes `Authorization: Bearer <token>`. */
  gql<T = any>(query: string, variables?: Record<string, unknown>, token?: string): Promise<GraphQLResponse<T>>;
  /** Like gql, but fails the test on any error and returns `data`. */
  ok<T = any>(query: string, variables: Record<string, unknown>, token: string): Promise<T>;
  /** A graphql-ws client authenticated with `token` (closed by `close()`). */
  ws(token?: string, connectionParams?: Record<string, unknown>): Client;
  /** Registers a user with a unique name and returns their token and id. */
  signUp(prefix?: string): Promise<{ token: string; id: string; username: string }>;
  /** Every line the server logged so far (warn and above), so a test can tie a logged error to the request that caused it. */
  readonly logs: readonly string[];
  close(): Promise<void>;
}

let counter = 0;

/**
 * Starts a real Concord server on an ephemeral port, on a fresh embedded database (or the one
 * given), with the cheapest password hashing the config allows so tests stay fast.
 */
export async function startTestServer(
  options: { database?: Database; env?: Record<string, string>; warmUp?: boolean } = {},
): Promise<TestServer> {
  const database = options.database ?? (await openTestPglite());
  // Tests sign up many users from one address: rate limits only where a test turns them on.
  const config = loadConfig({ PORT: "0", HOST: "127.0.0.1", PASSWORD_HASH_COST: "10", LOG_LEVEL: "error", RATE_LIMITS: "off", ...options.env });
  const logs: string[] = [];
  const app = await createApp(config, { database, logger: createLogger("warn", (line) => logs.push(line)) });
  await app.start();
  const url = `http://127.0.0.1:${app.port}/graphql`;
  const wsUrl = url.replace("http", "ws");
  const clients: Client[] = [];

  const server: TestServer = {
    app,
    url,
    wsUrl,
    logs,
    async gql(query, variables, token) {
      const res = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify({ query, variables }),
      });
      return (await res.json()) as GraphQLResponse;
    },
    async ok(query, variables, token) {
      const res = await server.gql(query, variables, token);
      expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
      return res.data;
    },
    ws(token, connectionParams) {
      const client = createClient({
        url: wsUrl,
        webSocketImpl: WebSocket,
        lazy: false,
        retryAttempts: 0,
        connectionParams: connectionParams ?? (token ? { authorization: `Bearer ${token}` } : {}),
        // A socket the server closes (4401 after a logout, for one) ends its subscriptions with
        // an error, which tests assert; the client need not also print the close event.
        onNonLazyError: () => {},
      });
      clients.push(client);
      return client;
    },
    async signUp(prefix = "user") {
      const username = `${prefix}_${process.pid}_${++counter}`;
      const res = await server.gql(`mutation($u: String!) { register(input: { username: $u, password: "correct horse" }) { token user { id } } }`, { u: username });
      if (!res.data) throw new Error(`signUp failed: ${JSON.stringify(res.errors)}`);
      return { token: res.data.register.token, id: res.data.register.user.id, username };
    },
    async close() {
      await Promise.all(clients.map((c) => c.dispose()));
      await app.stop();
      const unexpected = logs.filter((line) => line.includes('"level":"error"'));
      if (unexpected.length > 0) throw new Error(`the server logged errors:\n${unexpected.join("\n")}`);
    },
  };
  if (options.warmUp) {
    // Run the common code paths once here, under the hook timeout, not in a file's first test.
    const warm = await server.signUp("warmup");
    await server.gql(`mutation { createGuild(input: { name: "Warm Up" }) { id } }`, {}, warm.token);
  }
  return server;
}

/** A live subscription collecting what it receives. */
export interface Subscription<T = any> {
  /** Every `next` payload so far, except the first one, `Subscribed` (see `subscribed`). */
  received: GraphQLResponse<T>[];
  /**
   * Resolves with the cursor of the server's `Subscribed` event: the subscription is live from
   * then on. (The helper asks for it under an alias of its own and keeps it out of `received`.)
   */
  subscribed: Promise<string>;
  /** Resolves when at least `count` payloads arrived (rejects after `timeoutMs`). */
  waitFor(count: number, timeoutMs?: number): Promise<GraphQLResponse<T>[]>;
  /** Resolves when the server completed the subscription. */
  completed: Promise<void>;
  /** Stops it from the client side. */
  unsubscribe(): void;
}

/** The alias under which the helper reads each event's type and cursor, invisible to the tests. */
const SEEN = "__helperType";
const SEEN_CURSOR = "__helperCursor";

/**
 * The operation with `__helperType: __typename` and `__helperCursor: cursor` on its root field
 * (to spot Subscribed); unchanged if it does not parse (a test of syntax errors).
 */
export function withTypename(query: string): string {
  let document;
  try {
    document = parse(query);
  } catch {
    return query;
  }
  let done = false;
  const edited = visit(document, {
    OperationDefinition(node) {
      if (node.operation !== "subscription" || done) return undefined;
      done = true;
      const [root, ...rest] = node.selectionSet.selections;
      if (!root || root.kind !== Kind.FIELD || !root.selectionSet) return undefined;
      const extra: FieldNode[] = [
        { kind: Kind.FIELD, alias: { kind: Kind.NAME, value: SEEN }, name: { kind: Kind.NAME, value: "__typename" } },
        { kind: Kind.FIELD, alias: { kind: Kind.NAME, value: SEEN_CURSOR }, name: { kind: Kind.NAME, value: "cursor" } },
      ];
      // Spread on the interface: valid on every event union.
      const fragment = { kind: Kind.INLINE_FRAGMENT, typeCondition: { kind: Kind.NAMED_TYPE, name: { kind: Kind.NAME, value: "LiveEvent" } }, selectionSet: { kind: Kind.SELECTION_SET, selections: extra } } as const;
      return { ...node, selectionSet: { ...node.selectionSet, selections: [{ ...root, selectionSet: { ...root.selectionSet, selections: [...root.selectionSet.selections, fragment] } }, ...rest] } };
    },
  });
  return print(edited);
}

/** Removes the helper's fields from a payload; returns the event's type and cursor. */
export function strip(value: GraphQLResponse): { type?: string; cursor?: string } {
  const data = value.data as Record<string, Record<string, unknown> | null> | null | undefined;
  const root = data ? Object.values(data)[0] : undefined;
  if (!root || typeof root !== "object") return {};
  const seen = { type: root[SEEN] as string | undefined, cursor: root[SEEN_CURSOR] as string | undefined };
  delete root[SEEN];
  delete root[SEEN_CURSOR];
  return seen;
}

/** Subscribes and resolves once the server has accepted the operation (first-ack handshake aside). */
export function subscribe<T = any>(client: Client, query: string, variables?: Record<string, unknown>): Subscription<T> {
  const received: GraphQLResponse<T>[] = [];
  let onSubscribed!: (cursor: string) => void;
  let notSubscribed!: (error: unknown) => void;
  const subscribed = new Promise<string>((resolve, reject) => ((onSubscribed = resolve), (notSubscribed = reject)));
  subscribed.catch(() => {});
  const waiters: { count: number; resolve: () => void }[] = [];
  let onComplete!: () => void;
  let onError!: (e: unknown) => void;
  const completed = new Promise<void>((resolve, reject) => ((onComplete = resolve), (onError = reject)));
  completed.catch(() => {});
  const unsubscribe = client.subscribe<T>(
    { query: withTypename(query), variables },
    {
      next: (value) => {
        const seen = strip(value as GraphQLResponse);
        if (seen.type === "Subscribed") return onSubscribed(seen.cursor ?? "");
        received.push(value as GraphQLResponse<T>);
        for (const w of [...waiters]) if (received.length >= w.count) (waiters.splice(waiters.indexOf(w), 1), w.resolve());
      },
      error: (error) => {
        notSubscribed(new Error(`the subscription failed before Subscribed: ${JSON.stringify(error)}`));
        onError(error);
      },
      complete: () => onComplete(),
    },
  );
  return {
    received,
    subscribed,
    completed,
    unsubscribe,
    waitFor(count, timeoutMs = 5_000) {
      if (received.length >= count) return Promise.resolve(received);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`waited ${timeoutMs} ms for ${count} events, got ${received.length}: ${JSON.stringify(received)}`)), timeoutMs);
        waiters.push({ count, resolve: () => (clearTimeout(timer), resolve(received)) });
      });
    },
  };
}

/** Lets in-flight socket traffic land (subscriptions register asynchronously on the server). */
export const settle = (ms = 150) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Waits until the server has at least `count` live subscriptions on a topic such as
 * `channel:123`: graphql-ws does not acknowledge a subscription, and the bus is at-most-once, so
 * a test that sends before the server subscribed would rightly miss the event.
 */
export async function waitForSubscribers(server: TestServer, topic: string, count = 1, timeoutMs = 5_000): Promise<void> {
  const bus = server.app.services.bus as { subscriberCount?: (topic: string) => number };
  if (!bus.subscriberCount) throw new Error("waitForSubscribers needs a bus that counts subscribers");
  const deadline = Date.now() + timeoutMs;
  while (bus.subscriberCount(topic) < count) {
    if (Date.now() > deadline) throw new Error(`no ${count} subscribers on ${topic} after ${timeoutMs} ms (have ${bus.subscriberCount(topic)})`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
