import http from "node:http";
import SwaggerParser from "@apidevtools/swagger-parser";
import fc from "fast-check";
import { createClient } from "graphql-ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { REST_ROUTES } from "../../src/rest/routes.js";
import { STATUS_OF_CODE } from "../../src/rest/rest-errors.js";
import type { User } from "../support/assertions.js";
import { guildOf } from "../support/people.js";
import { startTestServer, subscribe, waitForSubscribers, type TestServer } from "../support/server.js";

/**
 * The REST routes (src/rest): the same use cases, auth, errors and rate limits as GraphQL, with
 * Discord's paths, statuses and history paging, and an OpenAPI document that matches what is served.
 */

interface RestAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: any;
}

/** One REST call; `body` is sent as JSON unless it is a string (sent as is). */
function call(server: TestServer, method: string, path: string, options: { token?: string; body?: unknown; headers?: Record<string, string> } = {}): Promise<RestAnswer> {
  const text = options.body === undefined ? undefined : typeof options.body === "string" ? options.body : JSON.stringify(options.body);
  const headers: Record<string, string> = {
    ...(text !== undefined ? { "content-type": "application/json", "content-length": String(Buffer.byteLength(text)) } : {}),
    ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
    ...options.headers,
  };
  return new Promise((resolve, reject) => {
    const req = http.request(new URL(path, server.url), { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => {
        const raw = Buffer.concat(chunks).toString();
        resolve({ status: res.statusCode!, headers: res.headers, body: raw === "" ? undefined : JSON.parse(raw) });
      });
    });
    req.on("error", reject);
    req.end(text);
  });
}

const SEND = `mutation($c: ID!, $t: String!) { sendMessage(input: { channelId: $c, content: $t }) { id } }`;
const HISTORY = `query($c: ID!) { channel(id: $c) { messages(last: 100) { edges { node { id content } } } } }`;

