import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { eventually } from "../support/assertions.js";
import { befriend } from "../support/people.js";
import { startTestServer, subscribe, waitForSubscribers, type Subscription, type TestServer } from "../support/server.js";

/**
 * Presence over real sockets on one instance (memory PresenceStore): online on connect, offline
 * on disconnect or when a client stops answering pings, several devices, chosen statuses and
 * INVISIBLE, who may see whom, coalescing, and large guilds that get counts instead of events.
 */

type User = { token: string; id: string; username: string };

const HEARTBEAT_MS = 300;
const GUILD_EVENTS = `subscription($g: ID!) { guildEvents(guildId: $g) {
  __typename
  ... on PresenceUpdated { user { id } status at }
  ... on OnlineCountUpdated { guildId onlineCount }
} }`;
const USER_EVENTS = `subscription { userEvents {
  __typename
  ... on PresenceUpdated { user { id } status }
} }`;
const PRESENCE = `query($ids: [ID!]!) { presence(userIds: $ids) { user { id } status } }`;

let server: TestServer;
let owner: User;

/** A guild owned by `owner` with the given members. */
async function guildWith(members: User[], name = "Presence"): Promise<{ guildId: string; channelId: string }> {
  const data = await server.ok(`mutation($n: String!) { createGuild(input: { name: $n }) { id channels { id } } }`, { n: name }, owner.token);
  const guildId = data.createGuild.id;
  const invite = await server.ok(`mutation($g: ID!) { createInvite(input: { guildId: $g }) { code } }`, { g: guildId }, owner.token);
  for (const member of members) await server.ok(`mutation($c: String!) { joinGuild(code: $c) { id } }`, { c: invite.createInvite.code }, member.token);
  return { guildId, channelId: data.createGuild.channels[0].id };
}

/** A raw authenticated graphql-ws socket (connection_init only): a presence session and nothing else. */
async function connect(user: User): Promise<WebSocket> {
  const socket = new WebSocket(server.wsUrl, "graphql-transport-ws");
  await new Promise<void>((resolve, reject) => {
    socket.once("open", () => socket.send(JSON.stringify({ type: "connection_init", payload: { authorization: `Bearer ${user.token}` } })));
    socket.on("message", (data) => {
      if (JSON.parse(String(data)).type === "connection_ack") resolve();
    });
    socket.once("error", reject);
  });
  return socket;
}

async function disconnect(socket: WebSocket): Promise<void> {
  if (socket.readyState === WebSocket.CLOSED) return;
  await new Promise<void>((resolve) => {
    socket.once("close", () => resolve());
    socket.close(1000);
  });
}

/** Presence of `ids` as `viewer` sees it, by id. */
async function presenceAs(viewer: User, ids: string[]): Promise<Record<string, string>> {
  const data = await server.ok(PRESENCE, { ids }, viewer.token);
  return Object.fromEntries(data.presence.map((p: { user: { id: string }; status: string }) => [p.user.id, p.status]));
}


/** PresenceUpdated payloads about `userId` received by a subscription, as statuses. */
function statusesOf(sub: Subscription, field: "guildEvents" | "userEvents", userId: string): string[] {
  return sub.received
    .map((r) => r.data?.[field])
    .filter((e) => e?.__typename === "PresenceUpdated" && e.user.id === userId)
    .map((e) => e.status as string);
}

beforeAll(async () => {
  server = await startTestServer({
    env: { PRESENCE_HEARTBEAT_MS: String(HEARTBEAT_MS), LARGE_GUILD_THRESHOLD: "6", ONLINE_COUNT_REFRESH_MS: "100" },
    warmUp: true,
  });
  owner = await server.signUp("owner");
}, 120_000);

afterAll(() => server?.close());

