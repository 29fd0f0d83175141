import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, subscribe, type GraphQLResponse, type TestServer } from "../support/server.js";

/**
 * The query cost limit over real HTTP and graphql-ws: page sizes count whether literal or
 * variable, unpaginated lists count at their caps, the README's catch-up page passes, and a
 * refusal is a GraphQL validation error that runs nothing.
 */

type User = { token: string; id: string; username: string };

let server: TestServer;
let ada: User;
let bob: User;
let guildId: string;
let channelId: string;
let sent: string[];

const ROW = `id content createdAt editedAt author { id username } replyTo { id content author { username } } mentions { id username }`;
/** The README's catch-up page, with the page size as given (a literal or `$n`). */
const catchUp = (size: string) =>
  `query($c: ID!, $after: ID${size === "$n" ? ", $n: Int" : ""}) { channel(id: $c) { messages(first: ${size}, after: $after) { pageInfo { hasNextPage endCursor } edges { node { ${ROW} } } } } }`;
/** Two catch-up pages in one operation: 2 × 5,412 at 100 messages each, over the 10,000 limit. */
const twoPages = (size: string) =>
  `query($c: ID!${size === "$n" ? ", $n: Int" : ""}) { a: channel(id: $c) { ...Page } b: channel(id: $c) { ...Page } }
   fragment Page on Channel { messages(first: ${size}) { edges { node { ${ROW} } } } }`;
/** The query: history and read state of every channel of a guild (500 at the cap). */
const GUILD_WIDE = `query($g: ID!) { guild(id: $g) { channels { messages(last: 40) { edges { node { id content author { username } } } } readState { unreadCount mentionCount } } } }`;

/** Each MessageCreated would carry every channel of the guild with 100 messages each. */
const COSTLY_SUBSCRIPTION = `subscription($c: ID!) { channelEvents(channelId: $c) { ... on MessageCreated { message { channel { guild { channels {
  messages(last: 100) { edges { node { mentions { id } } } } } } } } } } }`;

