import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createContext } from "../../src/context.js";
import { channelEvents } from "../../src/resolvers/subscriptions.js";
import { startTestServer, subscribe, waitForSubscribers, type GraphQLResponse, type Subscription, type TestServer } from "../support/server.js";

/**
 * Live events over graphql-ws against a real server: per-channel ordering under concurrent
 * sends, subscriptions that end when access is lost, user and guild event streams, and a
 * bounded buffer for slow consumers.
 */

type User = { token: string; id: string; username: string };

const CHANNEL_EVENTS = `subscription($c: ID!) { channelEvents(channelId: $c) {
  __typename
  ... on MessageCreated { message { id content } }
  ... on MessageUpdated { message { id content } }
  ... on MessageDeleted { messageId }
} }`;
const GUILD_EVENTS = `subscription($g: ID!) { guildEvents(guildId: $g) {
  __typename
  ... on ChannelCreated { channel { id name } }
  ... on ChannelUpdated { channel { id name position } }
  ... on ChannelDeleted { channelId }
  ... on MemberJoined { guildId user { id username } }
  ... on MemberLeft { guildId userId reason }
} }`;
const USER_EVENTS = `subscription { userEvents {
  __typename
  ... on GuildJoined { guild { id name } }
  ... on GuildLeft { guildId reason }
} }`;
const SEND = `mutation($c: ID!, $t: String!, $r: ID) { sendMessage(input: { channelId: $c, content: $t, replyToId: $r }) { id } }`;

let server: TestServer;
let ada: User; // owns every guild here

async function ok(query: string, variables: Record<string, unknown>, token: string) {
  const res = await server.gql(query, variables, token);
  expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
  return res.data;
}

/** A guild owned by ada with the given members; returns its id and #general. */
async function guildWith(members: User[], name = "Live"): Promise<{ guildId: string; channelId: string; code: string }> {
  const data = await ok(`mutation($n: String!) { createGuild(input: { name: $n }) { id channels { id } } }`, { n: name }, ada.token);
  const guildId = data.createGuild.id;
  const invite = await ok(`mutation($g: ID!) { createInvite(input: { guildId: $g }) { code } }`, { g: guildId }, ada.token);
  for (const member of members) await ok(`mutation($c: String!) { joinGuild(code: $c) { id } }`, { c: invite.createInvite.code }, member.token);
  return { guildId, channelId: data.createGuild.channels[0].id, code: invite.createInvite.code };
}

async function send(user: User, channelId: string, text: string, replyToId?: string): Promise<string> {
  return (await ok(SEND, { c: channelId, t: text, r: replyToId ?? null }, user.token)).sendMessage.id;
}

async function historyIds(channelId: string): Promise<string[]> {
  const ids: string[] = [];
  for (let after: string | null = null; ; ) {
    const data = await ok(
      `query($c: ID!, $a: ID) { channel(id: $c) { messages(first: 100, after: $a) { pageInfo { hasNextPage endCursor } edges { node { id } } } } }`,
      { c: channelId, a: after },
      ada.token,
    );
    const conn = data.channel.messages;
    ids.push(...conn.edges.map((e: { node: { id: string } }) => e.node.id));
    if (!conn.pageInfo.hasNextPage) return ids;
    after = conn.pageInfo.endCursor;
  }
}

const messageIds = (events: GraphQLResponse[]) => events.map((e) => e.data?.channelEvents?.message?.id as string);

/** The error codes in a subscription's payloads. */
const errorCodes = (sub: Subscription) => sub.received.flatMap((r) => (r.errors ?? []).map((e) => e.extensions?.code));