describe("presence from connections", () => {
  it("goes ONLINE when a user connects and OFFLINE when they disconnect, told to their guild", async () => {
    const bob = await server.signUp("bob");
    const { guildId } = await guildWith([bob]);
    const watch = subscribe(server.ws(owner.token), GUILD_EVENTS, { g: guildId });
    await waitForSubscribers(server, `guild:${guildId}`);
    expect(await presenceAs(owner, [bob.id])).toEqual({ [bob.id]: "OFFLINE" });

    const socket = await connect(bob);
    await eventually(() => expect(statusesOf(watch, "guildEvents", bob.id)).toEqual(["ONLINE"]));
    expect(await presenceAs(owner, [bob.id])).toEqual({ [bob.id]: "ONLINE" });

    await disconnect(socket);
    // Coalescing holds the second change of the same user until a second has passed.
    await eventually(() => expect(statusesOf(watch, "guildEvents", bob.id)).toEqual(["ONLINE", "OFFLINE"]), 3_000);
    expect(await presenceAs(owner, [bob.id])).toEqual({ [bob.id]: "OFFLINE" });
  });

  it("keeps a user online while any of their devices is connected", async () => {
    const bob = await server.signUp("bob");
    const { guildId } = await guildWith([bob]);
    const watch = subscribe(server.ws(owner.token), GUILD_EVENTS, { g: guildId });
    await waitForSubscribers(server, `guild:${guildId}`);
    const phone = await connect(bob);
    const laptop = await connect(bob);
    await eventually(() => expect(statusesOf(watch, "guildEvents", bob.id)).toEqual(["ONLINE"]));
    await disconnect(phone);
    await new Promise((resolve) => setTimeout(resolve, 1_300));
    expect(await presenceAs(owner, [bob.id])).toEqual({ [bob.id]: "ONLINE" });
    expect(statusesOf(watch, "guildEvents", bob.id)).toEqual(["ONLINE"]);
    await disconnect(laptop);
    await eventually(() => expect(statusesOf(watch, "guildEvents", bob.id)).toEqual(["ONLINE", "OFFLINE"]));
  });

  it("takes a client that stops answering pings offline within 2x the heartbeat", async () => {
    const bob = await server.signUp("bob");
    await guildWith([bob]);
    const socket = await connect(bob);
    await eventually(async () => expect(await presenceAs(bob, [bob.id])).toEqual({ [bob.id]: "ONLINE" }));
    // A frozen client: its TCP connection stays open but it reads nothing, so it never pongs.
    const raw = (socket as unknown as { _socket: import("node:net").Socket })._socket;
    raw.pause();
    const frozenAt = Date.now();
    await eventually(async () => expect(await presenceAs(bob, [bob.id])).toEqual({ [bob.id]: "OFFLINE" }), 10 * HEARTBEAT_MS);
    expect(Date.now() - frozenAt).toBeLessThanOrEqual(2 * HEARTBEAT_MS + 400);
    raw.destroy();
  });

  it("expires the sessions of an instance that vanished without a goodbye within 2x the heartbeat", async () => {
    const bob = await server.signUp("bob");
    const { guildId } = await guildWith([bob]);
    const watch = subscribe(server.ws(owner.token), GUILD_EVENTS, { g: guildId });
    await waitForSubscribers(server, `guild:${guildId}`);
    // Another instance's session, as that instance would have registered it; then it dies and
    // never refreshes it. This instance's sweep must notice.
    const { presence, now } = server.app.services;
    const ttlMs = Math.round(HEARTBEAT_MS * 1.75);
    const connectedAt = Date.now();
    await presence.connect({ userId: BigInt(bob.id), sessionId: "dead-instance-session", guildIds: [BigInt(guildId)] }, now(), ttlMs);
    expect(await presenceAs(owner, [bob.id])).toEqual({ [bob.id]: "ONLINE" });
    await eventually(() => expect(statusesOf(watch, "guildEvents", bob.id)).toEqual(["OFFLINE"]), 10 * HEARTBEAT_MS);
    expect(Date.now() - connectedAt).toBeLessThanOrEqual(2 * HEARTBEAT_MS + 200);
  });
});

