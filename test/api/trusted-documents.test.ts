import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { getIntrospectionQuery } from "graphql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp, StartupError } from "../../src/app.js";
import { loadConfig } from "../../src/config.js";
import { createLogger } from "../../src/logger.js";
import { codes, getOperation, overSocket, persistedQuery, postOperation, sha256 } from "../support/persisted-queries.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { REST_ROUTES } from "../../src/rest/routes.js";

/**
 * Trusted documents from a manifest (PERSISTED_DOCUMENTS_MANIFEST, in the shape GraphQL Code
 * Generator's client preset writes): with PERSISTED_DOCUMENTS=only nothing else runs, over HTTP
 * or WebSocket; with allow they are served by id next to any other operation; by default
 * nothing changes (GraphiQL included).
 */

const ME = "query Me { me { id } }";
const REGISTER = "mutation Register($u: String!) { register(input: { username: $u, password: \"correct horse\" }) { token user { id } } }";
const GUILDS = "query Guilds { me { guilds { name } } }";
const CREATE = "mutation Create($n: String!) { createGuild(input: { name: $n }) { name } }";
const LIVE = "subscription Live { userEvents { __typename } }";
const NOT_LISTED = "query Other { me { username } }";
const id = (document: string) => `sha256:${sha256(document)}`;

let dir: string;
let manifest: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "concord-manifest-"));
  manifest = path.join(dir, "persisted-documents.json");
  await writeFile(manifest, JSON.stringify(Object.fromEntries([ME, REGISTER, GUILDS, CREATE, LIVE].map((document) => [id(document), document])), null, 2));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("PERSISTED_DOCUMENTS=only", () => {
  let server: TestServer;
  let token: string;
  let userId: string;
  beforeAll(async () => {
    server = await startTestServer({ env: { PERSISTED_DOCUMENTS: "only", PERSISTED_DOCUMENTS_MANIFEST: manifest } });
    const registered = await postOperation(server.url, { documentId: id(REGISTER), variables: { u: `trusted_${process.pid}` } });
    ({ token, user: { id: userId } } = registered.body.data!.register);
  });
  afterAll(async () => {
    await server?.close();
  });

  it("runs the manifest's documents by documentId (POST and GET), by APQ hash, or by their exact text", async () => {
    expect(await postOperation(server.url, { documentId: id(ME) }, token)).toEqual({ status: 200, body: { data: { me: { id: userId } } } });
    expect(await getOperation(server.url, { documentId: id(ME) }, token)).toEqual({ status: 200, body: { data: { me: { id: userId } } } });
    expect((await postOperation(server.url, { extensions: persistedQuery(ME) }, token)).body.data).toEqual({ me: { id: userId } });
    expect((await getOperation(server.url, { extensions: persistedQuery(ME) }, token)).body.data).toEqual({ me: { id: userId } });
    expect((await postOperation(server.url, { query: ME }, token)).body.data).toEqual({ me: { id: userId } });
    expect((await postOperation(server.url, { documentId: id(CREATE), variables: { n: "Trusted" } }, token)).body.data).toEqual({ createGuild: { name: "Trusted" } });
  });

  it("serves the REST routes, whose documents are the server's own, while the same text sent as GraphQL is refused", async () => {
    const me = await fetch(new URL("/v1/users/@me", server.url), { headers: { authorization: `Bearer ${token}` } });
    expect([me.status, ((await me.json()) as { id: string }).id]).toEqual([200, userId]);
    const document = REST_ROUTES.find((route) => route.operationId === "getMe")!.document;
    expect(codes(await postOperation(server.url, { query: document }, token))).toEqual(["PERSISTED_QUERY_NOT_IN_LIST"]);
  });

  it("refuses anything else with PERSISTED_QUERY_NOT_IN_LIST and runs nothing: free text (403), an unknown id (404), an APQ registration, introspection", async () => {
    const refusals = [
      [await postOperation(server.url, { query: NOT_LISTED }, token), 403],
      [await getOperation(server.url, { query: NOT_LISTED }, token), 403],
      [await postOperation(server.url, { documentId: id(NOT_LISTED) }, token), 404],
      [await postOperation(server.url, { extensions: persistedQuery(NOT_LISTED) }, token), 404],
      [await postOperation(server.url, { query: NOT_LISTED, extensions: persistedQuery(NOT_LISTED) }, token), 404],
      [await postOperation(server.url, { query: getIntrospectionQuery() }, token), 403],
      [await postOperation(server.url, { query: "mutation { createGuild(input: { name: \"Sneaky\" }) { id } }" }, token), 403],
    ] as const;
    for (const [answer, status] of refusals) {
      expect(answer.body.data, JSON.stringify(answer.body)).toBeUndefined();
      expect([answer.status, codes(answer)]).toEqual([status, ["PERSISTED_QUERY_NOT_IN_LIST"]]);
    }
    // The refused createGuild wrote nothing.
    expect((await postOperation(server.url, { documentId: id(GUILDS) }, token)).body.data).toEqual({ me: { guilds: [{ name: "Trusted" }] } });
  });

  it("over WebSocket: runs manifest documents (by hash with query \"\", or their text), refuses others with the code, and the socket lives on", async () => {
    const client = server.ws(token);
    expect(await overSocket(client, { query: "", extensions: persistedQuery(ME) })).toEqual([{ data: { me: { id: userId } } }]);
    expect(await overSocket(client, { query: LIVE })).toEqual([{ data: { userEvents: { __typename: "Subscribed" } } }]);
    for (const query of [NOT_LISTED, "subscription { userEvents { __typename ... on LiveEvent { cursor } } }"]) {
      const [refused] = await overSocket(client, { query });
      expect(refused!.errors!.map((error) => error.extensions)).toEqual([{ code: "PERSISTED_QUERY_NOT_IN_LIST" }]);
    }
    expect(await overSocket(client, { query: "", extensions: persistedQuery(LIVE) })).toEqual([{ data: { userEvents: { __typename: "Subscribed" } } }]);
  });
});

