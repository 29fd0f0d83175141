import http from "node:http";
import type { AddressInfo } from "node:net";
import type { DocumentNode } from "graphql";
import { _createLRUCache, createSchema, createYoga, type Plugin, type YogaServerInstance } from "graphql-yoga";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { assertShortcutRunsEveryHook, createJsonPostHandler, regularMediaTypeFor } from "../../src/gateway/json-post.js";
import net from "node:net";
import type { PersistedQueries } from "../../src/gateway/persisted-queries.js";
import type { InitialContext } from "../../src/gateway/websocket-gateway.js";
import { createLogger } from "../../src/logger.js";

describe("regularMediaTypeFor (yoga's choice for a single result)", () => {
  it.each([
    [undefined, "application/json"],
    ["", "application/json"],
    ["*/*", "application/json"],
    ["application/*", "application/json"],
    ["application/json", "application/json"],
    ["application/graphql-response+json", "application/graphql-response+json"],
    ["application/graphql-response+json, application/json;q=0.9", "application/graphql-response+json"],
    ["application/json, application/graphql-response+json", "application/json"],
    ["text/html, application/graphql-response+json", "application/graphql-response+json"],
    ["Application/JSON; charset=UTF-8", "application/json"],
    ["application/json; charset=iso-8859-1", null],
    ["text/html", null],
    ["text/event-stream", null],
    ["multipart/mixed", null],
  ])("Accept %j: %j", (accept, expected) => {
    expect(regularMediaTypeFor(accept)).toBe(expected);
  });
});