/** Resolves when the server completes the subscription, or fails the test after a timeout. */
async function expectCompleted(sub: Subscription, timeoutMs = 5_000) {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`not completed after ${timeoutMs} ms; got ${JSON.stringify(sub.received)}`)), timeoutMs);
  });
  try {
    await Promise.race([sub.completed, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** The first GraphQL error a subscription ended with, whether sent as a payload or as a protocol error. */
async function endError(sub: Subscription, timeoutMs = 5_000): Promise<{ message: string; extensions?: Record<string, unknown> }> {
  try {
    await expectCompleted(sub, timeoutMs);
  } catch (error) {
    if (Array.isArray(error)) return error[0]; // graphql-ws `error` message: GraphQLError[]
    throw error;
  }
  const withError = sub.received.find((r) => r.errors?.length);
  expect(withError, `no error in ${JSON.stringify(sub.received)}`).toBeDefined();
  return withError!.errors![0]!;
}

const bus = () => server.app.services.bus as unknown as { subscriberCount(topic: string): number };

beforeAll(async () => {
  server = await startTestServer();
  ada = await server.signUp("ada");
}, 120_000);

afterAll(() => server?.close());

describe("channelEvents ordering", () => {
  it("delivers 200 concurrent messages from 4 authors to 3 subscribers exactly once, in id order, matching history", { timeout: 90_000 }, async () => {
    const [bob, cat, dan] = await Promise.all([server.signUp("bob"), server.signUp("cat"), server.signUp("dan")]);
    const authors = [ada, bob!, cat!, dan!];
    const { channelId } = await guildWith([bob!, cat!, dan!], "Busy");
    const subs = [ada, bob!, cat!].map((u) => subscribe(server.ws(u.token), CHANNEL_EVENTS, { c: channelId }));
    await waitForSubscribers(server, `channel:${channelId}`, 3);

    const sent: string[] = [];
    for (let batch = 0; batch < 10; batch++) {
      const ids = await Promise.all(
        Array.from({ length: 20 }, (_, i) => {
          const n = batch * 20 + i;
          return send(authors[n % 4]!, channelId, `m${n}`);
        }),
      );
      sent.push(...ids);
    }
    expect(new Set(sent).size).toBe(200);
    const ordered = [...sent].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1));

    for (const sub of subs) {
      const events = await sub.waitFor(200, 20_000);
      const ids = messageIds(events);
      expect(ids).toHaveLength(200);
      expect(new Set(ids).size).toBe(200);
      for (let i = 1; i < ids.length; i++) expect(BigInt(ids[i]!) > BigInt(ids[i - 1]!), `event ${i} out of order`).toBe(true);
      expect(ids).toEqual(ordered);
    }
    expect(await historyIds(channelId)).toEqual(ordered);
    // Nothing more arrives later (no duplicates trickling in).
    await new Promise((resolve) => setTimeout(resolve, 200));
    for (const sub of subs) expect(sub.received).toHaveLength(200);
    subs.forEach((s) => s.unsubscribe());
  });

  it("delivers a subscription's nested selections: channel, author and replyTo", async () => {
    const bob = await server.signUp("bob");
    const { channelId } = await guildWith([bob], "Nested");
    const sub = subscribe(
      server.ws(bob.token),
      `subscription($c: ID!) { channelEvents(channelId: $c) {
        ... on MessageCreated { message { id content channel { id name } author { id username } replyTo { id content } replyToId } }
      } }`,
      { c: channelId },
    );
    await waitForSubscribers(server, `channel:${channelId}`, 1);
    const first = await send(ada, channelId, "original");
    const reply = await send(bob, channelId, "a reply", first);
    const events = await sub.waitFor(2);
    expect(events.every((e) => e.errors === undefined)).toBe(true);
    expect(events.map((e) => e.data?.channelEvents.message)).toEqual([
      { id: first, content: "original", channel: { id: channelId, name: "general" }, author: { id: ada.id, username: ada.username }, replyTo: null, replyToId: null },
      {
        id: reply,
        content: "a reply",
        channel: { id: channelId, name: "general" },
        author: { id: bob.id, username: bob.username },
        replyTo: { id: first, content: "original" },
        replyToId: first,
      },
    ]);
    sub.unsubscribe();
  });
});

describe("channelEvents when access is lost", () => {
  it("ends a kicked member's subscription with FORBIDDEN at once, while the others keep receiving", async () => {
    const [bob, cat] = await Promise.all([server.signUp("bob"), server.signUp("cat")]);
    const { guildId, channelId } = await guildWith([bob, cat], "Kick");
    const bobSub = subscribe(server.ws(bob.token), CHANNEL_EVENTS, { c: channelId });
    const catSub = subscribe(server.ws(cat.token), CHANNEL_EVENTS, { c: channelId });
    await waitForSubscribers(server, `channel:${channelId}`, 2);

    const before = await send(ada, channelId, "before the kick");
    await bobSub.waitFor(1);
    await catSub.waitFor(1);

    expect(await ok(`mutation($g: ID!, $u: ID!) { kickMember(input: { guildId: $g, userId: $u }) }`, { g: guildId, u: bob.id }, ada.token)).toEqual({
      kickMember: true,
    });
    // "At once": by the time the kick returns, the server dropped bob's subscription.
    expect(bus().subscriberCount(`channel:${channelId}`)).toBe(1);
    const error = await endError(bobSub);
    expect(error.extensions?.code).toBe("FORBIDDEN");
    expect(error.message).toMatch(/removed/);

    const after = await send(ada, channelId, "after the kick");
    expect(messageIds(await catSub.waitFor(2))).toEqual([before, after]);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(messageIds(bobSub.received.filter((r) => !r.errors))).toEqual([before]);
    catSub.unsubscribe();
  });

  it("ends the subscription of a member who leaves, with FORBIDDEN", async () => {
    const [bob, cat] = await Promise.all([server.signUp("bob"), server.signUp("cat")]);
    const { guildId, channelId } = await guildWith([bob, cat], "Leave");
    const bobSub = subscribe(server.ws(bob.token), CHANNEL_EVENTS, { c: channelId });
    const catSub = subscribe(server.ws(cat.token), CHANNEL_EVENTS, { c: channelId });
    await waitForSubscribers(server, `channel:${channelId}`, 2);

    expect(await ok(`mutation($g: ID!) { leaveGuild(guildId: $g) }`, { g: guildId }, bob.token)).toEqual({ leaveGuild: true });
    expect(bus().subscriberCount(`channel:${channelId}`)).toBe(1);
    const error = await endError(bobSub);
    expect(error.extensions?.code).toBe("FORBIDDEN");
    expect(error.message).toMatch(/no longer a member/);

    const after = await send(ada, channelId, "after leaving");
    expect(messageIds(await catSub.waitFor(1))).toEqual([after]);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(bobSub.received.filter((r) => !r.errors)).toEqual([]);
    catSub.unsubscribe();
  });

  it("ends channel subscriptions with NOT_FOUND when the guild is deleted", async () => {
    const bob = await server.signUp("bob");
    const { guildId, channelId } = await guildWith([bob], "Doomed");
    const bobSub = subscribe(server.ws(bob.token), CHANNEL_EVENTS, { c: channelId });
    const adaSub = subscribe(server.ws(ada.token), CHANNEL_EVENTS, { c: channelId });
    await waitForSubscribers(server, `channel:${channelId}`, 2);

    expect(await ok(`mutation($g: ID!) { deleteGuild(guildId: $g) }`, { g: guildId }, ada.token)).toEqual({ deleteGuild: true });
    for (const sub of [bobSub, adaSub]) {
      const error = await endError(sub);
      expect(error.extensions?.code).toBe("NOT_FOUND");
      expect(error.message).toMatch(new RegExp(`Channel ${channelId} not found`));
    }
    expect(bus().subscriberCount(`channel:${channelId}`)).toBe(0);
  });

  it("ends channel subscriptions with NOT_FOUND when the channel is deleted", async () => {
    const bob = await server.signUp("bob");
    const { guildId } = await guildWith([bob], "Channels");
    const created = await ok(`mutation($g: ID!) { createChannel(input: { guildId: $g, name: "temp" }) { id } }`, { g: guildId }, ada.token);
    const channelId = created.createChannel.id;
    const sub = subscribe(server.ws(bob.token), CHANNEL_EVENTS, { c: channelId });
    await waitForSubscribers(server, `channel:${channelId}`, 1);
    await ok(`mutation($c: ID!) { deleteChannel(channelId: $c) }`, { c: channelId }, ada.token);
    expect((await endError(sub)).extensions?.code).toBe("NOT_FOUND");
  });
});

describe("subscribing without access", () => {
  it("answers NOT_FOUND to a non-member and does not subscribe them", async () => {
    const eve = await server.signUp("eve");
    const { channelId } = await guildWith([], "Private");
    const sub = subscribe(server.ws(eve.token), CHANNEL_EVENTS, { c: channelId });
    const error = await endError(sub);
    expect(error.extensions?.code).toBe("NOT_FOUND");
    expect(error.message).toBe(`Channel ${channelId} not found.`);
    expect(bus().subscriberCount(`channel:${channelId}`)).toBe(0);
  });

  it("answers BAD_USER_INPUT on channelId for a malformed id", async () => {
    const sub = subscribe(server.ws(ada.token), CHANNEL_EVENTS, { c: "general" });
    const error = await endError(sub);
    expect(error.extensions?.code).toBe("BAD_USER_INPUT");
    expect(error.extensions?.field).toBe("channelId");
    expect(error.message).toMatch(/channelId must be an id/);
  });

  it("answers UNAUTHENTICATED to an anonymous socket", async () => {
    const { channelId } = await guildWith([], "Anon");
    const error = await endError(subscribe(server.ws(), CHANNEL_EVENTS, { c: channelId }));
    expect(error.extensions?.code).toBe("UNAUTHENTICATED");
  });
});

describe("userEvents", () => {
  it("tells every session of a user about a join (GuildJoined) and a kick (GuildLeft KICKED)", async () => {
    const fay = await server.signUp("fay");
    const login = await ok(`mutation($u: String!) { login(input: { username: $u, password: "correct horse" }) { token } }`, { u: fay.username }, "");
    const secondToken: string = login.login.token;
    expect(secondToken).not.toBe(fay.token);
    const sessions = [subscribe(server.ws(fay.token), USER_EVENTS), subscribe(server.ws(secondToken), USER_EVENTS)];
    await waitForSubscribers(server, `user:${fay.id}`, 2);

    const { guildId, code } = await guildWith([], "Welcome");
    const joined = await ok(`mutation($c: String!) { joinGuild(code: $c) { id } }`, { c: code }, fay.token);
    expect(joined.joinGuild.id).toBe(guildId);
    for (const s of sessions) {
      const [event] = await s.waitFor(1);
      expect(event!.data?.userEvents).toEqual({ __typename: "GuildJoined", guild: { id: guildId, name: "Welcome" } });
    }

    await ok(`mutation($g: ID!, $u: ID!) { kickMember(input: { guildId: $g, userId: $u }) }`, { g: guildId, u: fay.id }, ada.token);
    for (const s of sessions) {
      const events = await s.waitFor(2);
      expect(events[1]!.data?.userEvents).toEqual({ __typename: "GuildLeft", guildId, reason: "KICKED" });
    }
    sessions.forEach((s) => s.unsubscribe());
  });

  it("tells a member with reason GUILD_DELETED when the guild is deleted", async () => {
    const bob = await server.signUp("bob");
    const sub = subscribe(server.ws(bob.token), USER_EVENTS);
    await waitForSubscribers(server, `user:${bob.id}`, 1);
    const { guildId } = await guildWith([bob], "Gone");
    await ok(`mutation($g: ID!) { deleteGuild(guildId: $g) }`, { g: guildId }, ada.token);
    const events = await sub.waitFor(2);
    expect(events.map((e) => e.data?.userEvents.__typename)).toEqual(["GuildJoined", "GuildLeft"]);
    expect(events[1]!.data?.userEvents).toEqual({ __typename: "GuildLeft", guildId, reason: "GUILD_DELETED" });
    sub.unsubscribe();
  });
});

describe("guildEvents", () => {
  it("delivers ChannelCreated, ChannelUpdated, MemberJoined and MemberLeft to members", async () => {
    const [bob, gus] = await Promise.all([server.signUp("bob"), server.signUp("gus")]);
    const { guildId, code } = await guildWith([bob], "Structure");
    const subs = [subscribe(server.ws(ada.token), GUILD_EVENTS, { g: guildId }), subscribe(server.ws(bob.token), GUILD_EVENTS, { g: guildId })];
    await waitForSubscribers(server, `guild:${guildId}`, 2);

    const created = await ok(`mutation($g: ID!) { createChannel(input: { guildId: $g, name: "News Feed" }) { id } }`, { g: guildId }, ada.token);
    const newId = created.createChannel.id;
    await ok(`mutation($c: ID!) { updateChannel(input: { channelId: $c, name: "announcements", position: 0 }) { id } }`, { c: newId }, ada.token);
    await ok(`mutation($c: String!) { joinGuild(code: $c) { id } }`, { c: code }, gus.token);
    await ok(`mutation($g: ID!) { leaveGuild(guildId: $g) }`, { g: guildId }, gus.token);

    for (const sub of subs) {
      const events = (await sub.waitFor(4)).map((e) => e.data?.guildEvents);
      expect(events).toEqual([
        { __typename: "ChannelCreated", channel: { id: newId, name: "news-feed" } },
        { __typename: "ChannelUpdated", channel: { id: newId, name: "announcements", position: 0 } },
        { __typename: "MemberJoined", guildId, user: { id: gus.id, username: gus.username } },
        { __typename: "MemberLeft", guildId, userId: gus.id, reason: "LEFT" },
      ]);
    }
    subs.forEach((s) => s.unsubscribe());
  });

  it("answers NOT_FOUND to a non-member, who receives nothing", async () => {
    const eve = await server.signUp("eve");
    const { guildId } = await guildWith([], "Closed");
    const sub = subscribe(server.ws(eve.token), GUILD_EVENTS, { g: guildId });
    const error = await endError(sub);
    expect(error.extensions?.code).toBe("NOT_FOUND");
    expect(error.message).toBe(`Guild ${guildId} not found.`);
    await ok(`mutation($g: ID!) { createChannel(input: { guildId: $g, name: "secret" }) { id } }`, { g: guildId }, ada.token);
    expect(sub.received.filter((r) => r.data?.guildEvents)).toEqual([]);
    expect(bus().subscriberCount(`guild:${guildId}`)).toBe(0);
  });

  it("ends a kicked member's guildEvents with FORBIDDEN", async () => {
    const bob = await server.signUp("bob");
    const { guildId } = await guildWith([bob], "KickG");
    const sub = subscribe(server.ws(bob.token), GUILD_EVENTS, { g: guildId });
    await waitForSubscribers(server, `guild:${guildId}`, 1);
    await ok(`mutation($g: ID!, $u: ID!) { kickMember(input: { guildId: $g, userId: $u }) }`, { g: guildId, u: bob.id }, ada.token);
    expect((await endError(sub)).extensions?.code).toBe("FORBIDDEN");
  });
});

describe("slow consumers (use-case level)", () => {
  // Over a real socket graphql-ws drains the stream as fast as the server can write, so a slow
  // reader cannot be staged reliably in a test; the bound lives in the use case's stream, so it
  // is tested there, with the buffer set to 5 as SUBSCRIPTION_BUFFER_SIZE=5 would.
  it("ends a stream that falls more than 5 events behind with RATE_LIMITED, without slowing others", async () => {
    const bob = await server.signUp("bob");
    const { channelId } = await guildWith([bob], "Slow");
    const { services } = server.app;
    const [viewer] = await services.accounts.getUsers([BigInt(bob.id)]);
    const ctx = createContext({ ...services, settings: { ...services.settings, subscriptionBufferSize: 5 } }, { viewer: viewer!, tokenHash: null, authFailure: null });

    const slow = await channelEvents(ctx, BigInt(channelId));
    // The first item is Subscribed; taken, it leaves the whole buffer to events.
    expect((await slow.next()).value).toMatchObject({ kind: "event", event: { type: "Subscribed" } });
    const fast = subscribe(server.ws(bob.token), CHANNEL_EVENTS, { c: channelId });
    await waitForSubscribers(server, `channel:${channelId}`, 2);

    const sent: string[] = [];
    for (let i = 0; i < 5; i++) sent.push(await send(ada, channelId, `s${i}`));
    expect(slow.ended).toBe(false); // 5 waiting: exactly the bound
    sent.push(await send(ada, channelId, "one too many"));
    expect(slow.ended).toBe(true);
    expect(bus().subscriberCount(`channel:${channelId}`)).toBe(1);

    const first = await slow.next();
    expect(first.done).toBe(false);
    expect(first.value).toMatchObject({ kind: "end" });
    const error = (first.value as { kind: "end"; error: { message: string; extensions: Record<string, unknown> } }).error;
    expect(error.extensions.code).toBe("RATE_LIMITED");
    expect(error.message).toMatch(/fell too far behind.*last cursor/);
    expect((await slow.next()).done).toBe(true);

    expect(messageIds(await fast.waitFor(6))).toEqual(sent);
    fast.unsubscribe();
  });

  it("delivers everything to a consumer that stays within the bound", async () => {
    const bob = await server.signUp("bob");
    const { channelId } = await guildWith([bob], "Steady");
    const { services } = server.app;
    const [viewer] = await services.accounts.getUsers([BigInt(bob.id)]);
    const ctx = createContext({ ...services, settings: { ...services.settings, subscriptionBufferSize: 5 } }, { viewer: viewer!, tokenHash: null, authFailure: null });
    const stream = await channelEvents(ctx, BigInt(channelId));
    expect((await stream.next()).value).toMatchObject({ kind: "event", event: { type: "Subscribed" } });
    const sent: string[] = [];
    const got: string[] = [];
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 5; i++) sent.push(await send(ada, channelId, `r${round}-${i}`));
      for (let i = 0; i < 5; i++) {
        const item = await stream.next();
        expect(item.value).toMatchObject({ kind: "event" });
        got.push(String((item.value as { kind: "event"; event: { type: string; message: { id: bigint } } }).event.message.id));
      }
    }
    expect(got).toEqual(sent);
    await stream.return!();
    expect(bus().subscriberCount(`channel:${channelId}`)).toBe(0);
  });
});
