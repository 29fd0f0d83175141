import { ApolloClient, HttpLink, InMemoryCache, gql } from "@apollo/client";
import { PersistedQueryLink } from "@apollo/client/link/persisted-queries";
import { GraphQLWsLink } from "@apollo/client/link/subscriptions";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { codes, getOperation, overSocket, persistedQuery, postOperation, sha256 } from "../support/persisted-queries.js";
import type { Database } from "../../src/stores/prisma/database.js";
import { openTestPglite } from "../support/databases.js";
import { startTestServer, type TestServer } from "../support/server.js";

/**
 * Automatic persisted queries (Apollo's APQ protocol) against a real server: raw requests over
 * POST, GET and graphql-ws, and Apollo Client's own PersistedQueryLink, showing the miss, the
 * registration and the hit; the query limits apply to a persisted document as to any other.
 */

let server: TestServer;
let database: Database;
let ada: { token: string; id: string };
/** Each test's documents are its own: the server's store outlives a test. */
let unique = 0;
const fresh = (body: string) => `query Q${++unique}${Date.now()} ${body}`;

beforeAll(async () => {
  database = await openTestPglite();
  server = await startTestServer({ database });
  ada = await server.signUp("apq");
});
afterAll(async () => {
  await server?.close();
});

describe("APQ over HTTP", () => {
  it("POST: a hash alone is PersistedQueryNotFound (404); the hash with its text runs and registers it; then the hash alone runs", async () => {
    const query = fresh("{ me { id username } }");
    const miss = await postOperation(server.url, { extensions: persistedQuery(query) }, ada.token);
    expect(miss.status).toBe(404);
    expect(miss.body.errors).toEqual([{ message: "PersistedQueryNotFound", extensions: { code: "PERSISTED_QUERY_NOT_FOUND" } }]);

    const register = await postOperation(server.url, { query, extensions: persistedQuery(query) }, ada.token);
    expect(register).toEqual({ status: 200, body: { data: { me: { id: ada.id, username: expect.any(String) } } } });

    const hit = await postOperation(server.url, { extensions: persistedQuery(query) }, ada.token);
    expect(hit).toEqual(register);
  });

  it("POST: mutations too, with their variables", async () => {
    const mutation = `mutation Create${++unique}($n: String!) { createGuild(input: { name: $n }) { name } }`;
    expect(codes(await postOperation(server.url, { extensions: persistedQuery(mutation), variables: { n: "A" } }, ada.token))).toEqual(["PERSISTED_QUERY_NOT_FOUND"]);
    expect((await postOperation(server.url, { query: mutation, extensions: persistedQuery(mutation), variables: { n: "First" } }, ada.token)).body.data).toEqual({ createGuild: { name: "First" } });
    expect((await postOperation(server.url, { extensions: persistedQuery(mutation), variables: { n: "Second" } }, ada.token)).body.data).toEqual({ createGuild: { name: "Second" } });
  });

  it("GET: a registered query runs from its hash in the query string; an unknown hash is a 404; a mutation is refused as over any GET", async () => {
    const query = fresh("{ me { id } }");
    const miss = await getOperation(server.url, { extensions: persistedQuery(query) }, ada.token);
    expect([miss.status, codes(miss)]).toEqual([404, ["PERSISTED_QUERY_NOT_FOUND"]]);
    await postOperation(server.url, { query, extensions: persistedQuery(query) }, ada.token);
    expect(await getOperation(server.url, { extensions: persistedQuery(query) }, ada.token)).toEqual({ status: 200, body: { data: { me: { id: ada.id } } } });

    const mutation = `mutation Leave${++unique} { logout }`;
    await postOperation(server.url, { query: mutation, extensions: persistedQuery(mutation) }, (await server.signUp("apq_get")).token);
    expect((await getOperation(server.url, { extensions: persistedQuery(mutation) }, ada.token)).status).toBe(405);
  });

  it("refuses text whose SHA-256 is not the hash (PERSISTED_QUERY_MISMATCH), and stores nothing under either", async () => {
    const [query, other] = [fresh("{ me { id } }"), fresh("{ me { username } }")];
    const wrong = await postOperation(server.url, { query, extensions: persistedQuery(other) }, ada.token);
    expect([wrong.status, codes(wrong), wrong.body.data]).toEqual([400, ["PERSISTED_QUERY_MISMATCH"], undefined]);
    for (const hash of [other, query]) expect(codes(await postOperation(server.url, { extensions: persistedQuery(hash) }, ada.token))).toEqual(["PERSISTED_QUERY_NOT_FOUND"]);
  });

  it("refuses a malformed extension with BAD_USER_INPUT, and a document over APQ_MAX_DOCUMENT_BYTES with LIMIT_EXCEEDED", async () => {
    const bad = await postOperation(server.url, { query: "{ me { id } }", extensions: { persistedQuery: { version: 1, sha256Hash: "abc" } } }, ada.token);
    expect([bad.status, bad.body.errors?.[0]?.extensions]).toEqual([400, { code: "BAD_USER_INPUT", field: "extensions.persistedQuery.sha256Hash" }]);

    const huge = `{ me { id } } # ${"x".repeat(32_768)}`;
    const refused = await postOperation(server.url, { query: huge, extensions: persistedQuery(huge) }, ada.token);
    expect([refused.status, refused.body.errors?.[0]?.extensions]).toEqual([400, { code: "LIMIT_EXCEEDED", resource: "persistedQueryBytes", limit: 32_768, setting: "APQ_MAX_DOCUMENT_BYTES" }]);
    expect(codes(await postOperation(server.url, { extensions: persistedQuery(huge) }, ada.token))).toEqual(["PERSISTED_QUERY_NOT_FOUND"]);
    // Without the extension the same text is an ordinary query (bounded by MAX_REQUEST_BYTES only).
    expect((await postOperation(server.url, { query: huge }, ada.token)).body.data).toEqual({ me: { id: ada.id } });
  });
});

