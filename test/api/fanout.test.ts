import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fanoutStats } from "../../src/gateway/shared-fanout.js";
import { eventually } from "../support/assertions.js";
import { startTestServer, subscribe, waitForSubscribers, type Subscription, type TestServer } from "../support/server.js";

/**
 * Shared fan-out: identical subscriptions execute each event once per group, and still every
 * subscriber gets exactly what its own query, variables and permissions allow.
 */

type User = { token: string; id: string; username: string };

const PLAIN = `subscription($c: ID!) { channelEvents(channelId: $c) { __typename ... on MessageCreated { message { id content author { username } } } } }`;
const SLIM = `subscription($c: ID!) { channelEvents(channelId: $c) { ... on MessageCreated { message { id } } } }`;
const WITH_READ_STATE = `subscription($c: ID!) { channelEvents(channelId: $c) { ... on MessageCreated { message { id channel { readState { unreadCount } } } } } }`;
const SEND = `mutation($c: ID!, $t: String!) { sendMessage(input: { channelId: $c, content: $t }) { id } }`;

let server: TestServer;
let owner: User;

async function guildWith(members: User[]): Promise<{ guildId: string; channelId: string }> {
  const data = await server.ok(`mutation { createGuild(input: { name: "Fan-out" }) { id channels { id } } }`, {}, owner.token);
  const guildId = data.createGuild.id;
  const invite = await server.ok(`mutation($g: ID!) { createInvite(input: { guildId: $g }) { code } }`, { g: guildId }, owner.token);
  for (const member of members) await server.ok(`mutation($c: String!) { joinGuild(code: $c) { id } }`, { c: invite.createInvite.code }, member.token);
  return { guildId, channelId: data.createGuild.channels[0].id };
}
const send = async (channelId: string, text: string, as = owner) => (await server.ok(SEND, { c: channelId, t: text }, as.token)).sendMessage.id as string;
const users = (n: number) => Promise.all(Array.from({ length: n }, (_, i) => server.signUp(`fan${i}`)));

beforeAll(async () => {
  server = await startTestServer({ warmUp: true });
  owner = await server.signUp("owner");
}, 120_000);

afterAll(() => server?.close());

