import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ending, type User } from "../support/assertions.js";
import { openTestPglite } from "../support/databases.js";
import { startTestServer, subscribe, type GraphQLResponse, type TestServer } from "../support/server.js";

/**
 * Cursors and resume over graphql-ws: every subscription starts with Subscribed { cursor },
 * every event carries its cursor, and subscribing again with `after` replays exactly what was
 * missed (in order, once) before going live; a cursor the log can no longer serve gets
 * ResyncRequired, never a silent gap.
 */

const CHANNEL = `subscription($c: ID!, $after: String) { channelEvents(channelId: $c, after: $after) {
  __typename ... on LiveEvent { cursor } ... on MessageCreated { message { content } } ... on MessageUpdated { message { content } }
  ... on MessageDeleted { messageId } ... on ResyncRequired { reason } } }`;
const GUILD = `subscription($g: ID!, $after: String) { guildEvents(guildId: $g, after: $after) { __typename ... on LiveEvent { cursor } ... on RoleCreated { role { name } } } }`;
const USER = `subscription($after: String) { userEvents(after: $after) { __typename ... on LiveEvent { cursor } ... on RelationshipChanged { relationship { type } } ... on ResyncRequired { reason } } }`;
const SEND = `mutation($c: ID!, $t: String!) { sendMessage(input: { channelId: $c, content: $t }) { id } }`;
const EDIT = `mutation($c: ID!, $m: ID!, $t: String!) { editMessage(input: { channelId: $c, messageId: $m, content: $t }) { id } }`;
const DELETE = `mutation($c: ID!, $m: ID!) { deleteMessage(input: { channelId: $c, messageId: $m }) }`;

type Event = { __typename: string; cursor: string; message?: { content: string }; messageId?: string; reason?: string; role?: { name: string }; relationship?: { type: string } };