describe("revoked tokens", () => {
  /** Resolves with the close code once the server closes `socket`. */
  const closed = (socket: WebSocket) => new Promise<number>((resolve) => socket.once("close", (code) => resolve(code)));

  it("closes a logged-out token's sockets with 4401, answering a logout sent on one first; the user goes offline, another token's socket stays", async () => {
    const bob = await server.signUp("bob");
    await guildWith([bob]);
    const other = { ...bob, token: (await server.ok(`mutation($u: String!) { login(input: { username: $u, password: "correct horse" }) { token } }`, { u: bob.username }, owner.token)).login.token as string };
    const [first, second, kept] = [await connect(bob), await connect(bob), await connect(other)];
    const [firstClosed, secondClosed] = [closed(first), closed(second)];
    await eventually(async () => expect(await presenceAs(owner, [bob.id])).toEqual({ [bob.id]: "ONLINE" }));

    // The logout travels on one of the sockets it revokes: its reply arrives, then the close.
    const reply = new Promise<unknown>((resolve) => first.on("message", (data) => {
      const message = JSON.parse(String(data));
      if (message.type === "next" && message.id === "out") resolve(message.payload);
    }));
    first.send(JSON.stringify({ id: "out", type: "subscribe", payload: { query: "mutation { logout }" } }));
    expect(await reply).toEqual({ data: { logout: true } });
    expect(await firstClosed).toBe(4401);
    expect(await secondClosed).toBe(4401);
    expect(kept.readyState).toBe(WebSocket.OPEN);
    expect(await presenceAs(owner, [bob.id]), "the other token's socket keeps bob online").toEqual({ [bob.id]: "ONLINE" });

    await disconnect(kept);
    await eventually(async () => expect(await presenceAs(owner, [bob.id])).toEqual({ [bob.id]: "OFFLINE" }), 3_000);
  });

  it("closes every socket of a bot whose token was reset", async () => {
    const data = await server.ok(`mutation($u: String!) { createBot(input: { username: $u }) { token user { id username } } }`, { u: `bot_${process.pid % 10000}_${Date.now() % 100000}` }, owner.token);
    const bot: User = { token: data.createBot.token, id: data.createBot.user.id, username: data.createBot.user.username };
    const sockets = [await connect(bot), await connect(bot)];
    const codes = Promise.all(sockets.map(closed));
    await server.ok(`mutation($b: ID!) { resetBotToken(botId: $b) { token } }`, { b: bot.id }, owner.token);
    expect(await codes).toEqual([4401, 4401]);
  });
});

