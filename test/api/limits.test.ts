import { getIntrospectionQuery, parse, type OperationDefinitionNode } from "graphql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EXAMPLE_OPERATIONS } from "../../src/gateway/graphiql-examples.js";
import { startTestServer, subscribe, waitForSubscribers, type GraphQLResponse, type Subscription, type TestServer } from "../support/server.js";

/**
 * Request limits over real HTTP and graphql-ws: query depth, cost, aliases and tokens, body
 * size, GraphQL's own parse/validation errors, error masking, and GraphiQL served offline.
 */

type User = { token: string; id: string; username: string };

let server: TestServer;
let ada: User;
let channelId: string;

/** `me { guilds { channels { guild { channels { ... { id } } } } } }` with `levels` object fields above `id`. */
function nested(levels: number): string {
  const fields = ["me", "guilds"];
  while (fields.length < levels) fields.push(fields.length % 2 === 0 ? "channels" : "guild");
  return `{ ${fields.map((f) => `${f} {`).join(" ")} id ${"}".repeat(fields.length)} }`;
}

async function post(body: string, headers: Record<string, string> = {}) {
  return fetch(server.url, { method: "POST", headers: { "content-type": "application/json", ...headers }, body });
}

function onlyError(res: GraphQLResponse) {
  expect(res.errors, JSON.stringify(res)).toHaveLength(1);
  expect(res.data ?? null).toBeNull();
  return res.errors![0]!;
}

/** The error a subscription failed with: a protocol `error` message or an error payload. */
async function subscriptionError(sub: Subscription, timeoutMs = 5_000): Promise<{ message: string; extensions?: Record<string, unknown> }> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`subscription did not fail within ${timeoutMs} ms: ${JSON.stringify(sub.received)}`)), timeoutMs);
  });
  try {
    await Promise.race([sub.completed, timeout]);
  } catch (error) {
    if (Array.isArray(error)) return error[0];
    throw error;
  } finally {
    clearTimeout(timer);
  }
  const withError = sub.received.find((r) => r.errors?.length);
  expect(withError, `no error in ${JSON.stringify(sub.received)}`).toBeDefined();
  return withError!.errors![0]!;
}

beforeAll(async () => {
  server = await startTestServer();
  ada = await server.signUp("ada");
  const guild = await server.gql(`mutation { createGuild(input: { name: "Limits" }) { channels { id } } }`, {}, ada.token);
  channelId = guild.data.createGuild.channels[0].id;
}, 120_000);

afterAll(() => server?.close());

