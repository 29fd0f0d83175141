import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Database } from "../../src/stores/prisma/database.js";
import { openTestPglite } from "../support/databases.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { befriend } from "../support/people.js";
import { DEFAULT_LIMITS_ENV, firstError, freshAddress, post, signUpFrom, wsFrom } from "./hostile-client.js";

/**
 * A hostile client against a server on its default rate limits: each bucket lets its budget
 * through, then refuses with RATE_LIMITED (429 and the X-RateLimit-* headers over HTTP) and
 * writes nothing. Budgets are counted per user across HTTP and WebSocket.
 */

const CREATE_GUILD = `mutation($n: String!) { createGuild(input: { name: $n }) { id channels { id } } }`;
const SEND = `mutation($c: ID!, $t: String!) { sendMessage(input: { channelId: $c, content: $t }) { id } }`;
const HISTORY = `query($c: ID!) { channel(id: $c) { messages(last: 100) { edges { node { id content } } } } }`;

let server: TestServer;
let database: Database;

beforeAll(async () => {
  database = await openTestPglite();
  server = await startTestServer({ database, env: DEFAULT_LIMITS_ENV });
}, 60_000);
afterAll(() => server?.close());

async function guildOf(user: { token: string; address: string }) {
  const res = await post(server, CREATE_GUILD, { n: "Abuse" }, user);
  expect(res.body.errors).toBeUndefined();
  return { guildId: res.body.data.createGuild.id as string, channelId: res.body.data.createGuild.channels[0].id as string };
}

function expectRateLimited(answer: { status: number; headers: Headers; body: any }, bucket: string, scope: "USER" | "IP" | "GLOBAL") {
  const error = firstError(answer.body);
  expect(error.extensions).toMatchObject({ code: "RATE_LIMITED", bucket, scope, remaining: 0 });
  const retryAfterMs = error.extensions!.retryAfterMs as number;
  expect(retryAfterMs).toBeGreaterThan(0);
  expect(error.extensions!.resetAfterMs).toBeGreaterThanOrEqual(retryAfterMs - 1);
  expect(error.message).toMatch(/try again in/);
  expect(answer.status).toBe(429);
  expect(answer.headers.get("retry-after")).toBe(String(Math.max(1, Math.ceil(retryAfterMs / 1000))));
  expect(answer.headers.get("x-ratelimit-bucket")).toBe(bucket);
  expect(answer.headers.get("x-ratelimit-remaining")).toBe("0");
  expect(answer.headers.get("x-ratelimit-scope")).toBe(scope.toLowerCase());
  return error;
}

