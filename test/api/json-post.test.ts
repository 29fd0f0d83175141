import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { persistedQuery } from "../support/persisted-queries.js";
import { startTestServer, type TestServer } from "../support/server.js";

/**
 * POST /graphql with `Content-Type: application/json` is served by gateway/json-post.ts, beside
 * yoga's Fetch pipeline. yoga takes `application/graphql+json` bodies exactly as it takes JSON
 * ones, and json-post.ts leaves those to it, so sending one request both ways and comparing the
 * answers shows the shortcut answers as yoga would: status, headers, body.
 */

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Headers that differ between any two responses (or that Node adds on its own). */
const VARYING = new Set(["date", "x-request-id", "connection", "keep-alive", "x-ratelimit-remaining", "x-ratelimit-reset-after"]);

async function post(url: string, contentType: string, body: string, headers: Record<string, string>): Promise<Answer> {
  const res = await fetch(url, { method: "POST", headers: { "content-type": contentType, ...headers }, body });
  const kept: Record<string, string> = {};
  res.headers.forEach((value, name) => {
    if (!VARYING.has(name)) kept[name] = value;
  });
  return { status: res.status, headers: kept, body: await res.text() };
}

describe("POST /graphql with a JSON body answers as yoga does", () => {
  let server: TestServer;
  let token: string;
  let channelId: string;
  beforeAll(async () => {
    server = await startTestServer({ env: { RATE_LIMITS: "on" } });
    const owner = await server.signUp("jsonpost");
    token = owner.token;
    const guild = await server.ok<{ createGuild: { channels: { id: string }[] } }>(`mutation { createGuild(input: { name: "Shortcut" }) { channels { id } } }`, {}, token);
    channelId = guild.createGuild.channels[0]!.id;
  });
  afterAll(() => server?.close());

  /** The same request through the shortcut and through yoga. */
  async function both(body: string, headers: Record<string, string> = {}): Promise<[Answer, Answer]> {
    const auth = { authorization: `Bearer ${token}`, ...headers };
    return [await post(server.url, "application/json", body, auth), await post(server.url, "application/graphql+json", body, auth)];
  }

  const cases: [name: string, body: unknown, headers?: Record<string, string>][] = [
    ["a query", { query: `query Me { me { username } }` }],
    ["a query with variables and a chosen operation", { query: `query A($id: ID!) { channel(id: $id) { name } } query B { me { id } }`, variables: { id: "0" }, operationName: "A" }],
    ["extensions and null fields", { query: `{ me { username } }`, variables: null, operationName: null, extensions: { client: "test" } }],
    ["a validation error, application/json", { query: `{ me { nope } }` }, { accept: "application/json" }],
    ["a validation error, graphql-response+json", { query: `{ me { nope } }` }, { accept: "application/graphql-response+json" }],
    ["a validation error, no Accept", { query: `{ me { nope } }` }],
    ["a validation error, */*", { query: `{ me { nope } }` }, { accept: "*/*" }],
    ["Accept lists both, graphql-response+json first", { query: `{ me { nope } }` }, { accept: "application/graphql-response+json, application/json;q=0.9" }],
    ["Accept with a charset yoga does not serve", { query: `{ me { username } }` }, { accept: "application/json; charset=iso-8859-1" }],
    ["Accept text/html only", { query: `{ me { username } }` }, { accept: "text/html" }],
    ["a syntax error", { query: `{ me { ` }],
    ["an unknown operation name", { query: `query A { me { id } }`, operationName: "B" }],
    ["a bad variable", { query: `query($id: ID!) { channel(id: $id) { name } }`, variables: { id: { no: 1 } } }],
    ["a resolver's coded error", { query: `query($id: ID!) { channel(id: $id) { name } }`, variables: { id: "123456789" } }],
    ["an unknown field in the body", { query: `{ me { id } }`, mutation: true }],
    ["variables as a string", { query: `{ me { id } }`, variables: "{}" }],
    ["no query", { variables: {} }],
    ["a batch", [{ query: `{ me { id } }` }]],
    ["a number", 7],
    ["null", null],
    ["a subscription", { query: `subscription { userEvents { __typename } }` }, { accept: "application/json" }],
    ["a document over the token limit", { query: `{ ${"me { id } ".repeat(700)}}` }],
    ["a @defer query", { query: `{ me { id ... @defer { username } } }` }, { accept: "application/json" }],
  ];
  for (const [name, body, headers] of cases) {
    it(name, async () => {
      const [shortcut, yoga] = await both(JSON.stringify(body), headers);
      expect(shortcut).toEqual(yoga);
    });
  }

  it("automatic persisted queries: an unknown hash, a registration, then the hash alone", async () => {
    const query = `query Persisted { me { username } }`;
    const hashOnly = JSON.stringify({ extensions: persistedQuery(query) });
    // Each way has its own document: the first request of each must find nothing.
    const other = `query Persisted2 { me { username } }`;
    const [notFound, notFoundByYoga] = [await post(server.url, "application/json", hashOnly, {}), await post(server.url, "application/graphql+json", JSON.stringify({ extensions: persistedQuery(other) }), {})];
    expect(notFound.status).toBe(notFoundByYoga.status);
    expect(JSON.parse(notFound.body).errors[0].extensions.code).toBe("PERSISTED_QUERY_NOT_FOUND");
    expect(JSON.parse(notFound.body)).toEqual(JSON.parse(notFoundByYoga.body));
    for (const [text, contentType] of [[query, "application/json"], [other, "application/graphql+json"]] as const) {
      const registered = await post(server.url, contentType, JSON.stringify({ query: text, extensions: persistedQuery(text) }), { authorization: `Bearer ${token}` });
      expect(JSON.parse(registered.body).data.me.username).toMatch(/^jsonpost_/);
    }
    // Registration is fire and forget: wait until each hash alone is served.
    const byHash = async (text: string, contentType: string) => {
      for (let tries = 0; ; tries++) {
        const answer = await post(server.url, contentType, JSON.stringify({ extensions: persistedQuery(text) }), { authorization: `Bearer ${token}` });
        if (answer.status === 200 && !answer.body.includes("PERSISTED_QUERY_NOT_FOUND")) return answer;
        if (tries > 50) throw new Error(answer.body);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    };
    expect(await byHash(query, "application/json")).toEqual(await byHash(other, "application/graphql+json"));
  });

  it("an empty body", async () => {
    const [shortcut, yoga] = await both("");
    expect(shortcut.status).toBe(400);
    expect(shortcut).toEqual(yoga);
  });

  it("invalid JSON", async () => {
    const [shortcut, yoga] = await both(`{"query": "{ me { id } }"`);
    expect(shortcut.status).toBe(400);
    expect(shortcut).toEqual(yoga);
  });

  it("a mutation: the same status, rate-limit headers and shape of answer", async () => {
    const body = (n: number) => JSON.stringify({ query: `mutation($c: ID!, $t: String!) { sendMessage(input: { channelId: $c, content: $t }) { content } }`, variables: { c: channelId, t: `hello ${n}` } });
    const shortcut = await post(server.url, "application/json", body(1), { authorization: `Bearer ${token}` });
    const yoga = await post(server.url, "application/graphql+json", body(1), { authorization: `Bearer ${token}` });
    expect(shortcut).toEqual(yoga);
    expect(shortcut.status).toBe(200);
    expect(shortcut.headers["x-ratelimit-bucket"]).toBeDefined();
    expect(JSON.parse(shortcut.body)).toEqual({ data: { sendMessage: { content: "hello 1" } } });
  });

  it("a request without credentials", async () => {
    const body = JSON.stringify({ query: `{ me { id } }` });
    expect(await post(server.url, "application/json", body, {})).toEqual(await post(server.url, "application/graphql+json", body, {}));
  });
});
