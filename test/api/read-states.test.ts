import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { seededRandom } from "../support/random.js";
import { startTestServer, subscribe, waitForSubscribers, type TestServer } from "../support/server.js";

/**
 * Read states: an advance-only pointer per (user, channel), unread and mention counts computed
 * from history (checked against a brute-force count), batched writes, pushes to other sessions.
 */

type User = { token: string; id: string; username: string };

const ACK = `mutation($c: ID!, $m: ID!) { ackMessage(input: { channelId: $c, messageId: $m }) { channelId lastReadMessageId unreadCount mentionCount } }`;
const READ_STATE = `query($c: ID!) { channel(id: $c) { readState { lastReadMessageId unreadCount mentionCount } } }`;
const SEND = `mutation($c: ID!, $t: String!) { sendMessage(input: { channelId: $c, content: $t }) { id } }`;

let server: TestServer;
let ada: User;
let bob: User;

async function guild(): Promise<string> {
  const data = await server.ok(`mutation { createGuild(input: { name: "Reading" }) { id channels { id } } }`, {}, ada.token);
  const invite = await server.ok(`mutation($g: ID!) { createInvite(input: { guildId: $g }) { code } }`, { g: data.createGuild.id }, ada.token);
  await server.ok(`mutation($c: String!) { joinGuild(code: $c) { id } }`, { c: invite.createInvite.code }, bob.token);
  return data.createGuild.channels[0].id;
}

const send = async (user: User, channelId: string, text: string): Promise<string> => (await server.ok(SEND, { c: channelId, t: text }, user.token)).sendMessage.id;
const readState = async (user: User, channelId: string) => (await server.ok(READ_STATE, { c: channelId }, user.token)).channel.readState;

beforeAll(async () => {
  // Acks are flushed by the tests themselves (acks.flush()), so batching is deterministic here;
  // the timer-driven flush is exercised by the multi-instance test.
  server = await startTestServer({ env: { ACK_FLUSH_MS: "60000" }, warmUp: true });
  [ada, bob] = await Promise.all([server.signUp("ada"), server.signUp("bob")]);
}, 120_000);

afterAll(() => server?.close());