describe("sendMessage", () => {
  it("lets 5 messages per 5 s into one channel, refuses the 6th with 429 and headers, and does not store it", async () => {
    const ada = await signUpFrom(server, "ada");
    const { channelId } = await guildOf(ada);
    for (let i = 1; i <= 5; i++) {
      const sent = await post(server, SEND, { c: channelId, t: `hello ${i}` }, ada);
      expect(sent.body.errors).toBeUndefined();
      expect(sent.status).toBe(200);
      expect(sent.headers.get("x-ratelimit-bucket")).toBe("message.send.channel");
      expect(sent.headers.get("x-ratelimit-limit")).toBe("5");
      expect(sent.headers.get("x-ratelimit-remaining")).toBe(String(5 - i));
      expect(Number(sent.headers.get("x-ratelimit-reset-after"))).toBeGreaterThan(0);
      expect(Number(sent.headers.get("x-ratelimit-reset-after"))).toBeLessThanOrEqual(5);
    }
    const refused = await post(server, SEND, { c: channelId, t: "one too many" }, ada);
    const error = expectRateLimited(refused, "message.send.channel", "USER");
    expect(error.extensions!.limit).toBe(5);
    expect(error.extensions!.retryAfterMs as number).toBeLessThanOrEqual(5_000);
    expect(refused.body.data?.sendMessage ?? null).toBeNull();
    const history = await post(server, HISTORY, { c: channelId }, ada);
    expect(history.body.data.channel.messages.edges.map((e: any) => e.node.content)).toEqual(["hello 1", "hello 2", "hello 3", "hello 4", "hello 5"]);
  });

  it("counts one budget across HTTP and WebSocket", async () => {
    const bob = await signUpFrom(server, "bob");
    const { channelId } = await guildOf(bob);
    for (let i = 0; i < 3; i++) expect((await post(server, SEND, { c: channelId, t: `http ${i}` }, bob)).body.errors).toBeUndefined();
    const client = wsFrom(server, bob.token, bob.address);
    const sendOverSocket = (t: string) =>
      new Promise<any>((resolve, reject) => {
        let result: unknown;
        client.subscribe({ query: SEND, variables: { c: channelId, t } }, { next: (r) => (result = r), error: reject, complete: () => resolve(result) });
      });
    try {
      expect((await sendOverSocket("ws 1")).errors).toBeUndefined();
      expect((await sendOverSocket("ws 2")).errors).toBeUndefined();
      const refused = await sendOverSocket("ws 3");
      expect(refused.errors[0].extensions).toMatchObject({ code: "RATE_LIMITED", bucket: "message.send.channel", scope: "USER" });
      expect(refused.errors[0].extensions.http).toBeUndefined();
    } finally {
      await client.dispose();
    }
    const history = await post(server, HISTORY, { c: channelId }, bob);
    expect(history.body.data.channel.messages.edges).toHaveLength(5);
  });

  it("limits a person across channels too (10 per 5 s), while another user is unaffected", async () => {
    const cy = await signUpFrom(server, "cy");
    const channels: string[] = [];
    const { guildId, channelId } = await guildOf(cy);
    channels.push(channelId);
    for (let i = 0; i < 2; i++) {
      const res = await post(server, `mutation($g: ID!, $n: String!) { createChannel(input: { guildId: $g, name: $n }) { id } }`, { g: guildId, n: `room-${i}` }, cy);
      channels.push(res.body.data.createChannel.id);
    }
    const results = [];
    for (let i = 0; i < 11; i++) results.push(await post(server, SEND, { c: channels[i % 3], t: `m${i}` }, cy));
    expect(results.slice(0, 10).every((r) => r.body.errors === undefined)).toBe(true);
    expectRateLimited(results[10]!, "message.send.person", "USER");
    const dee = await signUpFrom(server, "dee");
    const other = await guildOf(dee);
    expect((await post(server, SEND, { c: other.channelId, t: "fine" }, dee)).body.errors).toBeUndefined();
  });
});