describe("a manifest that does not hold", () => {
  it("stops the server from starting, naming the setting and the entry", async () => {
    const bad = path.join(dir, "tampered.json");
    await writeFile(bad, JSON.stringify({ [id(ME)]: NOT_LISTED }));
    const config = loadConfig({ PERSISTED_DOCUMENTS: "only", PERSISTED_DOCUMENTS_MANIFEST: bad, DATA_DIR: "memory://", LOG_LEVEL: "error" });
    // The manifest is read before the database opens: nothing is left to close.
    await expect(createApp(config, { logger: createLogger("error", () => {}) })).rejects.toThrow(
      new StartupError(`PERSISTED_DOCUMENTS_MANIFEST: ${bad}: entry "${id(ME)}": the key is not sha256:<hex> of its document's SHA-256 (GraphQL Code Generator: set persistedDocuments: { hashAlgorithm: "sha256" } in the client preset)`),
    );
    await expect(createApp(loadConfig({ PERSISTED_DOCUMENTS_MANIFEST: path.join(dir, "missing.json"), DATA_DIR: "memory://" }), { logger: createLogger("error", () => {}) })).rejects.toThrow(/^PERSISTED_DOCUMENTS_MANIFEST: cannot read .*missing\.json: ENOENT$/);
  });
});

describe("PERSISTED_DOCUMENTS=allow", () => {
  let server: TestServer;
  let user: { token: string; id: string };
  beforeAll(async () => {
    server = await startTestServer({ env: { PERSISTED_DOCUMENTS: "allow", PERSISTED_DOCUMENTS_MANIFEST: manifest } });
    user = await server.signUp("allow");
  });
  afterAll(async () => {
    await server?.close();
  });

  it("serves the manifest by id next to free text and APQ; an id the manifest lacks is PERSISTED_QUERY_NOT_IN_LIST", async () => {
    expect((await postOperation(server.url, { documentId: id(ME) }, user.token)).body.data).toEqual({ me: { id: user.id } });
    expect((await postOperation(server.url, { query: NOT_LISTED }, user.token)).body.data).toEqual({ me: { username: expect.any(String) } });
    expect(codes(await postOperation(server.url, { extensions: persistedQuery(NOT_LISTED) }, user.token))).toEqual(["PERSISTED_QUERY_NOT_FOUND"]);
    expect((await postOperation(server.url, { query: NOT_LISTED, extensions: persistedQuery(NOT_LISTED) }, user.token)).status).toBe(200);
    expect((await postOperation(server.url, { extensions: persistedQuery(NOT_LISTED) }, user.token)).body.data).toEqual({ me: { username: expect.any(String) } });
    const unknown = await postOperation(server.url, { documentId: id("query Gone { me { id } }") }, user.token);
    expect([unknown.status, codes(unknown)]).toEqual([404, ["PERSISTED_QUERY_NOT_IN_LIST"]]);
  });
});

describe("by default (no manifest)", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server?.close();
  });

  it("runs any operation and serves GraphiQL, which introspects the schema as before", async () => {
    const page = await fetch(server.url, { headers: { accept: "text/html" } });
    expect([page.status, page.headers.get("content-type")]).toEqual([200, "text/html; charset=utf-8"]);
    const introspection = await postOperation(server.url, { query: getIntrospectionQuery() });
    expect(introspection.body.data?.__schema.queryType.name).toBe("Query");
    const unknown = await postOperation(server.url, { documentId: id(ME) });
    expect([unknown.status, codes(unknown)]).toEqual([404, ["PERSISTED_QUERY_NOT_IN_LIST"]]);
  });
});