describe("cursors and resume", () => {
  let server: TestServer;
  let small: TestServer;
  let ada: User, bob: User;
  let guildId: string, channelId: string;

  const ok = <T = any>(query: string, variables: Record<string, unknown>, user: User, on: TestServer = server): Promise<T> => on.ok<T>(query, variables, user.token);
  const events = (received: GraphQLResponse[], field: string): Event[] => received.map((r) => (r.data as Record<string, Event>)[field]!);
  const send = async (text: string, on: TestServer = server, channel = channelId) => (await ok(SEND, { c: channel, t: text }, ada, on)).sendMessage.id as string;

  beforeAll(async () => {
    server = await startTestServer({ database: await openTestPglite(), warmUp: true });
    // A log of 10 events per topic, to see what happens past it.
    small = await startTestServer({ database: await openTestPglite(), env: { EVENT_LOG_MAX_EVENTS: "10" } });
    [ada, bob] = [await server.signUp("ada"), await server.signUp("bob")];
    const guild = await ok(`mutation { createGuild(input: { name: "Resumable" }) { id channels { id } } }`, {}, ada);
    guildId = guild.createGuild.id;
    channelId = guild.createGuild.channels[0].id;
  }, 60_000);
  afterAll(async () => {
    await server?.close();
    await small?.close();
  });

  it("starts with Subscribed; every event has a cursor, each one later than the one before", async () => {
    const live = subscribe(server.ws(ada.token), CHANNEL, { c: channelId });
    const start = await live.subscribed;
    expect(start).toMatch(/^v1\./);
    await send("one");
    await send("two");
    const got = events(await live.waitFor(2), "channelEvents");
    expect(got.map((e) => e.message?.content)).toEqual(["one", "two"]);
    expect(new Set([start, ...got.map((e) => e.cursor)]).size).toBe(3);
    live.unsubscribe();
  });

  it("resuming after a disconnect replays exactly what was missed, in order, once, then goes live", async () => {
    const first = subscribe(server.ws(ada.token), CHANNEL, { c: channelId });
    await first.subscribed;
    const kept = await send("seen");
    const [seen] = events(await first.waitFor(1), "channelEvents");
    first.unsubscribe();

    // While away: two messages, an edit and a delete.
    const a = await send("missed 1");
    await send("missed 2");
    await ok(EDIT, { c: channelId, m: a, t: "missed 1, edited" }, ada);
    await ok(DELETE, { c: channelId, m: kept }, ada);

    const again = subscribe(server.ws(ada.token), CHANNEL, { c: channelId, after: seen!.cursor });
    expect(await again.subscribed).toBe(seen!.cursor);
    const replayed = events(await again.waitFor(4), "channelEvents");
    expect(replayed.map((e) => [e.__typename, e.message?.content ?? e.messageId])).toEqual([
      ["MessageCreated", "missed 1"],
      ["MessageCreated", "missed 2"],
      ["MessageUpdated", "missed 1, edited"],
      ["MessageDeleted", kept],
    ]);
    await send("live again");
    const all = events(await again.waitFor(5), "channelEvents");
    expect(all.map((e) => e.message?.content ?? e.messageId)).toEqual(["missed 1", "missed 2", "missed 1, edited", kept, "live again"]);
    expect(new Set(all.map((e) => e.cursor)).size).toBe(5);
    again.unsubscribe();
  });

  it("Channel.eventCursor then subscribe with it: nothing in between is missed", async () => {
    const { channel } = await ok(`query($c: ID!) { channel(id: $c) { eventCursor messages(last: 1) { edges { node { id } } } } }`, { c: channelId }, ada);
    await send("between query and subscribe");
    const live = subscribe(server.ws(ada.token), CHANNEL, { c: channelId, after: channel.eventCursor });
    const got = events(await live.waitFor(1), "channelEvents");
    expect(got[0]!.message?.content).toBe("between query and subscribe");
    live.unsubscribe();
  });

  it("guildEvents and userEvents resume too", async () => {
    const guild = subscribe(server.ws(ada.token), GUILD, { g: guildId });
    const user = subscribe(server.ws(ada.token), USER, {});
    const [guildCursor, userCursor] = [await guild.subscribed, await user.subscribed];
    guild.unsubscribe();
    user.unsubscribe();
    await ok(`mutation($g: ID!) { createRole(input: { guildId: $g, name: "Made while away", permissions: [] }) { id } }`, { g: guildId }, ada);
    await ok(`mutation($u: ID!) { sendFriendRequest(userId: $u) { type } }`, { u: ada.id }, bob);

    const guildAgain = subscribe(server.ws(ada.token), GUILD, { g: guildId, after: guildCursor });
    const userAgain = subscribe(server.ws(ada.token), USER, { after: userCursor });
    expect(events(await guildAgain.waitFor(1), "guildEvents").find((e) => e.__typename === "RoleCreated")?.role).toEqual({ name: "Made while away" });
    expect(events(await userAgain.waitFor(1), "userEvents").find((e) => e.__typename === "RelationshipChanged")?.relationship?.type).toBe("INCOMING");
    guildAgain.unsubscribe();
    userAgain.unsubscribe();
  });

  it("past the log: ResyncRequired once, then the missed messages themselves from history (in order, once), then live", async () => {
    const [amy] = [await small.signUp("amy")];
    const guild = await small.ok(`mutation { createGuild(input: { name: "Short memory" }) { id channels { id } } }`, {}, amy.token);
    const channel = guild.createGuild.channels[0].id as string;
    const first = subscribe(small.ws(amy.token), CHANNEL, { c: channel });
    const cursor = await first.subscribed;
    first.unsubscribe();
    const ids: string[] = [];
    for (let i = 0; i < 30; i++) ids.push((await small.ok(SEND, { c: channel, t: `m${i}` }, amy.token)).sendMessage.id);
    await small.ok(DELETE, { c: channel, m: ids[3] }, amy.token);
    const again = subscribe(small.ws(amy.token), CHANNEL, { c: channel, after: cursor });
    // The log keeps 10 events: ResyncRequired (edits, deletes and the like before them are gone), then
    // every message still in history from the message index, the rest from the log, then live.
    const replayed = events(await again.waitFor(31), "channelEvents");
    expect(replayed[0]).toMatchObject({ __typename: "ResyncRequired", reason: "CURSOR_EXPIRED" });
    const contents = replayed.slice(1).map((e) => e.message?.content ?? `deleted:${e.messageId}`);
    expect(contents).toEqual([...Array.from({ length: 30 }, (_, i) => `m${i}`).filter((m) => m !== "m3"), `deleted:${ids[3]}`]);
    await small.ok(SEND, { c: channel, t: "after the resync" }, amy.token);
    const next = events(await again.waitFor(32), "channelEvents");
    expect(next.at(-1)!.message?.content).toBe("after the resync");
    expect(new Set(next.slice(1).map((e) => e.cursor)).size).toBe(31);
    again.unsubscribe();
  });

  it("past the message index too: ResyncRequired, then live events only", async () => {
    const [amy] = [await small.signUp("amy")];
    const guild = await small.ok(`mutation { createGuild(input: { name: "Shorter memory" }) { id channels { id } } }`, {}, amy.token);
    const channel = guild.createGuild.channels[0].id as string;
    const first = subscribe(small.ws(amy.token), CHANNEL, { c: channel });
    const cursor = await first.subscribed;
    first.unsubscribe();
    // The index keeps 10 × EVENT_LOG_MAX_EVENTS = 100 ids.
    for (let i = 0; i < 105; i++) await small.ok(SEND, { c: channel, t: `n${i}` }, amy.token);
    const again = subscribe(small.ws(amy.token), CHANNEL, { c: channel, after: cursor });
    await again.subscribed;
    await small.ok(SEND, { c: channel, t: "live" }, amy.token);
    const got = events(await again.waitFor(2), "channelEvents");
    expect(got.map((e) => e.__typename)).toEqual(["ResyncRequired", "MessageCreated"]);
    expect(got[1]!.message?.content).toBe("live");
    again.unsubscribe();
  });

  it("a cursor from another server's log gets ResyncRequired LOG_LOST; garbage is BAD_USER_INPUT", async () => {
    const elsewhere = subscribe(small.ws((await small.signUp("cy")).token), USER, {});
    const foreign = await elsewhere.subscribed;
    elsewhere.unsubscribe();
    const live = subscribe(server.ws(ada.token), USER, { after: foreign });
    const [resync] = events(await live.waitFor(1), "userEvents");
    expect(resync).toMatchObject({ __typename: "ResyncRequired", reason: "LOG_LOST" });
    live.unsubscribe();
    const bad = await ending(subscribe(server.ws(ada.token), USER, { after: "not a cursor" }), 2_000);
    expect(bad.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "after" });
  });
});