describe("per-user budgets of other writes", () => {
  it("createGuild: 10 per hour, the 11th refused and not created", async () => {
    const eve = await signUpFrom(server, "eve");
    for (let i = 0; i < 10; i++) expect((await post(server, CREATE_GUILD, { n: `G${i}` }, eve)).body.errors).toBeUndefined();
    expectRateLimited(await post(server, CREATE_GUILD, { n: "G10" }, eve), "guild.create", "USER");
    const mine = await post(server, `{ me { guilds { id } } }`, {}, eve);
    expect(mine.body.data.me.guilds).toHaveLength(10);
  });

  it("createInvite: 20 per 10 minutes, the 21st refused and not stored", async () => {
    const fay = await signUpFrom(server, "fay");
    const { guildId } = await guildOf(fay);
    const invite = `mutation($g: ID!) { createInvite(input: { guildId: $g }) { code } }`;
    for (let i = 0; i < 20; i++) expect((await post(server, invite, { g: guildId }, fay)).body.errors).toBeUndefined();
    expectRateLimited(await post(server, invite, { g: guildId }, fay), "invite.create", "USER");
    expect(await database.prisma.invite.count({ where: { guildId: BigInt(guildId) } })).toBe(20);
  });

  it("createBot: 5 per hour", async () => {
    const gus = await signUpFrom(server, "gus");
    const create = `mutation($u: String!) { createBot(input: { username: $u }) { user { id } } }`;
    const results = [];
    for (let i = 0; i < 6; i++) results.push(await post(server, create, { u: `${gus.username}_b${i}` }, gus));
    expect(results.slice(0, 5).map((r) => r.body.errors)).toEqual([undefined, undefined, undefined, undefined, undefined]);
    expectRateLimited(results[5]!, "bot.create", "USER");
    expect(await database.prisma.user.count({ where: { botOwnerId: BigInt(gus.id) } })).toBe(5);
  });

  it("openDirectMessage: 20 per 10 minutes; group DMs also count against a daily budget", async () => {
    const hal = await signUpFrom(server, "hal");
    const others = await Promise.all(Array.from({ length: 3 }, () => signUpFrom(server, "pal")));
    await befriend(server, hal, ...others);
    const open = `mutation($ids: [ID!]!) { openDirectMessage(userIds: $ids) { id } }`;
    for (let i = 0; i < 20; i++) {
      const ids = i % 2 === 0 ? [others[0]!.id] : [others[1]!.id, others[2]!.id];
      expect((await post(server, open, { ids }, hal)).body.errors).toBeUndefined();
    }
    expectRateLimited(await post(server, open, { ids: [others[0]!.id] }, hal), "dm.open", "USER");
    expect(await database.prisma.channel.count({ where: { ownerId: BigInt(hal.id), kind: "GROUP_DM" } })).toBe(10);
  });

  it("sendFriendRequest: 20 per 10 minutes, refused ones not stored", async () => {
    const kay = await signUpFrom(server, "kay");
    const others = await Promise.all(Array.from({ length: 21 }, () => signUpFrom(server, "ask")));
    const ask = `mutation($u: ID!) { sendFriendRequest(userId: $u) { type } }`;
    for (const other of others.slice(0, 20)) expect((await post(server, ask, { u: other.id }, kay)).body.errors).toBeUndefined();
    expectRateLimited(await post(server, ask, { u: others[20]!.id }, kay), "relationship.request", "USER");
    expect(await database.prisma.relationship.count({ where: { userId: BigInt(kay.id), kind: "OUTGOING" } })).toBe(20);
    // Answering is not a request: the other side still accepts.
    expect((await post(server, `mutation($u: ID!) { acceptFriendRequest(userId: $u) { type } }`, { u: kay.id }, others[0]!)).body.data).toEqual({ acceptFriendRequest: { type: "FRIEND" } });
  });

  it("setPresence: 5 per 20 s", async () => {
    const ivy = await signUpFrom(server, "ivy");
    const set = `mutation($s: PresenceStatus!) { setPresence(status: $s) }`;
    for (let i = 0; i < 5; i++) expect((await post(server, set, { s: i % 2 ? "IDLE" : "DND" }, ivy)).body.errors).toBeUndefined();
    expectRateLimited(await post(server, set, { s: "ONLINE" }, ivy), "presence", "USER");
  });

  it("startTyping over budget is absorbed: every call answers true, none is an error", async () => {
    const jo = await signUpFrom(server, "jo");
    const { channelId } = await guildOf(jo);
    const typing = `mutation($c: ID!) { startTyping(channelId: $c) }`;
    const results = await Promise.all(Array.from({ length: 15 }, () => post(server, typing, { c: channelId }, jo)));
    for (const r of results) {
      expect(r.body.errors).toBeUndefined();
      expect(r.body.data.startTyping).toBe(true);
      expect(r.status).toBe(200);
    }
  });

  it("register: 10 per hour per address; another address may still register", async () => {
    const address = freshAddress();
    const register = `mutation($u: String!) { register(input: { username: $u, password: "correct horse battery" }) { token } }`;
    const base = `reg_${process.pid}_${Date.now() % 100_000}`;
    for (let i = 0; i < 10; i++) expect((await post(server, register, { u: `${base}_${i}` }, { address })).body.errors).toBeUndefined();
    expectRateLimited(await post(server, register, { u: `${base}_x` }, { address }), "register", "IP");
    expect(await database.prisma.user.count({ where: { username: `${base}_x` } })).toBe(0);
    expect((await post(server, register, { u: `${base}_y` }, { address: freshAddress() })).body.errors).toBeUndefined();
  });
});

describe("the global per-client budget", () => {
  it("refuses a signed-in user's 51st operation in a second with scope GLOBAL", async () => {
    const kim = await signUpFrom(server, "kim");
    const results = await Promise.all(Array.from({ length: 70 }, () => post(server, `{ me { id } }`, {}, kim)));
    const refused = results.filter((r) => r.status === 429);
    expect(results.filter((r) => r.status === 200).length).toBeLessThanOrEqual(50);
    expect(refused.length).toBeGreaterThanOrEqual(20);
    expectRateLimited(refused[0]!, "global", "GLOBAL");
  });

  it("counts anonymous operations per address", async () => {
    const address = freshAddress();
    const results = await Promise.all(Array.from({ length: 60 }, () => post(server, `{ __typename }`, {}, { address })));
    expect(results.filter((r) => r.status === 429).length).toBeGreaterThanOrEqual(10);
    expect((await post(server, `{ __typename }`, {}, { address: freshAddress() })).status).toBe(200);
  });
});
