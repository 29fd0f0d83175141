import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fanoutStats } from "../../src/gateway/shared-fanout.js";
import { ending, eventually, type User } from "../support/assertions.js";
import { befriend, guildOf } from "../support/people.js";
import { startTestServer, strip, subscribe, withTypename, type GraphQLResponse, type Subscription, type TestServer } from "../support/server.js";

/**
 * messageEvents: one subscription for every channel a user or bot can read, now and later.
 * Channels join and leave the stream with access (ChannelWatched / ChannelUnwatched) without
 * ending it; each message event carries its channel's cursor, and `resume` replays per channel.
 */

const EVENTS = `subscription($f: MessageEventFilter, $r: [ChannelResumeCursor!]) { messageEvents(filter: $f, resume: $r) {
  __typename ... on LiveEvent { cursor }
  ... on ChannelWatched { channelId guildId } ... on ChannelUnwatched { channelId cause }
  ... on MessageCreated { channelId message { id content } } ... on MessageUpdated { channelId message { id content } }
  ... on MessageDeleted { channelId messageId } ... on ChannelResyncRequired { channelId reason } } }`;
const SEND = `mutation($c: ID!, $t: String!) { sendMessage(input: { channelId: $c, content: $t }) { id } }`;
const CREATE_CHANNEL = `mutation($g: ID!, $n: String!, $o: [PermissionOverwriteInput!]) { createChannel(input: { guildId: $g, name: $n, permissionOverwrites: $o }) { id } }`;
const CREATE_ROLE = `mutation($g: ID!) { createRole(input: { guildId: $g, name: "insiders", permissions: [] }) { id } }`;
const ADD_ROLE = `mutation($g: ID!, $u: ID!, $r: ID!) { addMemberRole(input: { guildId: $g, userId: $u, roleId: $r }) }`;
const REMOVE_ROLE = `mutation($g: ID!, $u: ID!, $r: ID!) { removeMemberRole(input: { guildId: $g, userId: $u, roleId: $r }) }`;
const INVITE = `mutation($g: ID!) { createInvite(input: { guildId: $g }) { code } }`;
const JOIN = `mutation($c: String!) { joinGuild(code: $c) { id } }`;

type Event = { __typename: string; cursor?: string; channelId?: string; guildId?: string | null; cause?: string; reason?: string; message?: { id: string; content: string }; messageId?: string };

const events = (sub: Subscription): Event[] => sub.received.filter((r) => !r.errors).map((r) => r.data.messageEvents as Event);
const contents = (sub: Subscription): string[] => events(sub).flatMap((e) => (e.__typename === "MessageCreated" ? [e.message!.content] : []));
const watched = (sub: Subscription): string[] => events(sub).flatMap((e) => (e.__typename === "ChannelWatched" ? [e.channelId!] : []));

/** Waits until the stream delivered an event matching `match` (and returns it). */
async function until(sub: Subscription, match: (e: Event) => boolean, timeoutMs = 5_000): Promise<Event> {
  let found: Event | undefined;
  await eventually(() => {
    found = events(sub).find(match);
    expect(found, JSON.stringify(events(sub))).toBeDefined();
  }, timeoutMs);
  return found!;
}

