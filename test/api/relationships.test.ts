import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Database } from "../../src/stores/prisma/database.js";
import { eventually, expectError, type User } from "../support/assertions.js";
import { openTestPglite } from "../support/databases.js";
import { befriend } from "../support/people.js";
import { settle, startTestServer, subscribe, waitForSubscribers, type Subscription, type TestServer } from "../support/server.js";

/**
 * Friends, friend requests and blocks over real HTTP and graphql-ws: both sides see their own
 * side in `me.relationships` and live in `userEvents`; a blocked user is never told of the block;
 * every refused call answers with a code and changes nothing; the caps hold.
 */

const SEND = `mutation($u: ID!) { sendFriendRequest(userId: $u) { user { id } type since } }`;
const ACCEPT = `mutation($u: ID!) { acceptFriendRequest(userId: $u) { user { id } type } }`;
const DECLINE = `mutation($u: ID!) { declineFriendRequest(userId: $u) }`;
const REMOVE = `mutation($u: ID!) { removeFriend(userId: $u) }`;
const BLOCK = `mutation($u: ID!) { blockUser(userId: $u) { user { id } type } }`;
const UNBLOCK = `mutation($u: ID!) { unblockUser(userId: $u) }`;
const MINE = `query($first: Int, $after: ID) { me { relationships(first: $first, after: $after) { user { id } type } } }`;
const USER_EVENTS = `subscription { userEvents { __typename ... on RelationshipChanged { user { id } relationship { type since } } } }`;

type Row = { user: { id: string }; type: string };

let server: TestServer;
let database: Database;
beforeAll(async () => {
  database = await openTestPglite();
  server = await startTestServer({ database, warmUp: true });
}, 120_000);
afterAll(() => server?.close());

const ok = <T = any>(query: string, variables: Record<string, unknown>, token: string): Promise<T> => server.ok<T>(query, variables, token);
/** `user`'s relationships as [other id, type] pairs. */
const relationshipsOf = async (user: User): Promise<[string, string][]> =>
  (await ok(MINE, {}, user.token)).me.relationships.map((r: Row) => [r.user.id, r.type]);
/** Every stored relationship row between the two, whoever holds it: what "changed nothing" is checked against. */
const rowsBetween = (a: User, b: User) =>
  database.prisma.relationship.findMany({
    where: { OR: [{ userId: BigInt(a.id), otherId: BigInt(b.id) }, { userId: BigInt(b.id), otherId: BigInt(a.id) }] },
    orderBy: [{ userId: "asc" }],
  });

/** A user's RelationshipChanged events as [other id, type or null]. */
function changes(sub: Subscription): [string, string | null][] {
  return sub.received
    .map((r) => r.data?.userEvents)
    .filter((e) => e?.__typename === "RelationshipChanged")
    .map((e) => [e.user.id, e.relationship?.type ?? null]);
}
async function listen(user: User): Promise<Subscription> {
  const sub = subscribe(server.ws(user.token), USER_EVENTS);
  await waitForSubscribers(server, `user:${user.id}`);
  return sub;
}