describe("chosen status", () => {
  it("applies setPresence to all sessions, hides INVISIBLE from others, and keeps the choice across reconnects", async () => {
    const bob = await server.signUp("bob");
    const { guildId } = await guildWith([bob]);
    const watch = subscribe(server.ws(owner.token), GUILD_EVENTS, { g: guildId });
    await waitForSubscribers(server, `guild:${guildId}`);
    // Bob's client: its socket is his session, and it listens to his own events.
    const bobClient = server.ws(bob.token);
    const self = subscribe(bobClient, USER_EVENTS);
    await waitForSubscribers(server, `user:${bob.id}`);
    await eventually(() => expect(statusesOf(watch, "guildEvents", bob.id)).toEqual(["ONLINE"]));
    const onlineCount = async () => (await server.ok(`query($g: ID!) { guild(id: $g) { onlineCount } }`, { g: guildId }, owner.token)).guild.onlineCount;
    await eventually(async () => expect(await onlineCount()).toBe(2)); // bob and the owner

    const set = (status: string) => server.gql(`mutation($s: PresenceStatus!) { setPresence(status: $s) }`, { s: status }, bob.token);
    expect((await set("DND")).data).toEqual({ setPresence: "DND" });
    await eventually(() => expect(statusesOf(watch, "guildEvents", bob.id)).toEqual(["ONLINE", "DND"]));

    expect((await set("INVISIBLE")).data).toEqual({ setPresence: "INVISIBLE" });
    await eventually(() => expect(statusesOf(watch, "guildEvents", bob.id)).toEqual(["ONLINE", "DND", "OFFLINE"]));
    await eventually(() => expect(statusesOf(self, "userEvents", bob.id).at(-1)).toBe("INVISIBLE"));
    expect(await presenceAs(owner, [bob.id])).toEqual({ [bob.id]: "OFFLINE" });
    expect(await presenceAs(bob, [bob.id])).toEqual({ [bob.id]: "INVISIBLE" });
    const guild = await server.ok(`query($g: ID!) { guild(id: $g) { onlineCount activeMembers { user { id } } } }`, { g: guildId }, owner.token);
    expect(guild.guild).toEqual({ onlineCount: 1, activeMembers: [{ user: { id: owner.id } }] });

    // Going offline while invisible tells nobody anything new; the choice survives it.
    await bobClient.dispose();
    await eventually(async () => expect(await presenceAs(bob, [bob.id])).toEqual({ [bob.id]: "OFFLINE" }));
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    expect(statusesOf(watch, "guildEvents", bob.id)).toEqual(["ONLINE", "DND", "OFFLINE"]);
    const again = await connect(bob);
    await eventually(async () => expect(await presenceAs(bob, [bob.id])).toEqual({ [bob.id]: "INVISIBLE" }));
    expect(await presenceAs(owner, [bob.id])).toEqual({ [bob.id]: "OFFLINE" });
    expect(await onlineCount()).toBe(1);
    expect((await set("IDLE")).data).toEqual({ setPresence: "IDLE" });
    await eventually(() => expect(statusesOf(watch, "guildEvents", bob.id).at(-1)).toBe("IDLE"));
    expect(await onlineCount()).toBe(2);
    await disconnect(again);
  });

  it("answers setPresence without a connection with OFFLINE, and refuses OFFLINE and anonymous calls", async () => {
    const bob = await server.signUp("bob");
    const idle = await server.gql(`mutation { setPresence(status: IDLE) }`, {}, bob.token);
    expect(idle.data).toEqual({ setPresence: "OFFLINE" });
    const offline = await server.gql(`mutation { setPresence(status: OFFLINE) }`, {}, bob.token);
    expect(offline.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "status" });
    const anonymous = await server.gql(`mutation { setPresence(status: ONLINE) }`);
    expect(anonymous.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
    const socket = await connect(bob);
    await eventually(async () => expect(await presenceAs(bob, [bob.id])).toEqual({ [bob.id]: "IDLE" }));
    await disconnect(socket);
  });
});