describe("REST routes", () => {
  let server: TestServer;
  let owner: User, member: User, outsider: User;
  let guildId: string, channelId: string;
  beforeAll(async () => {
    server = await startTestServer({ warmUp: true });
    [owner, member, outsider] = [await server.signUp("rowner"), await server.signUp("rmember"), await server.signUp("routsider")];
    ({ guildId, channelId } = await guildOf(server, owner, [member], "Rest"));
  });
  afterAll(() => server?.close());

  const history = async () => (await server.ok(HISTORY, { c: channelId }, owner.token)).channel.messages.edges.map((e: any) => e.node.content);

  it("posts a message with a bearer token that GraphQL subscribers receive", async () => {
    const sub = subscribe(server.ws(member.token), `subscription($c: ID!) { channelEvents(channelId: $c) { ... on MessageCreated { message { id content nonce author { username } } } } }`, { c: channelId });
    await sub.subscribed;
    await waitForSubscribers(server, `channel:${channelId}`);
    const sent = await call(server, "POST", `/v1/channels/${channelId}/messages`, { token: owner.token, body: { content: "hello from curl", nonce: "rest-1" } });
    expect(sent.status).toBe(200);
    expect(sent.body).toMatchObject({ id: expect.stringMatching(/^\d+$/), content: "hello from curl", nonce: "rest-1", editedAt: null, replyToId: null, mentionEveryone: false, author: { id: owner.id, username: owner.username, bot: false }, mentions: [] });
    const [event] = await sub.waitFor(1);
    expect(event!.data.channelEvents.message).toEqual({ id: sent.body.id, content: "hello from curl", nonce: "rest-1", author: { username: owner.username } });
    // The nonce makes retries safe, as in GraphQL.
    const again = await call(server, "POST", `/v1/channels/${channelId}/messages`, { token: owner.token, body: { content: "hello from curl", nonce: "rest-1" } });
    expect(again.body.id).toBe(sent.body.id);
    // A reply, by its GraphQL input name.
    const reply = await call(server, "POST", `/v1/channels/${channelId}/messages`, { token: member.token, body: { content: "a reply", replyToId: sent.body.id } });
    expect(reply.body).toMatchObject({ replyToId: sent.body.id, author: { id: member.id } });
  });

  it("pages history newest first with limit, before, after and around", async () => {
    const { channelId: c } = await guildOf(server, owner, [], "Paging");
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) ids.push((await server.ok(SEND, { c, t: `m${i}` }, owner.token)).sendMessage.id);
    const page = async (query: string) => {
      const res = await call(server, "GET", `/v1/channels/${c}/messages${query}`, { token: owner.token });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      return res.body.map((m: any) => m.content);
    };
    expect(await page("")).toEqual(["m6", "m5", "m4", "m3", "m2", "m1", "m0"]);
    expect(await page("?limit=3")).toEqual(["m6", "m5", "m4"]);
    expect(await page("?limit=100")).toHaveLength(7); // the largest page is within MAX_QUERY_COST
    expect(await page(`?limit=2&before=${ids[3]}`)).toEqual(["m2", "m1"]);
    expect(await page(`?limit=2&after=${ids[1]}`)).toEqual(["m3", "m2"]);
    expect(await page(`?limit=3&around=${ids[3]}`)).toEqual(["m4", "m3", "m2"]);
    expect(await page(`?before=${ids[0]}`)).toEqual([]);
    for (const [query, field] of [["?limit=0", "limit"], ["?limit=101", "limit"], ["?limit=2.5", "limit"], ["?limit=", "limit"], [`?before=${ids[1]}&after=${ids[0]}`, "after"], ["?before=abc", "before"]] as const) {
      const res = await call(server, "GET", `/v1/channels/${c}/messages${query}`, { token: owner.token });
      expect(res.status, query).toBe(400);
      expect(res.body.error, query).toMatchObject({ code: "BAD_USER_INPUT", field, message: expect.any(String) });
    }
  });

  it("edits and deletes messages, with GraphQL's permissions", async () => {
    const id = (await server.ok(SEND, { c: channelId, t: "to edit" }, owner.token)).sendMessage.id;
    const path = `/v1/channels/${channelId}/messages/${id}`;
    const edited = await call(server, "PATCH", path, { token: owner.token, body: { content: "edited" } });
    expect(edited.status).toBe(200);
    expect(edited.body).toMatchObject({ id, content: "edited", editedAt: expect.any(String) });
    const notYours = await call(server, "PATCH", path, { token: member.token, body: { content: "hijack" } });
    expect(notYours.status).toBe(403);
    expect(notYours.body.error.code).toBe("FORBIDDEN");
    expect((await call(server, "DELETE", path, { token: member.token })).status).toBe(403);
    const deleted = await call(server, "DELETE", path, { token: owner.token });
    expect(deleted.status).toBe(204);
    expect(deleted.body).toBeUndefined();
    expect(await history()).not.toContain("edited");
    const gone = await call(server, "DELETE", path, { token: owner.token });
    expect([gone.status, gone.body.error.code]).toEqual([404, "NOT_FOUND"]);
  });

  it("reads channels, guilds and the signed-in user", async () => {
    const channel = await call(server, "GET", `/v1/channels/${channelId}`, { token: member.token });
    expect(channel.body).toMatchObject({ id: channelId, kind: "GUILD_TEXT", name: "general", guild: { id: guildId }, parent: null, myPermissions: expect.arrayContaining(["SEND_MESSAGES"]) });
    const guild = await call(server, "GET", `/v1/guilds/${guildId}`, { token: member.token });
    expect(guild.body).toMatchObject({ id: guildId, name: "Rest", memberCount: 2, owner: { id: owner.id } });
    const channels = await call(server, "GET", `/v1/guilds/${guildId}/channels`, { token: member.token });
    expect(channels.body.map((c: any) => c.id)).toEqual([channelId]);
    const me = await call(server, "GET", "/v1/users/@me", { token: member.token });
    expect(me.body).toEqual({ id: member.id, username: member.username, bot: false, createdAt: expect.any(String) });
    const guilds = await call(server, "GET", "/v1/users/@me/guilds", { token: member.token });
    expect(guilds.body.map((g: any) => g.id)).toEqual([guildId]);
  });

  it("refuses bad bodies with a code, writing nothing", async () => {
    const before = await history();
    const path = `/v1/channels/${channelId}/messages`;
    const cases: [unknown, Record<string, string>, number, string, string?][] = [
      ["{not json", {}, 400, "BAD_USER_INPUT", "body"],
      ["[1,2]", {}, 400, "BAD_USER_INPUT", "body"],
      ["null", {}, 400, "BAD_USER_INPUT", "body"],
      [{ content: "x", channelId: "1" }, {}, 400, "BAD_USER_INPUT", "channelId"],
      [{ content: "x", extra: 1 }, {}, 400, "BAD_USER_INPUT", "extra"],
      [{ content: 42 }, {}, 400, "BAD_USER_INPUT"],
      [{ content: "   " }, {}, 400, "BAD_USER_INPUT", "content"],
      [{}, {}, 400, "BAD_USER_INPUT"],
      [{ content: "x" }, { "content-type": "text/plain" }, 415, "UNSUPPORTED_MEDIA_TYPE"],
      [JSON.stringify({ content: "x".repeat(200_000) }), {}, 413, "PAYLOAD_TOO_LARGE"],
      [{ content: "x" }, { "content-length": "", "transfer-encoding": "chunked" }, 411, "LENGTH_REQUIRED"],
    ];
    for (const [body, headers, status, code, field] of cases) {
      const label = `${typeof body === "string" ? body.slice(0, 20) : JSON.stringify(body)} ${JSON.stringify(headers)}`;
      const sent = headers["content-length"] === "" ? chunked(server, path, owner.token, JSON.stringify(body)) : call(server, "POST", path, { token: owner.token, body, headers });
      const res = await sent;
      expect(res.status, label).toBe(status);
      expect(res.body.error, label).toMatchObject({ code, message: expect.any(String), ...(field ? { field } : {}) });
      expect(res.body.data, label).toBeUndefined();
    }
    expect(await history()).toEqual(before);
  });

  it("answers every error status of the table, and unknown routes and methods", async () => {
    const path = `/v1/channels/${channelId}/messages`;
    const anonymous = await call(server, "GET", path);
    expect([anonymous.status, anonymous.body.error.code]).toEqual([401, "UNAUTHENTICATED"]);
    const badToken = await call(server, "GET", "/v1/users/@me", { token: "cnc_nope" });
    expect([badToken.status, badToken.body.error.code]).toEqual([401, "UNAUTHENTICATED"]);
    const unknown = await call(server, "GET", "/v1/nothing-here", { token: owner.token });
    expect([unknown.status, unknown.body.error.code]).toEqual([404, "NOT_FOUND"]);
    const method = await call(server, "PUT", path, { token: owner.token, body: {} });
    expect([method.status, method.body.error.code, method.headers.allow]).toEqual([405, "METHOD_NOT_ALLOWED", "POST, GET"]);
    const badId = await call(server, "GET", "/v1/channels/12x", { token: owner.token });
    expect([badId.status, badId.body.error.code]).toEqual([400, "BAD_USER_INPUT"]);
    for (const code of Object.keys(STATUS_OF_CODE)) expect(STATUS_OF_CODE[code]).toBeGreaterThanOrEqual(400);
  });

  it("hides what GraphQL hides: non-members, private channels and banned users get 404 and no data", async () => {
    const { guildId: g, channelId: general } = await guildOf(server, owner, [member], "Private");
    const hidden = (await server.ok(`mutation($g: ID!) { createChannel(input: { guildId: $g, name: "mods", permissionOverwrites: [{ targetKind: ROLE, targetId: $g, allow: [], deny: [VIEW_CHANNEL] }] }) { id } }`, { g }, owner.token)).createChannel.id;
    await server.ok(SEND, { c: hidden, t: "secret" }, owner.token);
    for (const [who, path] of [
      [outsider, `/v1/channels/${general}/messages`],
      [outsider, `/v1/channels/${general}`],
      [outsider, `/v1/guilds/${g}`],
      [outsider, `/v1/guilds/${g}/channels`],
      [member, `/v1/channels/${hidden}/messages`],
      [member, `/v1/channels/${hidden}`],
    ] as const) {
      const res = await call(server, "GET", path, { token: who.token });
      expect(res.status, path).toBe(404);
      expect(res.body, path).toEqual({ error: { code: "NOT_FOUND", message: expect.any(String) } });
      // GraphQL answers the same code for the same thing.
      const ids = path.match(/\d+/g)!;
      const gql = path.startsWith("/v1/guilds") ? await server.gql(`query($i: ID!) { guild(id: $i) { id } }`, { i: ids[1] }, who.token) : await server.gql(`query($i: ID!) { channel(id: $i) { id } }`, { i: ids[1] }, who.token);
      expect(gql.errors?.[0]?.extensions?.code, path).toBe("NOT_FOUND");
    }
    expect((await call(server, "POST", `/v1/channels/${hidden}/messages`, { token: member.token, body: { content: "let me in" } })).status).toBe(404);
    const visible = await call(server, "GET", `/v1/guilds/${g}/channels`, { token: member.token });
    expect(visible.body.map((c: any) => c.id)).toEqual([general]);

    await server.ok(`mutation($g: ID!, $u: ID!) { banMember(input: { guildId: $g, userId: $u }) { user { id } } }`, { g, u: member.id }, owner.token);
    for (const [method, path] of [["GET", `/v1/guilds/${g}`], ["GET", `/v1/channels/${general}/messages`], ["POST", `/v1/channels/${general}/messages`]] as const) {
      const res = await call(server, method, path, { token: member.token, ...(method === "POST" ? { body: { content: "I'm back" } } : {}) });
      expect([res.status, res.body.error.code], path).toEqual([404, "NOT_FOUND"]);
    }
    const mine = await call(server, "GET", "/v1/users/@me/guilds", { token: member.token });
    expect(mine.body.map((x: any) => x.id)).not.toContain(g);
  });

  it("takes bot tokens like GraphQL does", async () => {
    const bot = (await server.ok(`mutation($u: String!) { createBot(input: { username: $u }) { token user { id } } }`, { u: `rbot_${process.pid}` }, owner.token)).createBot;
    const code = (await server.ok(`mutation($g: ID!) { createInvite(input: { guildId: $g }) { code } }`, { g: guildId }, owner.token)).createInvite.code;
    await server.ok(`mutation($c: String!) { joinGuild(code: $c) { id } }`, { c: code }, bot.token);
    const sent = await call(server, "POST", `/v1/channels/${channelId}/messages`, { token: bot.token, body: { content: "beep" } });
    expect(sent.body.author).toEqual({ id: bot.user.id, username: `rbot_${process.pid}`, bot: true });
    expect((await call(server, "GET", "/v1/users/@me", { token: bot.token })).body.bot).toBe(true);
  });

  it("answers CORS as GraphQL does: preflights allow the REST methods, answers are readable cross-origin", async () => {
    const origin = "https://app.example.com";
    const preflight = await call(server, "OPTIONS", `/v1/channels/${channelId}/messages/1`, { headers: { origin, "access-control-request-method": "PATCH" } });
    expect(preflight.status).toBe(204);
    expect(preflight.headers["access-control-allow-methods"]).toMatch(/PATCH.*DELETE|DELETE.*PATCH/);
    const read = await call(server, "GET", "/v1/users/@me", { token: member.token, headers: { origin } });
    expect([read.status, read.headers["access-control-allow-origin"]]).toEqual([200, "*"]);
    expect(read.headers["access-control-expose-headers"]).toMatch(/Retry-After/);
  });

  it("accepts the graphql-ws gateway at /gateway too, and no other path", async () => {
    const client = createClient({ url: server.wsUrl.replace(/\/graphql$/, "/gateway"), webSocketImpl: WebSocket, retryAttempts: 0, connectionParams: { authorization: `Bearer ${member.token}` } });
    try {
      const result = await new Promise<any>((resolve, reject) => client.subscribe({ query: "{ me { id } }" }, { next: resolve, error: reject, complete: () => {} }));
      expect(result.data.me.id).toBe(member.id);
    } finally {
      await client.dispose();
    }
    const refused = await new Promise<number>((resolve) => {
      const socket = new WebSocket(server.wsUrl.replace(/\/graphql$/, "/elsewhere"), "graphql-transport-ws");
      socket.on("unexpected-response", (_req, res) => resolve(res.statusCode!));
      socket.on("error", () => {});
    });
    expect(refused).toBe(400);
  });

  it("serves a valid OpenAPI document listing exactly the routes served", async () => {
    const res = await call(server, "GET", "/v1/openapi.json");
    expect(res.status).toBe(200);
    const document = structuredClone(res.body);
    await SwaggerParser.validate(document);
    const documented = Object.entries(res.body.paths as Record<string, Record<string, unknown>>).flatMap(([path, methods]) => Object.keys(methods).map((m) => `${m.toUpperCase()} ${path}`));
    expect(documented.sort()).toEqual(REST_ROUTES.map((r) => `${r.method} ${r.path}`).sort());
    // Every documented route is served: none answers "no route" or "method not allowed".
    for (const route of REST_ROUTES) {
      const path = route.path.replace(/\{\w+\}/g, "1");
      const served = await call(server, route.method, path, { token: owner.token, ...(route.body ? { body: {} } : {}) });
      expect([404, 405].includes(served.status) && /No route|takes/.test(served.body.error.message), `${route.method} ${path}`).toBe(false);
    }
    expect(res.body.components.schemas.Message.properties).toHaveProperty("content");
    expect(res.body.paths["/v1/channels/{channelId}/messages"].post.requestBody.content["application/json"].schema.properties).not.toHaveProperty("channelId");
  });
});