describe("messageEvents", () => {
  let server: TestServer;
  let ada: User;
  const ok = <T = any>(query: string, variables: Record<string, unknown>, as: User): Promise<T> => server.ok<T>(query, variables, as.token);
  const send = async (channelId: string, text: string, as: User = ada) => (await ok(SEND, { c: channelId, t: text }, as)).sendMessage.id as string;
  /** A bot of ada's, in `guilds` guilds of hers; its token, id, and the guilds. */
  async function botIn(count: number): Promise<{ bot: User; guilds: { guildId: string; channelId: string }[] }> {
    const created = (await ok(`mutation($u: String!) { createBot(input: { username: $u }) { token user { id username } } }`, { u: `bot_${process.pid}_${Math.random().toString(36).slice(2, 8)}` }, ada)).createBot;
    const bot = { token: created.token, id: created.user.id, username: created.user.username };
    const guilds = [];
    for (let i = 0; i < count; i++) guilds.push(await guildOf(server, ada, [bot], `Bot home ${i}`));
    return { bot, guilds };
  }
  const live = async (as: User, variables: Record<string, unknown> = {}, expectWatched = 0): Promise<Subscription> => {
    const sub = subscribe(server.ws(as.token), EVENTS, variables);
    await sub.subscribed;
    if (expectWatched > 0) await eventually(() => expect(watched(sub).length).toBeGreaterThanOrEqual(expectWatched));
    return sub;
  };

  beforeAll(async () => {
    server = await startTestServer({ warmUp: true });
    ada = await server.signUp("ada");
  }, 60_000);
  afterAll(() => server?.close());

  it("a bot in 3 guilds hears all their channels, a channel created after it subscribed, and its DMs, on one subscription", async () => {
    const { bot, guilds } = await botIn(3);
    const sub = await live(bot, {}, 3);
    expect(watched(sub).sort()).toEqual(guilds.map((g) => g.channelId).sort());
    expect(events(sub).filter((e) => e.__typename === "ChannelWatched").every((e) => e.cursor!.startsWith("v1."))).toBe(true);

    for (const [i, g] of guilds.entries()) await send(g.channelId, `guild ${i}`);
    const later = (await ok(CREATE_CHANNEL, { g: guilds[1]!.guildId, n: "later" }, ada)).createChannel.id as string;
    await until(sub, (e) => e.__typename === "ChannelWatched" && e.channelId === later);
    await send(later, "in the new channel");
    const dm = (await ok(`mutation($u: [ID!]!) { openDirectMessage(userIds: $u) { id } }`, { u: [bot.id] }, ada)).openDirectMessage.id as string;
    await until(sub, (e) => e.__typename === "ChannelWatched" && e.channelId === dm && e.guildId === null);
    await send(dm, "a DM");

    await eventually(() => expect(contents(sub).sort()).toEqual(["a DM", "guild 0", "guild 1", "guild 2", "in the new channel"]));
    const created = events(sub).filter((e) => e.__typename === "MessageCreated");
    expect(created.find((e) => e.message!.content === "a DM")!.channelId).toBe(dm);
    sub.unsubscribe();
  });

  it("leaves out a private channel, stops one channel when a role is removed (the stream goes on), and adds it back when access returns", async () => {
    const { bot, guilds } = await botIn(1);
    const [{ guildId, channelId: general }] = guilds as [{ guildId: string; channelId: string }];
    const role = (await ok(CREATE_ROLE, { g: guildId }, ada)).createRole.id as string;
    const hidden = [{ targetKind: "ROLE", targetId: guildId, allow: [], deny: ["VIEW_CHANNEL"] }];
    const secret = (await ok(CREATE_CHANNEL, { g: guildId, n: "secret", o: hidden }, ada)).createChannel.id as string;
    const insiders = (await ok(CREATE_CHANNEL, { g: guildId, n: "insiders", o: [...hidden, { targetKind: "ROLE", targetId: role, allow: ["VIEW_CHANNEL"], deny: [] }] }, ada)).createChannel.id as string;
    await ok(ADD_ROLE, { g: guildId, u: bot.id, r: role }, ada);

    const sub = await live(bot, {}, 2);
    expect(watched(sub).sort()).toEqual([general, insiders].sort());
    await send(secret, "never seen");
    await send(insiders, "inside 1");
    await until(sub, (e) => e.message?.content === "inside 1");

    await ok(REMOVE_ROLE, { g: guildId, u: bot.id, r: role }, ada);
    const gone = await until(sub, (e) => e.__typename === "ChannelUnwatched");
    expect(gone).toMatchObject({ channelId: insiders, cause: "ACCESS_LOST" });
    await send(insiders, "inside 2");
    await send(general, "general after");
    await until(sub, (e) => e.message?.content === "general after");

    await ok(ADD_ROLE, { g: guildId, u: bot.id, r: role }, ada);
    await eventually(() => expect(watched(sub).filter((c) => c === insiders)).toHaveLength(2));
    await send(insiders, "inside 3");
    await until(sub, (e) => e.message?.content === "inside 3");
    expect(contents(sub)).toEqual(["inside 1", "general after", "inside 3"]);
    expect(sub.received.some((r) => r.errors)).toBe(false);
    sub.unsubscribe();
  });

  it("stops a guild the bot leaves, and adds a guild it joins later", async () => {
    const { bot, guilds } = await botIn(2);
    const [stay, leave] = guilds as [{ guildId: string; channelId: string }, { guildId: string; channelId: string }];
    const sub = await live(bot, {}, 2);
    await ok(`mutation($g: ID!) { leaveGuild(guildId: $g) }`, { g: leave.guildId }, bot);
    expect(await until(sub, (e) => e.__typename === "ChannelUnwatched")).toMatchObject({ channelId: leave.channelId, cause: "GUILD_LEFT" });
    await send(leave.channelId, "after leaving");

    const joined = await guildOf(server, ada, [], "Joined later");
    await ok(JOIN, { c: (await ok(INVITE, { g: joined.guildId }, ada)).createInvite.code }, bot);
    await until(sub, (e) => e.__typename === "ChannelWatched" && e.channelId === joined.channelId);
    await send(joined.channelId, "in the new guild");
    await send(stay.channelId, "still here");
    await eventually(() => expect(contents(sub)).toEqual(["in the new guild", "still here"]));
    sub.unsubscribe();
  });

  it("works for people too: a group DM opened later, then left; a channel deleted; a logout ends the stream", async () => {
    const [bob, cy] = [await server.signUp("bob"), await server.signUp("cy")];
    await befriend(server, ada, bob, cy);
    const { guildId, channelId: general } = await guildOf(server, ada, [bob], "People");
    const doomed = (await ok(CREATE_CHANNEL, { g: guildId, n: "doomed" }, ada)).createChannel.id as string;
    const sub = await live(bob, {}, 2);
    const group = (await ok(`mutation($u: [ID!]!) { openDirectMessage(userIds: $u) { id } }`, { u: [bob.id, cy.id] }, ada)).openDirectMessage.id as string;
    await until(sub, (e) => e.__typename === "ChannelWatched" && e.channelId === group);
    await send(group, "to the group");
    await until(sub, (e) => e.message?.content === "to the group");

    await ok(`mutation($c: ID!) { leaveGroupDirectMessage(channelId: $c) }`, { c: group }, bob);
    await until(sub, (e) => e.__typename === "ChannelUnwatched" && e.channelId === group && e.cause === "GROUP_LEFT");
    await ok(`mutation($c: ID!) { deleteChannel(channelId: $c) }`, { c: doomed }, ada);
    await until(sub, (e) => e.__typename === "ChannelUnwatched" && e.channelId === doomed && e.cause === "CHANNEL_DELETED");
    await send(general, "still live");
    await until(sub, (e) => e.message?.content === "still live");
    // Each channel leaves once, whichever of its signals came first.
    expect(events(sub).filter((e) => e.__typename === "ChannelUnwatched")).toHaveLength(2);

    await ok(`mutation { logout }`, {}, bob);
    expect((await ending(sub)).errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
  });

  it("filters by guildIds, channelIds and includeDirectMessages", async () => {
    const { bot, guilds } = await botIn(2);
    const [a, b] = guilds as [{ guildId: string; channelId: string }, { guildId: string; channelId: string }];
    const dm = (await ok(`mutation($u: [ID!]!) { openDirectMessage(userIds: $u) { id } }`, { u: [bot.id] }, ada)).openDirectMessage.id as string;
    const byGuild = await live(bot, { f: { guildIds: [a.guildId] } }, 2);
    const byChannel = await live(bot, { f: { channelIds: [b.channelId] } }, 1);
    const noDms = await live(bot, { f: { includeDirectMessages: false } }, 2);
    expect(watched(byGuild).sort()).toEqual([a.channelId, dm].sort());
    expect(watched(byChannel)).toEqual([b.channelId]);
    expect(watched(noDms).sort()).toEqual([a.channelId, b.channelId].sort());

    await send(a.channelId, "to a");
    await send(b.channelId, "to b");
    await send(dm, "to the DM");
    await eventually(() => {
      expect(contents(byGuild)).toEqual(["to a", "to the DM"]);
      expect(contents(byChannel)).toEqual(["to b"]);
      expect(contents(noDms)).toEqual(["to a", "to b"]);
    });
    for (const sub of [byGuild, byChannel, noDms]) sub.unsubscribe();
  });

  it("resumes after a disconnect: per channel, exactly what was missed, once, in order, then live", async () => {
    const { bot, guilds } = await botIn(2);
    const [a, b] = guilds as [{ guildId: string; channelId: string }, { guildId: string; channelId: string }];
    const first = await live(bot, {}, 2);
    const kept = await send(a.channelId, "seen in a");
    await until(first, (e) => e.message?.content === "seen in a");
    // The last cursor per channel: a's from its message, b's from ChannelWatched (nothing came there yet).
    const cursors = new Map<string, string>();
    for (const e of events(first)) if (e.cursor && e.channelId) cursors.set(e.channelId, e.cursor);
    first.unsubscribe();

    const missedA = await send(a.channelId, "missed in a");
    await send(b.channelId, "missed in b 1");
    await send(b.channelId, "missed in b 2");
    await ok(`mutation($c: ID!, $m: ID!) { editMessage(input: { channelId: $c, messageId: $m, content: "missed in a, edited" }) { id } }`, { c: a.channelId, m: missedA }, ada);
    await ok(`mutation($c: ID!, $m: ID!) { deleteMessage(input: { channelId: $c, messageId: $m }) }`, { c: a.channelId, m: kept }, ada);

    const resume = [...cursors].map(([channelId, after]) => ({ channelId, after }));
    const again = await live(bot, { r: resume }, 2);
    await eventually(() => expect(events(again).filter((e) => e.__typename.startsWith("Message"))).toHaveLength(5));
    await send(b.channelId, "live in b");
    await until(again, (e) => e.message?.content === "live in b");
    const inChannel = (c: string) =>
      events(again)
        .filter((e) => e.channelId === c || e.__typename === "MessageDeleted" && e.channelId === c)
        .map((e) => [e.__typename, e.message?.content ?? e.messageId ?? e.cursor]);
    expect(inChannel(a.channelId)).toEqual([
      ["ChannelWatched", cursors.get(a.channelId)],
      ["MessageCreated", "missed in a"],
      ["MessageUpdated", "missed in a, edited"],
      ["MessageDeleted", kept],
    ]);
    expect(inChannel(b.channelId)).toEqual([
      ["ChannelWatched", cursors.get(b.channelId)],
      ["MessageCreated", "missed in b 1"],
      ["MessageCreated", "missed in b 2"],
      ["MessageCreated", "live in b"],
    ]);
    again.unsubscribe();
  });

  it("executes each message once for identical subscriptions (shared fan-out)", async () => {
    const { bot, guilds } = await botIn(1);
    const subs = [await live(bot, {}, 1), await live(bot, {}, 1), await live(ada, { f: { channelIds: [guilds[0]!.channelId] } }, 1)];
    const before = fanoutStats.executions;
    await send(guilds[0]!.channelId, "shared");
    for (const sub of subs) await until(sub, (e) => e.message?.content === "shared");
    // One execution for all three: the bot's two identical subscriptions and ada's, whose filter
    // only chooses which channels enter her stream, not how an event is executed.
    expect(fanoutStats.executions - before).toBe(1);
    for (const sub of subs) sub.unsubscribe();
  });

  it("refuses malformed filters and cursors with BAD_USER_INPUT naming the field", async () => {
    for (const [variables, field] of [
      [{ f: { guildIds: ["x"] } }, "filter.guildIds[0]"],
      [{ r: [{ channelId: "1", after: "not a cursor" }] }, "resume[0].after"],
      [{ r: [{ channelId: "1", after: "v1.MC4w" }, { channelId: "1", after: "v1.MC4w" }] }, "resume[1].channelId"],
    ] as const) {
      const error = await ending(subscribe(server.ws(ada.token), EVENTS, variables));
      expect(error.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", field });
    }
  });

  it("works over SSE", async () => {
    const { bot, guilds } = await botIn(1);
    const abort = new AbortController();
    const res = await fetch(server.url, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "text/event-stream", authorization: `Bearer ${bot.token}` },
      body: JSON.stringify({ query: withTypename(EVENTS), variables: {} }),
      signal: abort.signal,
    });
    const got: GraphQLResponse[] = [];
    const reading = (async () => {
      let buffer = "";
      try {
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
          buffer += Buffer.from(chunk).toString("utf8");
          for (let end; (end = buffer.indexOf("\n\n")) >= 0; buffer = buffer.slice(end + 2)) {
            const data = buffer.slice(0, end).split("\n").filter((l) => l.startsWith("data:")).map((l) => l.slice(5).trim()).join("");
            if (data) got.push(JSON.parse(data));
          }
        }
      } catch {
        // aborted
      }
    })();
    const types = () => got.map((e) => strip(structuredClone(e)).type);
    await eventually(() => expect(types()).toContain("ChannelWatched"));
    await send(guilds[0]!.channelId, "over SSE");
    await eventually(() => expect(got.some((e) => e.data?.messageEvents?.message?.content === "over SSE")).toBe(true));
    abort.abort();
    await reading;
  });
});