describe("friend requests", () => {
  it("a request shows OUTGOING to the sender and INCOMING to the other, live; accepting makes both FRIEND", async () => {
    const [ada, bob] = await Promise.all([server.signUp("ada"), server.signUp("bob")]);
    const [adaLive, bobLive] = await Promise.all([listen(ada), listen(bob)]);

    const sent = (await ok(SEND, { u: bob.id }, ada.token)).sendFriendRequest;
    expect(sent).toMatchObject({ user: { id: bob.id }, type: "OUTGOING" });
    expect(new Date(sent.since).getTime()).toBeGreaterThan(Date.now() - 60_000);
    expect(await relationshipsOf(ada)).toEqual([[bob.id, "OUTGOING"]]);
    expect(await relationshipsOf(bob)).toEqual([[ada.id, "INCOMING"]]);
    await eventually(() => expect(changes(adaLive)).toEqual([[bob.id, "OUTGOING"]]));
    await eventually(() => expect(changes(bobLive)).toEqual([[ada.id, "INCOMING"]]));

    expect((await ok(ACCEPT, { u: ada.id }, bob.token)).acceptFriendRequest).toEqual({ user: { id: ada.id }, type: "FRIEND" });
    expect(await relationshipsOf(ada)).toEqual([[bob.id, "FRIEND"]]);
    expect(await relationshipsOf(bob)).toEqual([[ada.id, "FRIEND"]]);
    await eventually(() => expect(changes(adaLive)).toEqual([[bob.id, "OUTGOING"], [bob.id, "FRIEND"]]));
    await eventually(() => expect(changes(bobLive)).toEqual([[ada.id, "INCOMING"], [ada.id, "FRIEND"]]));
  });

  it("asking someone who asked you makes you friends; asking twice is harmless and announces nothing new", async () => {
    const [ada, bob] = await Promise.all([server.signUp("ada"), server.signUp("bob")]);
    const bobLive = await listen(bob);
    await ok(SEND, { u: bob.id }, ada.token);
    expect((await ok(SEND, { u: bob.id }, ada.token)).sendFriendRequest.type).toBe("OUTGOING");
    expect((await ok(SEND, { u: ada.id }, bob.token)).sendFriendRequest.type).toBe("FRIEND");
    expect(await relationshipsOf(ada)).toEqual([[bob.id, "FRIEND"]]);
    await eventually(() => expect(changes(bobLive)).toEqual([[ada.id, "INCOMING"], [ada.id, "FRIEND"]]));
    await settle();
    expect(changes(bobLive)).toHaveLength(2);
  });

  it("declining, withdrawing and unfriending end it for both, and the other side hears `relationship: null`", async () => {
    const [ada, bob, cy] = await Promise.all([server.signUp("ada"), server.signUp("bob"), server.signUp("cy")]);
    const [bobLive, cyLive] = await Promise.all([listen(bob), listen(cy)]);
    await ok(SEND, { u: bob.id }, ada.token);
    expect((await ok(DECLINE, { u: ada.id }, bob.token)).declineFriendRequest).toBe(true);
    await ok(SEND, { u: cy.id }, ada.token);
    // Withdrawing is declining one's own request.
    expect((await ok(DECLINE, { u: cy.id }, ada.token)).declineFriendRequest).toBe(true);
    expect(await relationshipsOf(ada)).toEqual([]);
    await befriend(server, ada, bob);
    expect((await ok(REMOVE, { u: ada.id }, bob.token)).removeFriend).toBe(true);
    expect(await relationshipsOf(ada)).toEqual([]);
    expect(await relationshipsOf(bob)).toEqual([]);
    await eventually(() => expect(changes(cyLive)).toEqual([[ada.id, "INCOMING"], [ada.id, null]]));
    await eventually(() => expect(changes(bobLive)).toEqual([[ada.id, "INCOMING"], [ada.id, null], [ada.id, "INCOMING"], [ada.id, "FRIEND"], [ada.id, null]]));
  });

  it("answers each wrong call with a code, writing nothing", async () => {
    const [ada, bob, cy] = await Promise.all([server.signUp("ada"), server.signUp("bob"), server.signUp("cy")]);
    await befriend(server, ada, bob);
    const before = await rowsBetween(ada, bob);
    expectError(await server.gql(SEND, { u: ada.id }, ada.token), "BAD_USER_INPUT", /someone other than you/, "userId");
    expectError(await server.gql(SEND, { u: "not-an-id" }, ada.token), "BAD_USER_INPUT", /must be an id/, "userId");
    expectError(await server.gql(SEND, { u: "123456789" }, ada.token), "NOT_FOUND", /User 123456789 not found/);
    expectError(await server.gql(SEND, { u: bob.id }, ada.token), "CONFLICT", /already friends/);
    expectError(await server.gql(ACCEPT, { u: cy.id }, ada.token), "NOT_FOUND", /Friend request between you and cy/);
    expectError(await server.gql(DECLINE, { u: cy.id }, ada.token), "NOT_FOUND", /Friend request/);
    expectError(await server.gql(REMOVE, { u: cy.id }, ada.token), "NOT_FOUND", /Friendship with cy/);
    expectError(await server.gql(UNBLOCK, { u: cy.id }, ada.token), "NOT_FOUND", /Block of cy/);
    expectError(await server.gql(SEND, { u: bob.id }), "UNAUTHENTICATED", /Sign in first/);
    expect(await rowsBetween(ada, bob)).toEqual(before);
    expect(await rowsBetween(ada, cy)).toEqual([]);
  });

  it("keeps bots out of friendships", async () => {
    const ada = await server.signUp("ada");
    const bot = (await ok(`mutation($u: String!) { createBot(input: { username: $u }) { token user { id username } } }`, { u: `friendly_${process.pid}` }, ada.token)).createBot;
    expectError(await server.gql(SEND, { u: bot.user.id }, ada.token), "FORBIDDEN", /bots cannot have friends/);
    expectError(await server.gql(SEND, { u: ada.id }, bot.token), "FORBIDDEN", /Bots cannot have friends/);
    expect(await relationshipsOf(ada)).toEqual([]);
  });

  it("lists relationships only on yourself, by user id, in pages", async () => {
    const ada = await server.signUp("ada");
    const others = await Promise.all([server.signUp("p"), server.signUp("p"), server.signUp("p")]);
    for (const other of others) await ok(SEND, { u: other.id }, ada.token);
    const ids = others.map((o) => o.id).sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1));
    const page = async (variables: Record<string, unknown>) => (await ok(MINE, variables, ada.token)).me.relationships.map((r: Row) => r.user.id);
    expect(await page({})).toEqual(ids);
    expect(await page({ first: 2 })).toEqual(ids.slice(0, 2));
    expect(await page({ first: 2, after: ids[1] })).toEqual(ids.slice(2));
    expectError(await server.gql(MINE, { first: 0 }, ada.token), "BAD_USER_INPUT", /first must be an integer from 1 to 1000/, "first");
    const theirs = await server.gql(`query($u: [ID!]!) { users(ids: $u) { relationships { type } } }`, { u: [others[0].id] }, ada.token);
    expectError(theirs, "FORBIDDEN", /only list your own relationships/);
    const settings = await server.gql(`query($u: [ID!]!) { users(ids: $u) { settings { allowDirectMessagesFrom } } }`, { u: [others[0].id] }, ada.token);
    expectError(settings, "FORBIDDEN", /only read your own settings/);
  });
});