describe("ackMessage", () => {
  it("moves the pointer forward only, and counts what is after it", async () => {
    const channelId = await guild();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(await send(ada, channelId, i === 3 ? `hey <@${bob.id}>` : `m${i}`));
    expect(await readState(bob, channelId)).toEqual({ lastReadMessageId: null, unreadCount: 5, mentionCount: 1 });

    expect((await server.ok(ACK, { c: channelId, m: ids[3] }, bob.token)).ackMessage).toEqual({ channelId, lastReadMessageId: ids[3], unreadCount: 1, mentionCount: 0 });
    // An older ack (a slow device catching up) changes nothing.
    expect((await server.ok(ACK, { c: channelId, m: ids[1] }, bob.token)).ackMessage).toEqual({ channelId, lastReadMessageId: ids[3], unreadCount: 1, mentionCount: 0 });
    await server.app.services.acks.flush();
    expect(await readState(bob, channelId)).toEqual({ lastReadMessageId: ids[3], unreadCount: 1, mentionCount: 0 });
    await server.ok(ACK, { c: channelId, m: ids[0] }, bob.token);
    await server.app.services.acks.flush();
    expect(await readState(bob, channelId)).toEqual({ lastReadMessageId: ids[3], unreadCount: 1, mentionCount: 0 });
    // Ada's own messages are read by sending them.
    expect(await readState(ada, channelId)).toEqual({ lastReadMessageId: ids[4], unreadCount: 0, mentionCount: 0 });
  });

  it("caps counts at 100 (shown as 99+)", async () => {
    const channelId = await guild();
    for (let batch = 0; batch < 11; batch++) {
      await Promise.all(Array.from({ length: 10 }, (_, i) => send(ada, channelId, `<@${bob.id}> ${batch}-${i}`)));
    }
    expect(await readState(bob, channelId)).toEqual({ lastReadMessageId: null, unreadCount: 100, mentionCount: 100 });
  });

  it("rejects acks of unknown messages, other channels' messages, unreadable channels and bad ids, writing nothing", async () => {
    const [channelA, channelB] = [await guild(), await guild()];
    const inB = await send(ada, channelB, "elsewhere");
    const stranger = await server.signUp("stranger");
    const cases: [User, Record<string, unknown>, string, string?][] = [
      [bob, { c: channelA, m: "123456789" }, "NOT_FOUND"],
      [bob, { c: channelA, m: inB }, "NOT_FOUND"],
      [stranger, { c: channelB, m: inB }, "NOT_FOUND"],
      [bob, { c: channelA, m: "abc" }, "BAD_USER_INPUT", "messageId"],
      [bob, { c: "-1", m: inB }, "BAD_USER_INPUT", "channelId"],
    ];
    for (const [user, variables, code, field] of cases) {
      const res = await server.gql(ACK, variables, user.token);
      expect(res.errors?.[0]?.extensions, JSON.stringify(variables)).toMatchObject({ code, ...(field ? { field } : {}) });
    }
    expect((await server.gql(ACK, { c: channelB, m: inB })).errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
    await server.app.services.acks.flush();
    expect(await readState(bob, channelA)).toEqual({ lastReadMessageId: null, unreadCount: 0, mentionCount: 0 });
    expect(await readState(bob, channelB)).toEqual({ lastReadMessageId: null, unreadCount: 1, mentionCount: 0 });
  });

  it("matches a brute-force count over the history through sends, mentions, edits, deletes and acks", { timeout: 120_000 }, async () => {
    const channelId = await guild();
    const random = seededRandom(4242);
    /** The model: every live message with whether it mentions bob, and bob's pointer. */
    const messages = new Map<string, { mentionsBob: boolean; author: User }>();
    let pointer: bigint | null = null;
    const advance = (id: string) => {
      if (pointer === null || BigInt(id) > pointer) pointer = BigInt(id);
    };
    const expected = () => {
      const unread = [...messages].filter(([id]) => pointer === null || BigInt(id) > pointer);
      return {
        lastReadMessageId: pointer === null ? null : String(pointer),
        unreadCount: Math.min(unread.length, 100),
        mentionCount: Math.min(unread.filter(([, m]) => m.mentionsBob).length, 100),
      };
    };
    for (let step = 0; step < 160; step++) {
      const live = [...messages.keys()];
      const roll = random();
      if (roll < 0.5 || live.length === 0) {
        const author = random() < 0.8 ? ada : bob;
        const mentionsBob = author === ada && random() < 0.4;
        const id = await send(author, channelId, mentionsBob ? `ping <@${bob.id}> #${step}` : `plain #${step}`);
        messages.set(id, { mentionsBob, author });
        if (author === bob) advance(id); // sending marks the channel read for its author
      } else if (roll < 0.65) {
        const id = live[Math.floor(random() * live.length)]!;
        const message = messages.get(id)!;
        if (message.author !== ada) continue;
        const mentionsBob = random() < 0.5;
        await server.ok(`mutation($c: ID!, $m: ID!, $t: String!) { editMessage(input: { channelId: $c, messageId: $m, content: $t }) { id } }`, { c: channelId, m: id, t: mentionsBob ? `now <@${bob.id}>` : "now plain" }, ada.token);
        message.mentionsBob = mentionsBob;
      } else if (roll < 0.75) {
        const id = live[Math.floor(random() * live.length)]!;
        await server.ok(`mutation($c: ID!, $m: ID!) { deleteMessage(input: { channelId: $c, messageId: $m }) }`, { c: channelId, m: id }, ada.token);
        messages.delete(id);
      } else {
        const id = live[Math.floor(random() * live.length)]!;
        await server.ok(ACK, { c: channelId, m: id }, bob.token);
        advance(id);
      }
      if (random() < 0.3) await server.app.services.acks.flush();
      if (step % 8 === 0) expect(await readState(bob, channelId), `step ${step}`).toEqual(expected());
    }
    await server.app.services.acks.flush();
    expect(await readState(bob, channelId)).toEqual(expected());
  });
});

describe("read state sync and batching", () => {
  it("pushes ReadStateUpdated to the user's other sessions, and a burst of acks costs one write", async () => {
    const channelId = await guild();
    const ids: string[] = [];
    for (let i = 0; i < 30; i++) ids.push(await send(ada, channelId, `m${i}`));
    const otherDevice = subscribe(
      server.ws(bob.token),
      `subscription { userEvents { __typename ... on ReadStateUpdated { channelId lastReadMessageId readState { unreadCount } } } }`,
    );
    await waitForSubscribers(server, `user:${bob.id}`);
    await server.app.services.acks.flush();
    const writesBefore = server.app.services.acks.writes;
    // A client acking every message as it scrolls: 30 acks, nothing written yet...
    for (const id of ids) await server.ok(ACK, { c: channelId, m: id }, bob.token);
    expect(server.app.services.acks.writes).toBe(writesBefore);
    expect(await readState(bob, channelId)).toEqual({ lastReadMessageId: ids[29], unreadCount: 0, mentionCount: 0 });
    // ...then one batched write, and one update to the other session.
    await server.app.services.acks.flush();
    expect(server.app.services.acks.writes - writesBefore).toBe(1);
    await otherDevice.waitFor(1, 3_000);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const updates = otherDevice.received.map((r) => r.data?.userEvents).filter((e) => e?.__typename === "ReadStateUpdated");
    expect(updates).toEqual([{ __typename: "ReadStateUpdated", channelId, lastReadMessageId: ids[29], readState: { unreadCount: 0 } }]);
  });
});