describe("messageEvents limits", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ env: { MAX_SUBSCRIPTIONS_PER_SOCKET: "2", MAX_STREAM_CHANNELS: "3" } });
  }, 60_000);
  afterAll(() => server?.close());

  it("counts as one subscription against the per-socket cap however many channels it follows", async () => {
    const ada = await server.signUp("ada");
    const guild = await guildOf(server, ada, [], "Capped");
    for (const name of ["two", "three"]) await server.ok(CREATE_CHANNEL, { g: guild.guildId, n: name }, ada.token);
    const client = server.ws(ada.token);
    const all = subscribe(client, EVENTS, {});
    await all.subscribed;
    await eventually(() => expect(watched(all)).toHaveLength(3));
    const second = subscribe(client, EVENTS, { f: { includeDirectMessages: false } });
    await second.subscribed;
    const third = subscribe(client, EVENTS, {});
    await expect(third.completed).rejects.toMatchObject([{ extensions: { code: "LIMIT_EXCEEDED", resource: "subscriptionsPerSocket" } }]);
    all.unsubscribe();
    second.unsubscribe();
  });

  it("refuses to follow more than MAX_STREAM_CHANNELS channels, and ends a stream that would pass it", async () => {
    const ada = await server.signUp("ada");
    const guild = await guildOf(server, ada, [], "Many");
    for (const name of ["two", "three"]) await server.ok(CREATE_CHANNEL, { g: guild.guildId, n: name }, ada.token);
    const sub = subscribe(server.ws(ada.token), EVENTS, {});
    await sub.subscribed;
    await server.ok(CREATE_CHANNEL, { g: guild.guildId, n: "four" }, ada.token);
    const end = await ending(sub);
    expect(end.errors?.[0]?.extensions).toMatchObject({ code: "LIMIT_EXCEEDED", resource: "streamChannels", setting: "MAX_STREAM_CHANNELS" });
    const refused = await ending(subscribe(server.ws(ada.token), EVENTS, {}));
    expect(refused.errors?.[0]?.extensions).toMatchObject({ code: "LIMIT_EXCEEDED", limit: 3 });
  });
});