describe("blocks", () => {
  it("blocking ends a friendship; the blocker sees BLOCKED, the blocked user only that the friendship ended", async () => {
    const [ada, bob] = await Promise.all([server.signUp("ada"), server.signUp("bob")]);
    await befriend(server, ada, bob);
    const [adaLive, bobLive] = await Promise.all([listen(ada), listen(bob)]);
    expect((await ok(BLOCK, { u: bob.id }, ada.token)).blockUser).toEqual({ user: { id: bob.id }, type: "BLOCKED" });
    expect(await relationshipsOf(ada)).toEqual([[bob.id, "BLOCKED"]]);
    expect(await relationshipsOf(bob)).toEqual([]);
    await eventually(() => expect(changes(adaLive)).toEqual([[bob.id, "BLOCKED"]]));
    await eventually(() => expect(changes(bobLive)).toEqual([[ada.id, null]]));
    await settle();
    expect(changes(bobLive)).toHaveLength(1);
    // Blocking again changes nothing and tells nobody.
    expect((await ok(BLOCK, { u: bob.id }, ada.token)).blockUser.type).toBe("BLOCKED");
    await settle();
    expect(changes(adaLive)).toHaveLength(1);
  });

  it("a blocked user cannot send a friend request, and is not told why; the blocker is reminded; nothing is written", async () => {
    const [ada, bob] = await Promise.all([server.signUp("ada"), server.signUp("bob")]);
    const bobLive = await listen(bob);
    await ok(BLOCK, { u: bob.id }, ada.token);
    const refused = await server.gql(SEND, { u: ada.id }, bob.token);
    expectError(refused, "FORBIDDEN", /is not accepting friend requests from you/);
    expect(refused.errors![0]!.message).not.toMatch(/block/i);
    expectError(await server.gql(SEND, { u: bob.id }, ada.token), "FORBIDDEN", /You blocked bob.*unblock them first/);
    expect(await rowsBetween(ada, bob)).toMatchObject([{ userId: BigInt(ada.id), kind: "BLOCKED" }]);
    // A stranger's block of you is invisible: nothing at all arrived.
    await settle();
    expect(bobLive.received).toEqual([]);
  });

  it("unblocking lifts only your own block", async () => {
    const [ada, bob] = await Promise.all([server.signUp("ada"), server.signUp("bob")]);
    await ok(BLOCK, { u: bob.id }, ada.token);
    await ok(BLOCK, { u: ada.id }, bob.token);
    expect((await ok(UNBLOCK, { u: bob.id }, ada.token)).unblockUser).toBe(true);
    expect(await relationshipsOf(ada)).toEqual([]);
    expect(await relationshipsOf(bob)).toEqual([[ada.id, "BLOCKED"]]);
    expectError(await server.gql(SEND, { u: bob.id }, ada.token), "FORBIDDEN", /not accepting friend requests/);
  });
});