describe("who sees whose presence", () => {
  const SET_POLICY = `mutation($p: DirectMessagePolicy!) { updateSettings(input: { allowDirectMessagesFrom: $p }) { allowDirectMessagesFrom } }`;

  it("shows OFFLINE to strangers, also to a DM partner, the truth to guildmates and friends, and tells friends", async () => {
    const [bob, carol, dave, fay] = await Promise.all([server.signUp("bob"), server.signUp("carol"), server.signUp("dave"), server.signUp("fay")]);
    await guildWith([bob]);
    await befriend(server, bob, fay);
    // A DM alone grants no presence (dave lets anyone DM him, so bob can open one).
    await server.ok(SET_POLICY, { p: "EVERYONE" }, dave.token);
    await server.ok(`mutation($u: [ID!]!) { openDirectMessage(userIds: $u) { id } }`, { u: [dave.id] }, bob.token);
    const fayEvents = subscribe(server.ws(fay.token), USER_EVENTS);
    const daveEvents = subscribe(server.ws(dave.token), USER_EVENTS);
    await waitForSubscribers(server, `user:${fay.id}`);
    await waitForSubscribers(server, `user:${dave.id}`);
    const socket = await connect(bob);
    await eventually(() => expect(statusesOf(fayEvents, "userEvents", bob.id)).toEqual(["ONLINE"]));

    expect(await presenceAs(owner, [bob.id])).toEqual({ [bob.id]: "ONLINE" });
    expect(await presenceAs(fay, [bob.id])).toEqual({ [bob.id]: "ONLINE" });
    expect(await presenceAs(dave, [bob.id])).toEqual({ [bob.id]: "OFFLINE" });
    expect(await presenceAs(carol, [bob.id])).toEqual({ [bob.id]: "OFFLINE" });
    const asField = await server.ok(`query($ids: [ID!]!) { users(ids: $ids) { id presence } }`, { ids: [bob.id] }, carol.token);
    expect(asField.users).toEqual([{ id: bob.id, presence: "OFFLINE" }]);
    const asMate = await server.ok(`query($ids: [ID!]!) { users(ids: $ids) { id presence } }`, { ids: [bob.id] }, owner.token);
    expect(asMate.users).toEqual([{ id: bob.id, presence: "ONLINE" }]);
    // A stranger's userEvents never carries it.
    const carolEvents = subscribe(server.ws(carol.token), USER_EVENTS);
    await waitForSubscribers(server, `user:${carol.id}`);
    await disconnect(socket);
    await eventually(() => expect(statusesOf(fayEvents, "userEvents", bob.id)).toEqual(["ONLINE", "OFFLINE"]));
    expect(carolEvents.received).toEqual([]);
    expect(statusesOf(daveEvents, "userEvents", bob.id)).toEqual([]);
  });

  it("friends see each other's presence from the moment they become friends, and no longer once they are not", async () => {
    const [bob, fay] = await Promise.all([server.signUp("bob"), server.signUp("fay")]);
    const fayEvents = subscribe(server.ws(fay.token), USER_EVENTS);
    await waitForSubscribers(server, `user:${fay.id}`);
    const socket = await connect(bob);
    await server.ok(`mutation { setPresence(status: DND) }`, {}, bob.token);
    expect(await presenceAs(fay, [bob.id])).toEqual({ [bob.id]: "OFFLINE" });
    await befriend(server, bob, fay);
    await eventually(() => expect(statusesOf(fayEvents, "userEvents", bob.id)).toEqual(["DND"]));
    expect(await presenceAs(fay, [bob.id])).toEqual({ [bob.id]: "DND" });
    await server.ok(`mutation($u: ID!) { removeFriend(userId: $u) }`, { u: bob.id }, fay.token);
    await eventually(() => expect(statusesOf(fayEvents, "userEvents", bob.id)).toEqual(["DND", "OFFLINE"]), 3_000);
    expect(await presenceAs(fay, [bob.id])).toEqual({ [bob.id]: "OFFLINE" });
    await server.ok(`mutation { setPresence(status: ONLINE) }`, {}, bob.token);
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    expect(statusesOf(fayEvents, "userEvents", bob.id)).toEqual(["DND", "OFFLINE"]);
    await disconnect(socket);
  });

  it("a block hides presence both ways, even between guildmates: each sees the other OFFLINE and gets none of their events", async () => {
    const [bob, carol] = await Promise.all([server.signUp("bob"), server.signUp("carol")]);
    const { guildId } = await guildWith([bob, carol]);
    const ownerWatch = subscribe(server.ws(owner.token), GUILD_EVENTS, { g: guildId });
    const bobClient = server.ws(bob.token);
    const carolClient = server.ws(carol.token);
    const [bobGuild, bobSelf] = [subscribe(bobClient, GUILD_EVENTS, { g: guildId }), subscribe(bobClient, USER_EVENTS)];
    const [carolGuild, carolSelf] = [subscribe(carolClient, GUILD_EVENTS, { g: guildId }), subscribe(carolClient, USER_EVENTS)];
    await waitForSubscribers(server, `guild:${guildId}`, 3);
    await waitForSubscribers(server, `user:${bob.id}`);
    await waitForSubscribers(server, `user:${carol.id}`);
    await eventually(async () => expect(await presenceAs(carol, [bob.id])).toEqual({ [bob.id]: "ONLINE" }));

    await server.ok(`mutation($u: ID!) { blockUser(userId: $u) { type } }`, { u: bob.id }, carol.token);
    // Each is told the other is offline now, and the presence they may read says so.
    await eventually(() => expect(statusesOf(carolSelf, "userEvents", bob.id).at(-1)).toBe("OFFLINE"));
    await eventually(() => expect(statusesOf(bobSelf, "userEvents", carol.id).at(-1)).toBe("OFFLINE"));
    expect(await presenceAs(carol, [bob.id, carol.id])).toEqual({ [bob.id]: "OFFLINE", [carol.id]: "ONLINE" });
    expect(await presenceAs(bob, [carol.id])).toEqual({ [carol.id]: "OFFLINE" });
    expect(await presenceAs(owner, [bob.id, carol.id])).toEqual({ [bob.id]: "ONLINE", [carol.id]: "ONLINE" });

    const [carolSawBob, bobSawCarol] = [statusesOf(carolGuild, "guildEvents", bob.id).length, statusesOf(bobGuild, "guildEvents", carol.id).length];
    await server.ok(`mutation { setPresence(status: DND) }`, {}, bob.token);
    await server.ok(`mutation { setPresence(status: IDLE) }`, {}, carol.token);
    await eventually(() => expect(statusesOf(ownerWatch, "guildEvents", bob.id).at(-1)).toBe("DND"));
    await eventually(() => expect(statusesOf(ownerWatch, "guildEvents", carol.id).at(-1)).toBe("IDLE"));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(statusesOf(carolGuild, "guildEvents", bob.id)).toHaveLength(carolSawBob);
    expect(statusesOf(bobGuild, "guildEvents", carol.id)).toHaveLength(bobSawCarol);

    // Unblocked guildmates see each other again at once.
    await server.ok(`mutation($u: ID!) { unblockUser(userId: $u) }`, { u: bob.id }, carol.token);
    await eventually(() => expect(statusesOf(carolSelf, "userEvents", bob.id).at(-1)).toBe("DND"), 3_000);
    expect(await presenceAs(carol, [bob.id])).toEqual({ [bob.id]: "DND" });
    await server.ok(`mutation { setPresence(status: ONLINE) }`, {}, bob.token);
    await eventually(() => expect(statusesOf(carolGuild, "guildEvents", bob.id).at(-1)).toBe("ONLINE"), 3_000);
    await Promise.all([bobClient.dispose(), carolClient.dispose()]);
  });

  it("rejects bad presence queries with codes", async () => {
    const bob = await server.signUp("bob");
    const tooMany = await server.gql(PRESENCE, { ids: Array.from({ length: 101 }, (_, i) => String(i + 1)) }, bob.token);
    expect(tooMany.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "userIds" });
    const badId = await server.gql(PRESENCE, { ids: ["nope"] }, bob.token);
    expect(badId.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT" });
    const anonymous = await server.gql(PRESENCE, { ids: [bob.id] });
    expect(anonymous.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
    const unknown = await server.ok(PRESENCE, { ids: ["123456789"] }, bob.token);
    expect(unknown.presence).toEqual([]);
  });
});

describe("coalescing", () => {
  it("sends at most one PresenceUpdated per user per second per stream, ending on the last state", async () => {
    const bob = await server.signUp("bob");
    const { guildId } = await guildWith([bob]);
    const watch = subscribe(server.ws(owner.token), GUILD_EVENTS, { g: guildId });
    await waitForSubscribers(server, `guild:${guildId}`);
    const socket = await connect(bob);
    const started = Date.now();
    const statuses = ["IDLE", "DND", "ONLINE"];
    for (let i = 0; i < 30; i++) {
      await server.ok(`mutation($s: PresenceStatus!) { setPresence(status: $s) }`, { s: statuses[i % 3] }, bob.token);
    }
    await server.ok(`mutation { setPresence(status: DND) }`, {}, bob.token);
    await eventually(() => expect(statusesOf(watch, "guildEvents", bob.id).at(-1)).toBe("DND"), 4_000);
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    const seconds = (Date.now() - started) / 1000;
    const events = statusesOf(watch, "guildEvents", bob.id);
    expect(events.length).toBeLessThanOrEqual(Math.ceil(seconds) + 1);
    expect(events.at(-1)).toBe("DND");
    await disconnect(socket);
  });
});

describe("large guilds", () => {
  it("sends no per-member presence, but an online count that stays right, and lists active members", async () => {
    const members = await Promise.all(Array.from({ length: 6 }, (_, i) => server.signUp(`crowd${i}`)));
    const { guildId, channelId } = await guildWith(members, "Crowd");
    const info = await server.ok(`query($g: ID!) { guild(id: $g) { memberCount large onlineCount } }`, { g: guildId }, owner.token);
    expect(info.guild).toEqual({ memberCount: 7, large: true, onlineCount: 0 });
    const watch = subscribe(server.ws(owner.token), GUILD_EVENTS, { g: guildId });
    await waitForSubscribers(server, `guild:${guildId}`);

    const sockets = await Promise.all(members.map((m) => connect(m)));
    const count = async () => (await server.ok(`query($g: ID!) { guild(id: $g) { onlineCount } }`, { g: guildId }, owner.token)).guild.onlineCount;
    // The six members and the owner (whose subscription socket is a session too).
    await eventually(async () => expect(await count()).toBe(7));
    const lastCount = () => watch.received.map((r) => r.data?.guildEvents).filter((e) => e?.__typename === "OnlineCountUpdated").at(-1)?.onlineCount;
    await eventually(() => expect(lastCount()).toBe(7));

    // The most recently active member comes first.
    await server.ok(`mutation($c: ID!) { sendMessage(input: { channelId: $c, content: "hi" }) { id } }`, { c: channelId }, members[3]!.token);
    const active = await server.ok(`query($g: ID!) { guild(id: $g) { activeMembers(first: 3) { user { id } status lastActiveAt } } }`, { g: guildId }, owner.token);
    expect(active.guild.activeMembers).toHaveLength(3);
    expect(active.guild.activeMembers[0].user.id).toBe(members[3]!.id);
    expect(active.guild.activeMembers.every((m: { status: string }) => m.status === "ONLINE")).toBe(true);

    await Promise.all(sockets.slice(0, 4).map(disconnect));
    await eventually(async () => expect(await count()).toBe(3));
    await eventually(() => expect(lastCount()).toBe(3));
    // A member who leaves stops counting at once.
    await server.ok(`mutation($g: ID!) { leaveGuild(guildId: $g) }`, { g: guildId }, members[5]!.token);
    await eventually(async () => expect(await count()).toBe(2));
    await eventually(() => expect(lastCount()).toBe(2));
    const types = new Set(watch.received.map((r) => r.data?.guildEvents?.__typename));
    expect(types.has("PresenceUpdated")).toBe(false);
    // Counts come at a bounded rate, not one per connect.
    expect(watch.received.filter((r) => r.data?.guildEvents?.__typename === "OnlineCountUpdated").length).toBeLessThan(8);
    await Promise.all(sockets.map(disconnect));
  });

  it("keeps onlineCount and activeMembers to members", async () => {
    const stranger = await server.signUp("stranger");
    const { guildId } = await guildWith([]);
    const res = await server.gql(`query($g: ID!) { guild(id: $g) { onlineCount } }`, { g: guildId }, stranger.token);
    expect(res.errors?.[0]?.extensions?.code).toBe("NOT_FOUND");
    const bad = await server.gql(`query($g: ID!) { guild(id: $g) { activeMembers(first: 101) { user { id } } } }`, { g: guildId }, owner.token);
    expect(bad.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "first" });
  });
});