describe("REST routes × actors", () => {
  type Actor = "owner" | "member" | "bot" | "outsider" | "banned" | "anonymous";
  const ACTORS: readonly Actor[] = ["owner", "member", "bot", "outsider", "banned", "anonymous"];
  let server: TestServer;
  const tokens = {} as Record<Actor, string | undefined>;
  let g: string, open: string, hidden: string;
  beforeAll(async () => {
    server = await startTestServer({ warmUp: true });
    const [owner, member, outsider, banned] = [await server.signUp("towner"), await server.signUp("tmember"), await server.signUp("toutsider"), await server.signUp("tbanned")];
    ({ guildId: g, channelId: open } = await guildOf(server, owner, [member, banned], "Matrix"));
    hidden = (await server.ok(`mutation($g: ID!) { createChannel(input: { guildId: $g, name: "staff", permissionOverwrites: [{ targetKind: ROLE, targetId: $g, allow: [], deny: [VIEW_CHANNEL] }] }) { id } }`, { g }, owner.token)).createChannel.id;
    const bot = (await server.ok(`mutation($u: String!) { createBot(input: { username: $u }) { token } }`, { u: `tbot_${process.pid}` }, owner.token)).createBot;
    const code = (await server.ok(`mutation($g: ID!) { createInvite(input: { guildId: $g }) { code } }`, { g }, owner.token)).createInvite.code;
    await server.ok(`mutation($c: String!) { joinGuild(code: $c) { id } }`, { c: code }, bot.token);
    await server.ok(`mutation($g: ID!, $u: ID!) { banMember(input: { guildId: $g, userId: $u }) { user { id } } }`, { g, u: banned.id }, owner.token);
    Object.assign(tokens, { owner: owner.token, member: member.token, bot: bot.token, outsider: outsider.token, banned: banned.token, anonymous: undefined });
  });
  afterAll(() => server?.close());

  /** Each route on a target, and the status each actor gets (in ACTORS' order). */
  const anyone = [200, 200, 200, 200, 200, 401];
  const members = [200, 200, 200, 404, 404, 401];
  const ownerOnly = [200, 404, 404, 404, 404, 401];
  const author = (ok: number) => [ok, 403, 403, 404, 404, 401];
  /** Paths name their targets: {open} and {hidden} channels, the {guild}, and a fresh {message} of the owner's in {open}. */
  const TABLE: [string, string, number[], unknown?][] = [
    ["POST", "/v1/channels/{open}/messages", members, { content: "hi" }],
    ["GET", "/v1/channels/{open}/messages", members],
    ["PATCH", "/v1/channels/{open}/messages/{message}", author(200), { content: "edited" }],
    ["DELETE", "/v1/channels/{open}/messages/{message}", author(204)],
    ["GET", "/v1/channels/{open}", members],
    ["POST", "/v1/channels/{hidden}/messages", ownerOnly, { content: "hi" }],
    ["GET", "/v1/channels/{hidden}/messages", ownerOnly],
    ["GET", "/v1/channels/{hidden}", ownerOnly],
    ["GET", "/v1/guilds/{guild}", members],
    ["GET", "/v1/guilds/{guild}/channels", members],
    ["GET", "/v1/users/@me", anyone],
    ["GET", "/v1/users/@me/guilds", anyone],
  ];
  const fill = (path: string, message: string) => path.replace("{open}", open).replace("{hidden}", hidden).replace("{guild}", g).replace("{message}", message);

  it("covers every route", () => {
    const covered = TABLE.map(([method, path]) => `${method} ${path.replace(/\{(open|hidden)\}/, "{channelId}").replace("{guild}", "{guildId}").replace("{message}", "{messageId}")}`);
    expect([...new Set(covered)].sort()).toEqual(REST_ROUTES.map((r) => `${r.method} ${r.path}`).sort());
  });

  /** Both channels' history, as the owner sees it: a refused call must leave it as it was. */
  const snapshot = async () => JSON.stringify(await Promise.all([open, hidden].map(async (c) => (await server.ok(`query($c: ID!) { channel(id: $c) { messages(last: 100) { edges { node { id content editedAt } } } } }`, { c }, tokens.owner!)).channel)));

  it.each(TABLE)("%s %s", async (method, path, statuses, body) => {
    for (const [i, actor] of ACTORS.entries()) {
      const message = (await server.ok(SEND, { c: open, t: `target for ${actor}` }, tokens.owner!)).sendMessage.id;
      const before = await snapshot();
      const res = await call(server, method, fill(path, message), { token: tokens[actor], ...(body ? { body } : {}) });
      expect(res.status, `${actor}: ${JSON.stringify(res.body)}`).toBe(statuses[i]);
      if (res.status >= 400) {
        expect(Object.keys(res.body), actor).toEqual(["error"]);
        expect(await snapshot(), `${actor} wrote on a refusal`).toBe(before);
      }
    }
  });
});