describe("caps", () => {
  let small: TestServer;
  beforeAll(async () => {
    small = await startTestServer({ env: { MAX_FRIENDS_PER_USER: "1", MAX_PENDING_FRIEND_REQUESTS: "2", MAX_BLOCKS_PER_USER: "1" } });
  }, 120_000);
  afterAll(() => small?.close());

  function expectCap(res: Awaited<ReturnType<TestServer["gql"]>>, resource: string, limit: number, setting: string, message: RegExp) {
    expectError(res, "LIMIT_EXCEEDED", message);
    expect(res.errors![0]!.extensions).toMatchObject({ resource, limit, setting });
  }

  it("refuses requests past the pending caps, accepts past the friend cap and blocks past the block cap, writing nothing", async () => {
    const [ada, bob, cy, dee, eve] = [await small.signUp("ada"), await small.signUp("bob"), await small.signUp("cy"), await small.signUp("dee"), await small.signUp("eve")];
    await small.ok(SEND, { u: bob.id }, ada.token);
    await small.ok(SEND, { u: cy.id }, ada.token);
    expectCap(await small.gql(SEND, { u: dee.id }, ada.token), "pendingFriendRequests", 2, "MAX_PENDING_FRIEND_REQUESTS", /at most 2 friend requests waiting/);
    await small.ok(SEND, { u: bob.id }, dee.token);
    expectCap(await small.gql(SEND, { u: bob.id }, eve.token), "pendingFriendRequests", 2, "MAX_PENDING_FRIEND_REQUESTS", /bob.*too many friend requests waiting/);
    await small.ok(ACCEPT, { u: ada.id }, bob.token);
    expectCap(await small.gql(ACCEPT, { u: dee.id }, bob.token), "friendsPerUser", 1, "MAX_FRIENDS_PER_USER", /at most 1 friends/);
    expectCap(await small.gql(ACCEPT, { u: ada.id }, cy.token), "friendsPerUser", 1, "MAX_FRIENDS_PER_USER", /ada.*limit of 1 friends/);
    await small.ok(BLOCK, { u: eve.id }, dee.token);
    expectCap(await small.gql(BLOCK, { u: cy.id }, dee.token), "blocksPerUser", 1, "MAX_BLOCKS_PER_USER", /block at most 1 users/);
    const rows = async (user: User) => (await small.ok(MINE, {}, user.token)).me.relationships.map((r: Row) => r.type).sort();
    expect(await rows(ada!)).toEqual(["FRIEND", "OUTGOING"]);
    expect(await rows(bob!)).toEqual(["FRIEND", "INCOMING"]);
    expect(await rows(dee!)).toEqual(["BLOCKED", "OUTGOING"]);
    expect(await rows(eve!)).toEqual([]);
  });
});