describe("shared fan-out", () => {
  it("executes each event once for many identical subscriptions, and all get the same payload", async () => {
    const members = await users(6);
    const { channelId } = await guildWith(members);
    const subs = members.map((m) => subscribe(server.ws(m.token), PLAIN, { c: channelId }));
    await waitForSubscribers(server, `channel:${channelId}`, members.length);
    const before = fanoutStats.executions;
    const ids = [await send(channelId, "one"), await send(channelId, "two"), await send(channelId, "three")];
    for (const sub of subs) await sub.waitFor(3);
    expect(fanoutStats.executions - before).toBe(3);
    const expected = ["one", "two", "three"].map((content, i) => ({
      data: { channelEvents: { __typename: "MessageCreated", message: { id: ids[i], content, author: { username: owner.username } } } },
    }));
    for (const sub of subs) expect(sub.received).toEqual(expected);
  });

  it("starts many subscribers at one place with one execution of Subscribed, each told the same cursor", async () => {
    const members = await users(6);
    const { channelId } = await guildWith(members);
    const STARTS = `subscription($c: ID!) { channelEvents(channelId: $c) { __typename ... on Subscribed { cursor } } }`;
    const before = fanoutStats.executions;
    const subs = members.map((m) => subscribe(server.ws(m.token), STARTS, { c: channelId }));
    const cursors = await Promise.all(subs.map((sub) => sub.subscribed));
    // A reconnect storm into a quiet channel: the notice is shared like any event, not executed per socket.
    expect(fanoutStats.executions - before).toBe(1);
    expect(cursors[0]).toMatch(/\S/);
    expect(new Set(cursors)).toEqual(new Set([cursors[0]]));
  });

  it("gives each distinct query its own shape and each channel only its own events", async () => {
    const [ann, ben] = await users(2);
    const first = await guildWith([ann!, ben!]);
    const second = await guildWith([ann!]);
    const annFull = subscribe(server.ws(ann!.token), PLAIN, { c: first.channelId });
    const benSlim = subscribe(server.ws(ben!.token), SLIM, { c: first.channelId });
    const annSecond = subscribe(server.ws(ann!.token), SLIM, { c: second.channelId });
    await waitForSubscribers(server, `channel:${first.channelId}`, 2);
    await waitForSubscribers(server, `channel:${second.channelId}`, 1);
    const before = fanoutStats.executions;
    const inFirst = await send(first.channelId, "first");
    const inSecond = await send(second.channelId, "second");
    await Promise.all([annFull.waitFor(1), benSlim.waitFor(1), annSecond.waitFor(1)]);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(annFull.received).toEqual([{ data: { channelEvents: { __typename: "MessageCreated", message: { id: inFirst, content: "first", author: { username: owner.username } } } } }]);
    expect(benSlim.received).toEqual([{ data: { channelEvents: { message: { id: inFirst } } } }]);
    expect(annSecond.received).toEqual([{ data: { channelEvents: { message: { id: inSecond } } } }]);
    // Two groups saw the first message, one the second.
    expect(fanoutStats.executions - before).toBe(3);
  });

  it("executes per viewer when the selection depends on the viewer, so each sees their own read state", async () => {
    const [cat, dov] = await users(2);
    const { channelId } = await guildWith([cat!, dov!]);
    // Cat has read everything so far; Dov has read nothing.
    const earlier = [await send(channelId, "a"), await send(channelId, "b")];
    await server.ok(`mutation($c: ID!, $m: ID!) { ackMessage(input: { channelId: $c, messageId: $m }) { unreadCount } }`, { c: channelId, m: earlier[1] }, cat!.token);
    await server.app.services.acks.flush();
    const catSub = subscribe(server.ws(cat!.token), WITH_READ_STATE, { c: channelId });
    const dovSub = subscribe(server.ws(dov!.token), WITH_READ_STATE, { c: channelId });
    await waitForSubscribers(server, `channel:${channelId}`, 2);
    const before = fanoutStats.executions;
    const id = await send(channelId, "c");
    await Promise.all([catSub.waitFor(1), dovSub.waitFor(1)]);
    expect(catSub.received[0]!.data!.channelEvents.message).toEqual({ id, channel: { readState: { unreadCount: 1 } } });
    expect(dovSub.received[0]!.data!.channelEvents.message).toEqual({ id, channel: { readState: { unreadCount: 3 } } });
    expect(fanoutStats.executions - before).toBe(2);
  });

  it("still ends a kicked member's stream at once while the rest of the group keeps receiving", async () => {
    const [eve, fay, gus] = await users(3);
    const { guildId, channelId } = await guildWith([eve!, fay!, gus!]);
    const subs: Record<string, Subscription> = {
      eve: subscribe(server.ws(eve!.token), PLAIN, { c: channelId }),
      fay: subscribe(server.ws(fay!.token), PLAIN, { c: channelId }),
      gus: subscribe(server.ws(gus!.token), PLAIN, { c: channelId }),
    };
    await waitForSubscribers(server, `channel:${channelId}`, 3);
    await send(channelId, "before");
    await Promise.all(Object.values(subs).map((s) => s.waitFor(1)));
    await server.ok(`mutation($g: ID!, $u: ID!) { kickMember(input: { guildId: $g, userId: $u }) }`, { g: guildId, u: fay!.id }, owner.token);
    await eventually(() => expect(subs.fay!.received.at(-1)?.errors?.[0]?.extensions?.code).toBe("FORBIDDEN"));
    await send(channelId, "after");
    await Promise.all([subs.eve!.waitFor(2), subs.gus!.waitFor(2)]);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const contents = (sub: Subscription) => sub.received.map((r) => r.data?.channelEvents?.message?.content ?? r.errors?.[0]?.extensions?.code);
    expect(contents(subs.eve!)).toEqual(["before", "after"]);
    expect(contents(subs.gus!)).toEqual(["before", "after"]);
    expect(contents(subs.fay!)).toEqual(["before", "FORBIDDEN"]);
  });

  it("stops a completed subscription's bus listeners (graphql-ws return) without touching the group", async () => {
    const [hal, ivy] = await users(2);
    const { channelId } = await guildWith([hal!, ivy!]);
    const halSub = subscribe(server.ws(hal!.token), PLAIN, { c: channelId });
    const ivySub = subscribe(server.ws(ivy!.token), PLAIN, { c: channelId });
    await waitForSubscribers(server, `channel:${channelId}`, 2);
    halSub.unsubscribe();
    const bus = server.app.services.bus as unknown as { subscriberCount(topic: string): number };
    await eventually(() => expect(bus.subscriberCount(`channel:${channelId}`)).toBe(1));
    await send(channelId, "still here");
    await ivySub.waitFor(1);
    expect(halSub.received).toEqual([]);
  });
});