describe("REST fuzz", () => {
  let server: TestServer;
  let owner: User, outsider: User;
  let guildId: string, channelId: string, messageId: string;
  beforeAll(async () => {
    server = await startTestServer({ warmUp: true });
    [owner, outsider] = [await server.signUp("fowner"), await server.signUp("foutsider")];
    ({ guildId, channelId } = await guildOf(server, owner, [], "Fuzz"));
    messageId = (await server.ok(SEND, { c: channelId, t: "fuzz target" }, owner.token)).sendMessage.id;
  });
  afterAll(() => server?.close());

  it("answers random and hostile requests with a coded error of the right status, never a 5xx, and refusals write nothing", async () => {
    const segment = fc.oneof(
      fc.constantFrom(() => channelId, () => guildId, () => messageId).map((id) => id()),
      fc.constantFrom("0", "-1", "9223372036854775808", "99999999999999999999", "@me", "%00", "%E0%A4%A", "..", "1e3", " 1"),
      fc.stringMatching(/^[0-9]{1,19}$/),
    );
    const path = fc.tuple(fc.constantFrom(...REST_ROUTES.map((r) => r.path), "/v1/channels/{channelId}/pins", "/v1/"), segment, segment).map(([template, a, b]) => {
      let n = 0;
      return template.replace(/\{\w+\}/g, () => encodeURI(n++ === 0 ? a : b));
    });
    const query = fc.dictionary(fc.constantFrom("limit", "before", "after", "around", "x"), fc.oneof(fc.stringMatching(/^-?[0-9]{0,4}$/), segment, fc.string()), { maxKeys: 3 });
    const body = fc.oneof(
      fc.json(),
      fc.string(),
      fc.record({ content: fc.oneof(fc.string(), fc.constant("hi \u202e"), fc.constant("x".repeat(2001)), fc.integer()), nonce: fc.option(fc.string({ maxLength: 80 })), replyToId: fc.option(segment) }, { requiredKeys: [] }),
    );
    const request = fc.record({
      method: fc.constantFrom("GET", "POST", "PATCH", "DELETE", "PUT"),
      path,
      query,
      body: fc.option(body),
      who: fc.constantFrom("owner", "outsider", "nobody", "forged"),
    });
    const snapshot = async () => JSON.stringify((await server.ok(HISTORY, { c: channelId }, owner.token)).channel);
    await fc.assert(
      fc.asyncProperty(request, async ({ method, path, query, body, who }) => {
        const token = who === "owner" ? owner.token : who === "outsider" ? outsider.token : who === "forged" ? "cnc_forged" : undefined;
        const search = new URLSearchParams(query).toString();
        const before = await snapshot();
        const res = await call(server, method, `${path}${search ? `?${search}` : ""}`, { token, ...(body !== null ? { body: typeof body === "string" ? body : (body ?? null) } : {}) });
        const label = `${method} ${path}?${search} ${who}: ${res.status} ${JSON.stringify(res.body)}`;
        expect(res.status, label).toBeLessThan(500);
        if (res.status >= 400) {
          expect(Object.keys(STATUS_OF_CODE), label).toContain(res.body.error.code);
          expect(STATUS_OF_CODE[res.body.error.code], label).toBe(res.status);
          expect(typeof res.body.error.message, label).toBe("string");
          expect(await snapshot(), `${label} wrote on a refusal`).toBe(before);
        }
      }),
      { numRuns: 150, seed: 12, endOnFailure: true },
    );
    expect(server.logs.filter((line) => line.includes('"level":"error"'))).toEqual([]);
  }, 120_000);
});