describe("the query limits on persisted documents", () => {
  it("a document over the depth or alias limit is refused at registration and never stored", async () => {
    const deep = fresh(`{ me { guilds { channels { guild { channels { guild { channels { guild { channels { guild { id } } } } } } } } } } }`);
    const aliased = fresh(`{ ${Array.from({ length: 16 }, (_, i) => `a${i}: me { id }`).join(" ")} }`);
    for (const query of [deep, aliased]) {
      const refused = await postOperation(server.url, { query, extensions: persistedQuery(query) }, ada.token);
      expect(codes(refused), query).toEqual(["GRAPHQL_VALIDATION_FAILED"]);
      expect(codes(await postOperation(server.url, { extensions: persistedQuery(query) }, ada.token))).toEqual(["PERSISTED_QUERY_NOT_FOUND"]);
    }
  });

  it("the cost limit applies to a stored document on every run, by its variables", async () => {
    const query = fresh(`($n: Int) { me { relationships(first: $n) { user { guilds { id } } } } }`);
    expect((await postOperation(server.url, { query, extensions: persistedQuery(query), variables: { n: 1 } }, ada.token)).body).toEqual({ data: { me: { relationships: [] } } });
    const costly = await postOperation(server.url, { extensions: persistedQuery(query), variables: { n: 100 } }, ada.token);
    expect(codes(costly)).toEqual(["GRAPHQL_VALIDATION_FAILED"]);
    expect(costly.body.errors![0]!.message).toMatch(/^This query costs [\d,]+, above the limit of 10,000/);
  });
});

describe("APQ over graphql-ws", () => {
  it("registers a hash sent with its text, then runs queries and subscriptions from the hash alone (query: \"\")", async () => {
    const client = server.ws(ada.token);
    const query = fresh("{ me { id } }");
    expect(await overSocket(client, { query: "", extensions: persistedQuery(query) })).toEqual([{ errors: [{ message: "PersistedQueryNotFound", extensions: { code: "PERSISTED_QUERY_NOT_FOUND" } }] }]);
    expect(await overSocket(client, { query, extensions: persistedQuery(query) })).toEqual([{ data: { me: { id: ada.id } } }]);
    expect(await overSocket(client, { query: "", extensions: persistedQuery(query) })).toEqual([{ data: { me: { id: ada.id } } }]);
    // What was registered over the socket is there for HTTP too: one store per instance.
    expect((await postOperation(server.url, { extensions: persistedQuery(query) }, ada.token)).body.data).toEqual({ me: { id: ada.id } });

    const subscription = `subscription Mine${++unique} { userEvents { __typename } }`;
    await overSocket(client, { query: subscription, extensions: persistedQuery(subscription) });
    expect(await overSocket(client, { query: "", extensions: persistedQuery(subscription) })).toEqual([{ data: { userEvents: { __typename: "Subscribed" } } }]);
  });

  it("refuses a mismatched hash over the socket with the code and no HTTP status, and the socket lives on", async () => {
    const client = server.ws(ada.token);
    const [query, other] = [fresh("{ me { id } }"), fresh("{ me { username } }")];
    const [refused] = await overSocket(client, { query, extensions: persistedQuery(other) });
    expect(refused!.errors![0]!.extensions).toEqual({ code: "PERSISTED_QUERY_MISMATCH" });
    expect(await overSocket(client, { query })).toEqual([{ data: { me: { id: ada.id } } }]);
  });
});

