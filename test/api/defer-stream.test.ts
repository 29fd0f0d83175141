import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { User } from "../support/assertions.js";
import { guildOf } from "../support/people.js";
import { persistedQuery } from "../support/persisted-queries.js";
import { startTestServer, type TestServer } from "../support/server.js";

/**
 * @defer and @stream (src/gateway/incremental-delivery.ts): incremental answers over HTTP
 * (multipart/mixed and SSE) and graphql-ws whose parts assemble into the one-piece answer,
 * with graphql-jit out of the way, the cost limit and persisted queries as for any query.
 */

type Part = { data?: any; errors?: any[]; hasNext?: boolean; incremental?: { data?: any; items?: any[]; path: (string | number)[] }[] };

/** Merges `source` into `target`, objects key by key (a patch of deferred fields). */
function merge(target: any, source: any): any {
  for (const [key, value] of Object.entries(source)) {
    target[key] = value && typeof value === "object" && !Array.isArray(value) && target[key] ? merge(target[key], value) : value;
  }
  return target;
}

/** The one-piece result the parts of an incremental answer add up to. */
function assemble(parts: Part[]): { data: any; errors?: any[] } {
  const result: { data: any; errors?: any[] } = { data: structuredClone(parts[0]!.data) };
  for (const part of parts.slice(1)) {
    for (const patch of part.incremental ?? []) {
      if (patch.items) {
        const list = patch.path.slice(0, -1).reduce((node: any, key) => node[key], result.data) as any[];
        list.splice(patch.path.at(-1) as number, patch.items.length, ...patch.items);
      } else merge(patch.path.reduce((node: any, key) => node[key], result.data), patch.data);
    }
    if (part.errors) result.errors = [...(result.errors ?? []), ...part.errors];
  }
  expect(parts.at(-1)!.hasNext).toBe(false);
  return result;
}