describe("createJsonPostHandler", () => {
  const taken = { shortcut: 0, yoga: 0, handedOverBodies: [] as unknown[] };
  const logged: string[] = [];
  let url: string;
  let server: http.Server;
  beforeAll(async () => {
    const documents = _createLRUCache<DocumentNode>();
    const yoga = createYoga<InitialContext>({
      parserAndValidationCache: { documentCache: documents },
      schema: createSchema({
        typeDefs: "type Query { hello(name: String): String, fail: String } type Mutation { shout(text: String!): String } type Subscription { ticks: Int }",
        resolvers: {
          Query: { hello: (_: unknown, { name }: { name?: string }) => `hi ${name ?? "you"}`, fail: () => Promise.reject(new Error("secret")) },
          Mutation: { shout: (_: unknown, { text }: { text: string }) => text.toUpperCase() },
          Subscription: { ticks: { subscribe: async function* () { yield { ticks: 1 }; } } },
        },
      }),
      logging: false,
      // The answer's headers and status travel in extensions.http, as the rate-limit plugin sends them.
      plugins: [{ onExecute: () => ({ onExecuteDone: ({ result, setResult }) => setResult({ ...result, extensions: { http: { headers: { "X-Seen": "yes" } } } } as typeof result) }) } satisfies Plugin],
    }) as unknown as YogaServerInstance<InitialContext, {}>;
    const counting = {
      fetchAPI: yoga.fetchAPI,
      getResultForParams: (...args: Parameters<typeof yoga.getResultForParams>) => (taken.shortcut++, yoga.getResultForParams(...args)),
      requestListener: (req: http.IncomingMessage, res: http.ServerResponse) => {
        taken.yoga++;
        taken.handedOverBodies.push((req as { body?: unknown }).body);
        return yoga.requestListener(req, res);
      },
    } as unknown as YogaServerInstance<InitialContext, {}>;
    // Persisted queries, reduced to what the shortcut asks: hash "known" names a document, "new" with text is a registration, others are refused.
    type Sent = { query?: string; extensions?: { persistedQuery?: { sha256Hash?: string } } | null };
    const persisted = {
      concerns: (params: Sent) => params.extensions?.persistedQuery !== undefined,
      resolve: async (params: Sent) => {
        const hash = params.extensions?.persistedQuery?.sha256Hash;
        if (hash === "known") return { params: { query: "{ hello(name: \"known\") }" } };
        if (hash === "new" && params.query) return { params: { query: params.query }, registration: { hash, query: params.query } };
        throw new Error("PersistedQueryNotFound");
      },
    } as unknown as PersistedQueries;
    const handler = createJsonPostHandler({ yoga: counting, path: "/graphql", persisted, documents, logger: createLogger("error", (line) => logged.push(line)) });
    server = http.createServer((req, res) => {
      if (!handler(req, res)) void counting.requestListener(req, res);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
  beforeEach(() => {
    taken.shortcut = 0;
    taken.yoga = 0;
    taken.handedOverBodies = [];
  });

  const post = async (body: string, headers: Record<string, string> = {}) => {
    const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json", ...headers }, body });
    return { status: res.status, type: res.headers.get("content-type"), seen: res.headers.get("x-seen"), length: res.headers.get("content-length"), body: await res.text() };
  };

  it("answers a query itself: status, the media type asked for, headers from extensions.http, and a body without them", async () => {
    const answer = await post(JSON.stringify({ query: "query($n: String) { hello(name: $n) }", variables: { n: "ada" } }), { accept: "application/graphql-response+json" });
    expect(answer).toEqual({ status: 200, type: "application/graphql-response+json; charset=utf-8", seen: "yes", length: String(answer.body.length), body: '{"data":{"hello":"hi ada"}}' });
    expect(taken).toEqual({ shortcut: 1, yoga: 0, handedOverBodies: [] });
  });

  it("answers a mutation itself, and an answer with errors through yoga's own result processor (masked)", async () => {
    expect((await post(JSON.stringify({ query: 'mutation { shout(text: "hey") }' }))).body).toBe('{"data":{"shout":"HEY"}}');
    const failed = await post(JSON.stringify({ query: "{ fail }" }));
    expect(failed.status).toBe(200);
    expect(JSON.parse(failed.body).errors[0].message).toBe("Unexpected error.");
    expect(taken.shortcut).toBe(2);
    expect(taken.yoga).toBe(0);
  });

  it("answers a long document (a large comment, few tokens) itself", async () => {
    const answer = await post(JSON.stringify({ query: `# ${"x".repeat(20_000)}\n{ hello }` }));
    expect(answer.body).toBe('{"data":{"hello":"hi you"}}');
    expect(taken).toEqual({ shortcut: 1, yoga: 0, handedOverBodies: [] });
  });

  it("answers a persisted query found by its hash itself", async () => {
    const answer = await post(JSON.stringify({ extensions: { persistedQuery: { version: 1, sha256Hash: "known" } } }));
    expect(answer.body).toBe('{"data":{"hello":"hi known"}}');
    expect(taken).toEqual({ shortcut: 1, yoga: 0, handedOverBodies: [] });
  });

  it.each([
    ["invalid JSON", '{"query": '],
    ["a batch", JSON.stringify([{ query: "{ hello }" }])],
    ["an unknown field", JSON.stringify({ query: "{ hello }", other: 1 })],
    ["a query that is not a string", JSON.stringify({ query: 1 })],
    ["variables that are not an object", JSON.stringify({ query: "{ hello }", variables: "{}" })],
    ["a persisted query the store refuses", JSON.stringify({ extensions: { persistedQuery: { version: 1, sha256Hash: "ab" } } })],
    ["a persisted query sent to be registered", JSON.stringify({ query: "{ hello }", extensions: { persistedQuery: { version: 1, sha256Hash: "new" } } })],
    ["a syntax error", JSON.stringify({ query: "{ hello" })],
    ["an operation name the document lacks", JSON.stringify({ query: "query A { hello }", operationName: "B" })],
    ["a subscription", JSON.stringify({ query: "subscription { ticks }" })],
    ["a @defer", JSON.stringify({ query: "{ ... @defer { hello } }" })],
    ["a document over the token limit", JSON.stringify({ query: `{ ${"hello ".repeat(2_001)}}` })],
    ["an empty body", ""],
  ])("hands %s over to yoga with the body it read", async (_name, body) => {
    await post(body, { accept: "application/json" });
    expect(taken).toEqual({ shortcut: 0, yoga: 1, handedOverBodies: [body] });
  });

  it("leaves other requests to yoga untouched: other content types, Accept headers no JSON type meets, other paths and methods", async () => {
    const body = JSON.stringify({ query: "{ hello }" });
    await post(body, { "content-type": "application/graphql+json" });
    await post(body, { "content-type": "text/plain" });
    await post(body, { accept: "text/event-stream" });
    await fetch(url + "?query=%7Bhello%7D");
    await fetch(url.replace("/graphql", "/graphql/"), { method: "POST", headers: { "content-type": "application/json" }, body });
    expect(taken).toEqual({ shortcut: 0, yoga: 5, handedOverBodies: [undefined, undefined, undefined, undefined, undefined] });
  });

  it("a client that leaves mid-body costs nothing more: no operation, no error", async () => {
    const { port } = server.address() as AddressInfo;
    const socket = net.connect(port, "127.0.0.1");
    await new Promise((resolve) => socket.once("connect", resolve));
    socket.write("POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"query\": ");
    await new Promise((resolve) => setTimeout(resolve, 50));
    socket.destroy();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(taken).toEqual({ shortcut: 0, yoga: 0, handedOverBodies: [] });
    expect(logged).toEqual([]);
  });
});

describe("assertShortcutRunsEveryHook", () => {
  it("refuses a plugin with a hook the shortcut skips, and passes envelop hooks and instrumentation", () => {
    expect(() => assertShortcutRunsEveryHook([{ onExecute() {} }, { onParams() {} }, { onValidate() {} }, { instrumentation: { execute: () => {}, subscribe: () => {} } }])).not.toThrow();
    for (const hook of ["onRequest", "onRequestParse", "onResultProcess", "onResponse"]) {
      expect(() => assertShortcutRunsEveryHook([{ onExecute() {} }, { [hook]: () => {} }]), hook).toThrow(hook);
    }
    for (const hook of ["request", "requestParse", "operation", "resultProcess"]) {
      expect(() => assertShortcutRunsEveryHook([{ instrumentation: { execute: () => {}, [hook]: () => {} } }]), hook).toThrow(`instrumentation.${hook}`);
    }
  });
});