describe("Apollo Client's PersistedQueryLink", () => {
  /** A fetch that records what each request was: its method, whether it carried the text, and the answer's status. */
  function recordingFetch() {
    const requests: { method: string; withText: boolean; status: number }[] = [];
    const fetchAndRecord: typeof fetch = async (input, init) => {
      const response = await fetch(input, init);
      const url = new URL(typeof input === "string" ? input : input instanceof URL ? input.href : input.url);
      const body = typeof init?.body === "string" ? (JSON.parse(init.body) as { query?: string }) : undefined;
      requests.push({ method: init?.method ?? "GET", withText: Boolean(body?.query ?? url.searchParams.get("query")), status: response.status });
      return response;
    };
    return { requests, fetch: fetchAndRecord };
  }

  function apollo(useGETForHashedQueries: boolean, on = server) {
    const recorder = recordingFetch();
    const link = new PersistedQueryLink({ sha256, useGETForHashedQueries }).concat(
      new HttpLink({ uri: on.url, fetch: recorder.fetch, headers: { authorization: `Bearer ${ada.token}` } }),
    );
    // A fresh cache per client: every query goes to the server.
    const client = () => new ApolloClient({ link, cache: new InMemoryCache() });
    return { requests: recorder.requests, client };
  }

  it("POST: the first query misses and registers (two requests), the next one is the hash alone; mutations alike", async () => {
    const { requests, client } = apollo(false);
    const query = gql(fresh("{ me { id username } }"));
    const first = await client().query({ query });
    expect(first.data).toMatchObject({ me: { id: ada.id } });
    expect(requests.splice(0)).toEqual([
      { method: "POST", withText: false, status: 404 },
      { method: "POST", withText: true, status: 200 },
    ]);
    expect((await client().query({ query })).data).toEqual(first.data);
    expect(requests.splice(0)).toEqual([{ method: "POST", withText: false, status: 200 }]);

    const mutation = gql(`mutation Apollo${++unique}($n: String!) { createGuild(input: { name: $n }) { id name } }`);
    expect((await client().mutate({ mutation, variables: { n: "By hash" } })).data).toMatchObject({ createGuild: { name: "By hash" } });
    expect((await client().mutate({ mutation, variables: { n: "Again" } })).data).toMatchObject({ createGuild: { name: "Again" } });
    expect(requests.splice(0)).toEqual([
      { method: "POST", withText: false, status: 404 },
      { method: "POST", withText: true, status: 200 },
      { method: "POST", withText: false, status: 200 },
    ]);
  });

  it("useGETForHashedQueries: the hash goes by GET, the registration by POST, then GET hits", async () => {
    const { requests, client } = apollo(true);
    const query = gql(fresh("{ me { id } }"));
    expect((await client().query({ query })).data).toMatchObject({ me: { id: ada.id } });
    expect((await client().query({ query })).data).toMatchObject({ me: { id: ada.id } });
    expect(requests).toEqual([
      { method: "GET", withText: false, status: 404 },
      { method: "POST", withText: true, status: 200 },
      { method: "GET", withText: false, status: 200 },
    ]);
  });

  it("over graphql-ws (GraphQLWsLink sends the text with the hash): the server checks and registers it, and HTTP clients then hit", async () => {
    const wsClient = new ApolloClient({ link: new PersistedQueryLink({ sha256 }).concat(new GraphQLWsLink(server.ws(ada.token))), cache: new InMemoryCache() });
    const query = gql(fresh("{ me { id } }"));
    expect((await wsClient.query({ query })).data).toMatchObject({ me: { id: ada.id } });
    const { requests, client } = apollo(false);
    expect((await client().query({ query })).data).toMatchObject({ me: { id: ada.id } });
    expect(requests).toEqual([{ method: "POST", withText: false, status: 200 }]);
    wsClient.stop();
  });

  describe("on a server with APQ=false", () => {
    let off: TestServer;
    beforeAll(async () => {
      // The same database as the main server (which closes it): the same users.
      off = await startTestServer({ database: { ...database, close: async () => {} }, env: { APQ: "false" } });
    });
    afterAll(async () => {
      await off?.close();
    });

    it("the link hears PersistedQueryNotSupported once, sends the text, and sends only text from then on", async () => {
      const { requests, client } = apollo(true, off);
      const refused = await postOperation(off.url, { extensions: persistedQuery("{ me { id } }") }, ada.token);
      expect([refused.status, refused.body.errors]).toEqual([400, [{ message: "PersistedQueryNotSupported", extensions: { code: "PERSISTED_QUERY_NOT_SUPPORTED" } }]]);
      const query = gql(fresh("{ me { id } }"));
      expect((await client().query({ query })).data).toMatchObject({ me: { id: ada.id } });
      expect((await client().query({ query: gql(fresh("{ me { username } }")) })).data).toMatchObject({ me: { username: expect.any(String) } });
      expect(requests).toEqual([
        { method: "GET", withText: false, status: 400 },
        { method: "POST", withText: true, status: 200 },
        { method: "POST", withText: true, status: 200 },
      ]);
    });
  });
});