/** POSTs an operation asking for multipart/mixed; the response's content type and its JSON parts. */
async function multipart(server: TestServer, body: Record<string, unknown>, token: string): Promise<{ type: string | null; parts: Part[] }> {
  const res = await fetch(server.url, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "multipart/mixed", authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  const parts = text
    .split(/\r\n---/)
    .map((chunk) => chunk.slice(chunk.indexOf("\r\n\r\n") + 4).trim())
    .filter((json) => json.startsWith("{"))
    .map((json) => JSON.parse(json) as Part);
  return { type: res.headers.get("content-type"), parts };
}

describe("@defer and @stream", () => {
  let server: TestServer;
  let ada: User;
  let guildId: string, channelId: string;
  beforeAll(async () => {
    server = await startTestServer({ warmUp: true });
    ada = await server.signUp("incremental");
    ({ guildId, channelId } = await guildOf(server, ada, [], "Incremental"));
    for (const name of ["two", "three", "four"]) await server.ok(`mutation($g: ID!, $n: String!) { createChannel(input: { guildId: $g, name: $n }) { id } }`, { g: guildId, n: name }, ada.token);
    for (let i = 0; i < 5; i++) await server.ok(`mutation($c: ID!, $t: String!) { sendMessage(input: { channelId: $c, content: $t }) { id } }`, { c: channelId, t: `m${i}` }, ada.token);
  });
  afterAll(() => server?.close());

  const DEFERRED = `query($g: ID!, $c: ID!) {
    guild(id: $g) { name ... @defer(label: "count") { memberCount owner { username } } }
    channel(id: $c) { name ... @defer { messages(last: 3) { edges { node { content author { username } } } } } }
  }`;

  it("answers a query with @defer in parts (multipart/mixed) that assemble into the full result", async () => {
    const { type, parts } = await multipart(server, { query: DEFERRED, variables: { g: guildId, c: channelId } }, ada.token);
    expect(type).toMatch(/^multipart\/mixed/);
    expect(parts.length).toBeGreaterThanOrEqual(2);
    expect(parts[0]).toMatchObject({ hasNext: true, data: { guild: { name: "Incremental" }, channel: { name: "general" } } });
    expect(parts[0]!.data.guild).not.toHaveProperty("memberCount");
    const plain = await server.ok(DEFERRED.replaceAll(/ @defer(\(label: "count"\))?/g, ""), { g: guildId, c: channelId }, ada.token);
    expect(assemble(parts)).toEqual({ data: plain });
    expect(plain.channel.messages.edges.map((e: any) => e.node.content)).toEqual(["m2", "m3", "m4"]);
  });

  it("streams a list with @stream: Guild.channels and Channel.messages edges", async () => {
    const STREAMED = `query($g: ID!, $c: ID!) {
      guild(id: $g) { channels @stream(initialCount: 1) { name } }
      channel(id: $c) { messages(last: 5) { edges @stream(initialCount: 2) { node { content } } } }
    }`;
    const { parts } = await multipart(server, { query: STREAMED, variables: { g: guildId, c: channelId } }, ada.token);
    expect(parts[0]!.data.guild.channels).toHaveLength(1);
    expect(parts[0]!.data.channel.messages.edges).toHaveLength(2);
    expect(parts.flatMap((p) => p.incremental ?? []).some((patch) => patch.items)).toBe(true);
    const plain = await server.ok(STREAMED.replaceAll(/ @stream\(initialCount: \d\)/g, ""), { g: guildId, c: channelId }, ada.token);
    expect(assemble(parts)).toEqual({ data: plain });
    expect(plain.guild.channels.map((c: any) => c.name)).toEqual(["general", "two", "three", "four"]);
  });

  it("streams over SSE and graphql-ws as well", async () => {
    const sse = await fetch(server.url, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "text/event-stream", authorization: `Bearer ${ada.token}` },
      body: JSON.stringify({ query: DEFERRED, variables: { g: guildId, c: channelId } }),
    });
    const events = (await sse.text()).split("\n").filter((line) => line.startsWith("data: ")).map((line) => JSON.parse(line.slice(6)) as Part).filter((p) => p.data || p.incremental);
    const plain = await server.ok(DEFERRED.replaceAll(/ @defer(\(label: "count"\))?/g, ""), { g: guildId, c: channelId }, ada.token);
    expect(events.length).toBeGreaterThanOrEqual(2);
    expect(assemble(events)).toEqual({ data: plain });

    const client = server.ws(ada.token);
    const received: Part[] = [];
    await new Promise<void>((resolve, reject) => client.subscribe({ query: DEFERRED, variables: { g: guildId, c: channelId } }, { next: (value) => void received.push(value as Part), error: reject, complete: resolve }));
    expect(received.length).toBeGreaterThanOrEqual(2);
    expect(assemble(received)).toEqual({ data: plain });
  });

  it("refuses @defer and @stream in subscriptions, over SSE and graphql-ws alike", async () => {
    const LIVE = `subscription($c: ID!) { channelEvents(channelId: $c) { __typename ...Later } }
      fragment Later on ChannelEvent { ... on MessageCreated @defer { message { id } } }`;
    const sse = await fetch(server.url, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "text/event-stream", authorization: `Bearer ${ada.token}` },
      body: JSON.stringify({ query: LIVE, variables: { c: channelId } }),
    });
    expect(await sse.text()).toMatch(/@defer is for queries and mutations[^]*GRAPHQL_VALIDATION_FAILED/);
    const errors = await new Promise<any>((resolve) => server.ws(ada.token).subscribe({ query: LIVE, variables: { c: channelId } }, { next: () => {}, error: resolve, complete: () => resolve(undefined) }));
    expect(errors[0]).toMatchObject({ message: expect.stringMatching(/@defer is for queries and mutations/), extensions: { code: "GRAPHQL_VALIDATION_FAILED" } });
  });

  it("costs a deferred or streamed list as any list: over MAX_QUERY_COST it is refused before anything runs", async () => {
    const res = await fetch(server.url, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "multipart/mixed, application/json", authorization: `Bearer ${ada.token}` },
      body: JSON.stringify({ query: `query($g: ID!) { guild(id: $g) { channels @stream { ... @defer { messages(last: 100) { edges { node { id author { username } } } } } } } }`, variables: { g: guildId } }),
    });
    const text = await res.text();
    expect(text).toMatch(/GRAPHQL_VALIDATION_FAILED/);
    expect(text).toMatch(/above the limit/);
  });

  it("runs a persisted (APQ) document with @defer in parts", async () => {
    const query = `query Apq($c: ID!) { channel(id: $c) { name ... @defer { kind } } }`;
    const registered = await multipart(server, { query, variables: { c: channelId }, extensions: persistedQuery(query) }, ada.token);
    expect(assemble(registered.parts)).toEqual({ data: { channel: { name: "general", kind: "GUILD_TEXT" } } });
    await new Promise((resolve) => setTimeout(resolve, 50)); // registration is fire and forget
    const byHash = await multipart(server, { variables: { c: channelId }, extensions: persistedQuery(query) }, ada.token);
    expect(byHash.parts.length).toBeGreaterThanOrEqual(2);
    expect(assemble(byHash.parts)).toEqual({ data: { channel: { name: "general", kind: "GUILD_TEXT" } } });
  });
});