/** A chunked POST (no Content-Length). */
function chunked(server: TestServer, path: string, token: string, body: string): Promise<RestAnswer> {
  return new Promise((resolve, reject) => {
    const req = http.request(new URL(path, server.url), { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${token}`, "transfer-encoding": "chunked" } }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body: JSON.parse(Buffer.concat(chunks).toString()) }));
    });
    req.on("error", reject);
    req.write(body);
    req.end();
  });
}

describe("REST rate limits", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ env: { RATE_LIMITS: "on", RATE_LIMIT_SEND_MESSAGE_CHANNEL: "3/60s", RATE_LIMIT_REGISTER: "100/1h" } });
  });
  afterAll(() => server?.close());

  it("shares GraphQL's budgets: a REST send charges what a GraphQL send does, and 429 is shared", async () => {
    const ada = await server.signUp("rlimit");
    const { channelId } = await guildOf(server, ada, [], "Limits");
    const viaGraphQL = await fetch(server.url, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${ada.token}` }, body: JSON.stringify({ query: SEND, variables: { c: channelId, t: "one" } }) });
    expect([viaGraphQL.headers.get("x-ratelimit-bucket"), viaGraphQL.headers.get("x-ratelimit-remaining")]).toEqual(["message.send.channel", "2"]);
    const path = `/v1/channels/${channelId}/messages`;
    const second = await call(server, "POST", path, { token: ada.token, body: { content: "two" } });
    expect([second.status, second.headers["x-ratelimit-bucket"], second.headers["x-ratelimit-remaining"]]).toEqual([200, "message.send.channel", "1"]);
    expect((await call(server, "POST", path, { token: ada.token, body: { content: "three" } })).headers["x-ratelimit-remaining"]).toBe("0");
    const refused = await call(server, "POST", path, { token: ada.token, body: { content: "four" } });
    expect(refused.status).toBe(429);
    expect(Number(refused.headers["retry-after"])).toBeGreaterThanOrEqual(1);
    expect(refused.body.error).toMatchObject({ code: "RATE_LIMITED", bucket: "message.send.channel", retryAfterMs: expect.any(Number) });
    const gql = await server.gql(SEND, { c: channelId, t: "five" }, ada.token);
    expect(gql.errors?.[0]?.extensions?.code).toBe("RATE_LIMITED");
    const contents = (await server.ok(HISTORY, { c: channelId }, ada.token)).channel.messages.edges.map((e: any) => e.node.content);
    expect(contents).toEqual(["one", "two", "three"]);
  });
});