describe("query shape limits (HTTP)", () => {
  it("accepts a query exactly MAX_QUERY_DEPTH (10) deep", async () => {
    // Replies of replies: deep without lists in lists, so the cost limit stays out of the way.
    const query = `query($c: ID!) { channel(id: $c) { messages(last: 1) { edges { node { replyTo { replyTo { replyTo { replyTo { replyTo { id } } } } } } } } } }`;
    const res = await server.gql(query, { c: channelId }, ada.token); // 9 object levels + the leaf = depth 10
    expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
    expect(res.data.channel.messages.edges).toEqual([]);
  });

  it("rejects a query deeper than MAX_QUERY_DEPTH before running it, with a code and a clear message", async () => {
    const res = await server.gql(nested(10), {}, ada.token);
    const error = onlyError(res);
    // Observed code: GRAPHQL_VALIDATION_FAILED (the masker's code for GraphQL's own errors).
    expect(error.extensions?.code).toBe("GRAPHQL_VALIDATION_FAILED");
    expect(error.message).toMatch(/^Query depth limit of 10 exceeded, found 11/);
  });

  it("counts depth through fragments too", async () => {
    const query = `{ me { ...G } } fragment G on User { guilds { channels { guild { channels { guild { channels { guild { channels { guild { id } } } } } } } } } }`;
    const error = onlyError(await server.gql(query, {}, ada.token));
    expect(error.extensions?.code).toBe("GRAPHQL_VALIDATION_FAILED");
    expect(error.message).toMatch(/depth limit of 10 exceeded/);
  });

  it("rejects an over-cost query (nested lists multiply) with a code and the cost found", async () => {
    const query = `{ me { guilds { channels { messages(last: 100) { edges { node {
      author { guilds { channels { id name } } } mentions { id username } replyTo { id content }
    } } } } } } }`;
    const error = onlyError(await server.gql(query, {}, ada.token));
    expect(error.extensions?.code).toBe("GRAPHQL_VALIDATION_FAILED");
    expect(error.message).toMatch(/^This query costs [\d,]+, above the limit of 10,000\./);
  });

  it("rejects more than 15 aliases, accepting 15", async () => {
    const aliases = (n: number) => `{ ${Array.from({ length: n }, (_, i) => `a${i}: me { id }`).join(" ")} }`;
    const okRes = await server.gql(aliases(15), {}, ada.token);
    expect(okRes.errors).toBeUndefined();
    expect(Object.keys(okRes.data)).toHaveLength(15);
    const error = onlyError(await server.gql(aliases(16), {}, ada.token));
    expect(error.extensions?.code).toBe("GRAPHQL_VALIDATION_FAILED");
    // The query parsed fine: no "Syntax Error:" in front of a limit.
    expect(error.message).toMatch(/^Aliases limit of 15 exceeded, found 16/);
  });

  it("rejects a query of more than 2,000 tokens", async () => {
    const query = `{ me { ${Array.from({ length: 2_100 }, () => "id").join(" ")} } }`;
    const error = onlyError(await server.gql(query, {}, ada.token));
    expect(error.extensions?.code).toBeDefined();
    expect(error.message).toMatch(/Token limit of 2000 exceeded/);
  });

  it("lets the operations GraphiQL opens with through the limits", async () => {
    const document = parse(EXAMPLE_OPERATIONS);
    const names = document.definitions
      .filter((d): d is OperationDefinitionNode => d.kind === "OperationDefinition" && d.operation !== "subscription")
      .map((d) => d.name!.value);
    expect(names).toContain("History");
    for (const name of names) {
      const res = await fetch(server.url, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${ada.token}` },
        body: JSON.stringify({ query: EXAMPLE_OPERATIONS, operationName: name, variables: { channelId } }),
      });
      const body = (await res.json()) as GraphQLResponse;
      const codes = (body.errors ?? []).map((e) => e.extensions?.code);
      expect(codes, `${name}: ${JSON.stringify(body.errors)}`).not.toContain("GRAPHQL_VALIDATION_FAILED");
      expect(codes, name).not.toContain("INTERNAL_SERVER_ERROR");
    }
  });
});

describe("request size", () => {
  it("answers a body over 100,000 bytes with HTTP 413 and a JSON GraphQL error (BAD_USER_INPUT)", async () => {
    const body = JSON.stringify({
      query: `mutation($c: ID!, $t: String!) { sendMessage(input: { channelId: $c, content: $t }) { id } }`,
      variables: { c: channelId, t: "x".repeat(100_001) },
    });
    expect(Buffer.byteLength(body)).toBeGreaterThan(100_000);
    const HISTORY = `query($c: ID!) { channel(id: $c) { messages { edges { node { id } } } } }`;
    const before = await server.gql(HISTORY, { c: channelId }, ada.token);
    const res = await post(body, { authorization: `Bearer ${ada.token}` });
    expect(res.status).toBe(413);
    expect(res.headers.get("content-type")).toMatch(/application\/json/);
    const json = (await res.json()) as GraphQLResponse;
    expect(json.errors).toHaveLength(1);
    expect(json.errors![0]!.extensions?.code).toBe("BAD_USER_INPUT");
    expect(json.errors![0]!.message).toMatch(/too large.*100000 bytes/);
    // Nothing was written.
    expect(await server.gql(HISTORY, { c: channelId }, ada.token)).toEqual(before);
  });

  it("accepts a body just under the limit (it is the body that is limited, not the content)", async () => {
    const res = await post(JSON.stringify({ query: `{ __typename }`, variables: { pad: "p".repeat(90_000) } }));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ data: { __typename: "Query" } });
  });

  it("asks for a Content-Length when a POST is chunked (HTTP 411, JSON error)", async () => {
    const stream = new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode(JSON.stringify({ query: "{ __typename }" })));
        controller.close();
      },
    });
    const res = await fetch(server.url, { method: "POST", headers: { "content-type": "application/json" }, body: stream, duplex: "half" } as RequestInit);
    expect(res.status).toBe(411);
    const json = (await res.json()) as GraphQLResponse;
    expect(json.errors![0]!.extensions?.code).toBe("BAD_USER_INPUT");
    expect(json.errors![0]!.message).toMatch(/Content-Length/);
  });
});

describe("GraphQL's own errors", () => {
  it("gives a syntax error a code", async () => {
    const error = onlyError(await server.gql(`{ me { id `, {}, ada.token));
    expect(error.extensions?.code).toBeDefined();
    expect(["GRAPHQL_PARSE_FAILED", "GRAPHQL_VALIDATION_FAILED"]).toContain(error.extensions?.code);
    expect(error.message).toMatch(/Syntax Error/);
  });

  it("gives an unknown field a code and names the field", async () => {
    const error = onlyError(await server.gql(`{ me { id nickname } }`, {}, ada.token));
    expect(error.extensions?.code).toBe("GRAPHQL_VALIDATION_FAILED");
    expect(error.message).toMatch(/Cannot query field "nickname" on type "User"/);
  });

  it("gives a wrongly typed variable a code", async () => {
    const error = onlyError(await server.gql(`query($c: ID!) { channel(id: $c) { id } }`, { c: { nested: true } }, ada.token));
    expect(error.extensions?.code).toBeDefined();
    expect(error.message).toMatch(/\$c/);
  });
});

describe("limits over WebSocket", () => {
  it("rejects a subscription deeper than MAX_QUERY_DEPTH as an operation error, keeping the socket's other subscriptions", async () => {
    const client = server.ws(ada.token);
    const good = subscribe(client, `subscription($c: ID!) { channelEvents(channelId: $c) { ... on MessageCreated { message { id } } } }`, { c: channelId });
    await waitForSubscribers(server, `channel:${channelId}`, 1);

    const query = `subscription($c: ID!) { channelEvents(channelId: $c) { ... on MessageCreated { message {
      channel { guild { channels { guild { channels { guild { channels { guild { id } } } } } } } }
    } } } }`;
    const error = await subscriptionError(subscribe(client, query, { c: channelId }));
    expect(error.extensions?.code).toBe("GRAPHQL_VALIDATION_FAILED");
    expect(error.message).toMatch(/depth limit of 10 exceeded/);
    // Only the valid subscription listens, and it still works on the same socket.
    expect((server.app.services.bus as unknown as { subscriberCount(t: string): number }).subscriberCount(`channel:${channelId}`)).toBe(1);
    const sent = await server.gql(`mutation($c: ID!) { sendMessage(input: { channelId: $c, content: "still here" }) { id } }`, { c: channelId }, ada.token);
    const [event] = await good.waitFor(1);
    expect(event!.data?.channelEvents.message.id).toBe(sent.data.sendMessage.id);
    good.unsubscribe();
  });

  it("rejects an over-aliased subscription", async () => {
    const query = `subscription($c: ID!) { channelEvents(channelId: $c) { ... on MessageCreated { message { ${Array.from({ length: 16 }, (_, i) => `a${i}: id`).join(" ")} } } } }`;
    const error = await subscriptionError(subscribe(server.ws(ada.token), query, { c: channelId }));
    expect(error.message).toMatch(/Aliases limit of 15 exceeded/);
  });

  it("gives WebSocket syntax and validation errors a code, as over HTTP", async () => {
    const client = server.ws(ada.token);
    const syntax = await subscriptionError(subscribe(client, `subscription { channelEvents(`));
    expect(syntax.message).toMatch(/Syntax Error/);
    expect(syntax.extensions?.code).toBe("GRAPHQL_PARSE_FAILED");
    const unknown = await subscriptionError(subscribe(client, `subscription { channelEvents(channelId: "1") { nope } }`));
    expect(unknown.message).toMatch(/nope/);
    expect(unknown.extensions?.code).toBe("GRAPHQL_VALIDATION_FAILED");
  });

  it("still runs a subscription within the limits on the same kind of socket", async () => {
    // Earlier tests' subscriptions must be gone, or waitForSubscribers below would not wait.
    const count = () => (server.app.services.bus as unknown as { subscriberCount(t: string): number }).subscriberCount(`channel:${channelId}`);
    for (const deadline = Date.now() + 5_000; count() > 0 && Date.now() < deadline; ) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(count()).toBe(0);
    const sub = subscribe(server.ws(ada.token), `subscription($c: ID!) { channelEvents(channelId: $c) { ... on MessageCreated { message { id } } } }`, {
      c: channelId,
    });
    await waitForSubscribers(server, `channel:${channelId}`, 1);
    const sent = await server.gql(`mutation($c: ID!) { sendMessage(input: { channelId: $c, content: "ping" }) { id } }`, { c: channelId }, ada.token);
    const [event] = await sub.waitFor(1);
    expect(event!.data?.channelEvents.message.id).toBe(sent.data.sendMessage.id);
    sub.unsubscribe();
  });

  it("closes a socket that sends a message over 100,000 bytes (close code 1009)", async () => {
    const client = server.ws(ada.token);
    const sub = subscribe(client, `subscription($c: ID!, $pad: String) { channelEvents(channelId: $c) { __typename } }`, {
      c: channelId,
      pad: "p".repeat(100_001),
    });
    let failure: unknown;
    try {
      await Promise.race([sub.completed, new Promise((_, reject) => setTimeout(() => reject(new Error("socket stayed open")), 5_000))]);
    } catch (error) {
      failure = error;
    }
    expect((failure as { code?: number } | undefined)?.code).toBe(1009);
  });
});

describe("introspection and GraphiQL", () => {
  it("answers the full introspection query (exempt from depth and cost), even anonymously", async () => {
    const res = await server.gql(getIntrospectionQuery());
    expect(res.errors).toBeUndefined();
    const types = res.data.__schema.types.map((t: { name: string }) => t.name);
    expect(types).toEqual(expect.arrayContaining(["Message", "ChannelEvent", "SendMessageInput"]));
    expect(res.data.__schema.subscriptionType.name).toBe("Subscription");
  });

  it("serves GraphiQL HTML at GET /graphql that loads no JS or CSS from a CDN", async () => {
    const res = await fetch(server.url, { headers: { accept: "text/html" } });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/text\/html/);
    const html = await res.text();
    expect(html).toMatch(/<title>Concord GraphiQL<\/title>/);
    expect(html).not.toMatch(/<script[^>]+src=["']?(https?:)?\/\//i);
    expect(html).not.toMatch(/<link[^>]+href=["']?(https?:)?\/\//i);
    expect(html).not.toMatch(/@import\s+(url\()?["']?(https?:)?\/\//i);
    for (const cdn of ["unpkg", "jsdelivr", "cdnjs", "esm.sh", "fonts.googleapis"]) expect(html, cdn).not.toContain(cdn);
    // The guided tour is the default tab, and subscriptions go over the same path by WebSocket.
    expect(html).toContain("mutation Register");
  });

  it("does not serve GraphiQL to a client that does not ask for HTML", async () => {
    const res = await fetch(`${server.url}?query=${encodeURIComponent("{ __typename }")}`, { headers: { accept: "application/json" } });
    expect(res.headers.get("content-type")).toMatch(/json/);
    expect(await res.json()).toEqual({ data: { __typename: "Query" } });
  });
});

describe("error masking", () => {
  it("masks an unexpected internal error as INTERNAL_SERVER_ERROR with no details, and logs it", async () => {
    // A clean way to make a store fail: replace one method of the live store for one request.
    const { services } = server.app;
    const logged: { message: string; fields?: Record<string, unknown> }[] = [];
    const realError = services.logger.error;
    const store = services.messages as unknown as { page?: unknown };
    const hadOwn = Object.prototype.hasOwnProperty.call(store, "page");
    store.page = async () => {
      throw new Error("connection to 10.0.0.7:5432 refused (secret detail)");
    };
    services.logger.error = (message, fields) => logged.push({ message, fields });
    try {
      const res = await server.gql(`query($c: ID!) { channel(id: $c) { name messages { edges { node { id } } } } }`, { c: channelId }, ada.token);
      const error = onlyError(res);
      expect(error.extensions?.code).toBe("INTERNAL_SERVER_ERROR");
      expect(error.message).not.toMatch(/10\.0\.0\.7|secret|refused/);
      expect(error.message).toMatch(/went wrong on our side/);
      expect(error.path).toEqual(["channel", "messages"]);
      expect(JSON.stringify(res)).not.toMatch(/secret|stack/);
      expect(logged).toHaveLength(1);
      expect(JSON.stringify(logged[0]!.fields, (_k, v) => (v instanceof Error ? v.message : v))).toMatch(/secret detail/);
    } finally {
      services.logger.error = realError;
      if (!hadOwn) delete store.page;
    }
  });
});