async function post(
  query: string,
  variables: Record<string, unknown>,
  token: string,
  accept = "application/json",
): Promise<{ status: number; headers: string; body: GraphQLResponse }> {
  const res = await fetch(server.url, {
    method: "POST",
    headers: { "content-type": "application/json", accept, authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  return { status: res.status, headers: res.headers.get("content-type") ?? "", body: (await res.json()) as GraphQLResponse };
}

/** The one error of a refused operation, checked for the shape every cost refusal has. */
function costError(res: GraphQLResponse) {
  expect(res.errors, JSON.stringify(res)).toHaveLength(1);
  expect(res.data ?? null).toBeNull();
  const error = res.errors![0]!;
  expect(error.extensions).toMatchObject({ code: "GRAPHQL_VALIDATION_FAILED", limit: 10_000, cost: expect.any(Number) });
  expect(error.extensions!.cost as number).toBeGreaterThan(10_000);
  expect(error.message).toMatch(/^This query costs [\d,]+, above the limit of 10,000\./);
  expect(error.message).toMatch(/smaller pages \(first\/last\) or fewer nested lists/);
  expect(error.message).not.toMatch(/Syntax Error/);
  // yoga's own bookkeeping stays out of the response.
  expect(error.extensions).not.toHaveProperty("http");
  return error;
}

/** Runs one operation over graphql-ws and returns what the server answered (an operation still live after 5 s fails). */
async function overSocket(query: string, variables: Record<string, unknown>, token: string): Promise<GraphQLResponse> {
  const sub = subscribe(server.ws(token), query, variables);
  let timer: NodeJS.Timeout | undefined;
  const live = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the operation was accepted and is still live: ${JSON.stringify(sub.received)}`)), 5_000);
  });
  try {
    await Promise.race([sub.completed, live]);
  } catch (errors) {
    if (errors instanceof Error) throw errors;
    return { errors: errors as GraphQLResponse["errors"] };
  } finally {
    clearTimeout(timer);
    sub.unsubscribe();
  }
  expect(sub.received).toHaveLength(1);
  return sub.received[0]!;
}

beforeAll(async () => {
  server = await startTestServer();
  ada = await server.signUp("ada");
  bob = await server.signUp("bob");
  const guild = await server.ok(`mutation { createGuild(input: { name: "Costs" }) { id channels { id } } }`, {}, ada.token);
  guildId = guild.createGuild.id;
  channelId = guild.createGuild.channels[0].id;
  const invite = await server.ok(`mutation($g: ID!) { createInvite(input: { guildId: $g }) { code } }`, { g: guildId }, ada.token);
  await server.ok(`mutation($code: String!) { joinGuild(code: $code) { id } }`, { code: invite.createInvite.code }, bob.token);
  sent = [];
  for (const content of ["first", `hello <@${bob.id}>`, "third"]) {
    const replyToId = sent[0];
    const res = await server.ok(
      `mutation($c: ID!, $t: String!, $r: ID) { sendMessage(input: { channelId: $c, content: $t, replyToId: $r }) { id } }`,
      { c: channelId, t: content, r: content === "third" ? replyToId : null },
      ada.token,
    );
    sent.push(res.sendMessage.id);
  }
}, 120_000);

afterAll(() => server?.close());

describe("query cost over HTTP", () => {
  it("serves the README's 100-message catch-up page with full rows, page size literal or variable", async () => {
    const literal = await server.ok(catchUp("100"), { c: channelId, after: null }, ada.token);
    const variable = await server.ok(catchUp("$n"), { c: channelId, after: null, n: 100 }, ada.token);
    expect(variable).toEqual(literal);
    const nodes = literal.channel.messages.edges.map((e: { node: unknown }) => e.node);
    expect(nodes.map((n: { id: string }) => n.id)).toEqual(sent);
    expect(nodes[1].mentions).toEqual([{ id: bob.id, username: bob.username }]);
    expect(nodes[2].replyTo).toEqual({ id: sent[0], content: "first", author: { username: ada.username } });
  });

  it("counts a page size given as a variable like a literal one: two full pages are refused either way", async () => {
    const literal = await post(twoPages("100"), { c: channelId }, ada.token);
    const variable = await post(twoPages("$n"), { c: channelId, n: 100 }, ada.token);
    expect(costError(literal.body).extensions!.cost).toBe(costError(variable.body).extensions!.cost);
    // Smaller pages fit.
    const half = await server.ok(twoPages("$n"), { c: channelId, n: 50 }, ada.token);
    expect(half.a.messages.edges).toHaveLength(3);
  });

  it("refuses the guild-wide history and read states, counting the channels at their cap, and says what weighs", async () => {
    const error = costError((await post(GUILD_WIDE, { g: guildId }, ada.token)).body);
    expect(error.message).toMatch(/Most of it is guild\.channels: 500 items at [\d,]+ each\./);
  });

  it("answers with the HTTP status of GraphQL's own validation errors: 200 for application/json, 400 for graphql-response+json", async () => {
    for (const [accept, status] of [["application/json", 200], ["application/graphql-response+json", 400]] as const) {
      const invalid = await post(`{ me { nickname } }`, {}, ada.token, accept);
      expect(invalid.body.errors![0]!.extensions?.code).toBe("GRAPHQL_VALIDATION_FAILED");
      expect(invalid.status, accept).toBe(status);
      const costly = await post(GUILD_WIDE, { g: guildId }, ada.token, accept);
      costError(costly.body);
      expect(costly.status, accept).toBe(status);
      expect(costly.headers, accept).toMatch(accept);
    }
  });

  it("runs nothing of a refused operation: a too-costly mutation writes nothing", async () => {
    const before = await server.ok(`{ me { guilds { id } } }`, {}, ada.token);
    const mutation = `mutation { createGuild(input: { name: "Never" }) { id channels { messages(last: 100) { edges { node { mentions { id } } } } } } }`;
    costError((await post(mutation, {}, ada.token)).body);
    expect(await server.ok(`{ me { guilds { id } } }`, {}, ada.token)).toEqual(before);
  });

  it("lets a per-guild read-state query through (500 channels × a read each fits)", async () => {
    const res = await server.ok(`query($g: ID!) { guild(id: $g) { channels { name readState { unreadCount mentionCount } } } }`, { g: guildId }, bob.token);
    expect(res.guild.channels).toEqual([{ name: "general", readState: { unreadCount: 3, mentionCount: 1 } }]);
  });
});

describe("query cost over graphql-ws", () => {
  it("refuses a too-costly query with the same error, and still serves a catch-up page with a variable size", async () => {
    costError(await overSocket(GUILD_WIDE, { g: guildId }, ada.token));
    costError(await overSocket(twoPages("$n"), { c: channelId, n: 100 }, ada.token));
    const page = await overSocket(catchUp("$n"), { c: channelId, after: null, n: 100 }, ada.token);
    expect(page.errors).toBeUndefined();
    expect(page.data?.channel.messages.edges).toHaveLength(3);
  });

  it("refuses a too-costly mutation over the socket, writing nothing", async () => {
    const before = await server.ok(`{ me { guilds { id } } }`, {}, ada.token);
    costError(await overSocket(`mutation { createGuild(input: { name: "Never" }) { channels { messages(last: 100) { edges { node { mentions { id } } } } } } }`, {}, ada.token));
    expect(await server.ok(`{ me { guilds { id } } }`, {}, ada.token)).toEqual(before);
  });

  it("refuses a too-costly subscription over HTTP (server-sent events) before it starts", async () => {
    const res = await fetch(server.url, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "text/event-stream", authorization: `Bearer ${ada.token}` },
      body: JSON.stringify({ query: COSTLY_SUBSCRIPTION, variables: { c: channelId } }),
    });
    const text = await res.text(); // the stream ends: nothing was subscribed
    const data = text.split("\n").find((line) => line.startsWith("data: "));
    expect(data, text).toBeDefined();
    costError(JSON.parse(data!.slice("data: ".length)) as GraphQLResponse);
  });

  // Subscriptions over graphql-ws do not go through envelop's subscribe: this passes once
  // gateway/server.ts calls checkOperationCost in its subscription path (the lead's wiring).
  it("refuses a too-costly subscription (graphql-ws subscription path)", async () => {
    costError(await overSocket(COSTLY_SUBSCRIPTION, { c: channelId }, ada.token));
  });
});
