import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, subscribe, waitForSubscribers, type TestServer } from "../support/server.js";
import { befriend } from "../support/people.js";

/** Typing indicators: announced to readers of the channel, absorbed when repeated, ended by a message, expired after 10 s. */

type User = { token: string; id: string; username: string };

const CHANNEL_EVENTS = `subscription($c: ID!) { channelEvents(channelId: $c) {
  __typename
  ... on TypingStarted { channelId user { id username } expiresAt }
  ... on MessageCreated { message { id author { id } } }
} }`;
const TYPE = `mutation($c: ID!) { startTyping(channelId: $c) }`;
const TYPING = `query($c: ID!) { channel(id: $c) { typing { user { id } expiresAt } } }`;

let server: TestServer;
let ada: User;
let bob: User;
let channelId: string;

beforeAll(async () => {
  server = await startTestServer({ warmUp: true });
  [ada, bob] = await Promise.all([server.signUp("ada"), server.signUp("bob")]);
  const data = await server.ok(`mutation { createGuild(input: { name: "Typing" }) { id channels { id } } }`, {}, ada.token);
  channelId = data.createGuild.channels[0].id;
  const invite = await server.ok(`mutation($g: ID!) { createInvite(input: { guildId: $g }) { code } }`, { g: data.createGuild.id }, ada.token);
  await server.ok(`mutation($c: String!) { joinGuild(code: $c) { id } }`, { c: invite.createInvite.code }, bob.token);
}, 120_000);

afterAll(() => server?.close());

describe("startTyping", () => {
  it("announces TypingStarted with a 10 s expiry, absorbs repeats, lists the typist until their message ends it", async () => {
    const watch = subscribe(server.ws(ada.token), CHANNEL_EVENTS, { c: channelId });
    await waitForSubscribers(server, `channel:${channelId}`);
    const before = Date.now();
    expect(await server.ok(TYPE, { c: channelId }, bob.token)).toEqual({ startTyping: true });
    const [event] = await watch.waitFor(1);
    const typing = event!.data!.channelEvents;
    expect(typing).toMatchObject({ __typename: "TypingStarted", channelId, user: { id: bob.id } });
    const expiresIn = Date.parse(typing.expiresAt) - before;
    expect(expiresIn).toBeGreaterThanOrEqual(9_900);
    expect(expiresIn).toBeLessThanOrEqual(10_500);

    // A client calling on every keystroke: absorbed.
    for (let i = 0; i < 5; i++) await server.ok(TYPE, { c: channelId }, bob.token);
    expect((await server.ok(TYPING, { c: channelId }, ada.token)).channel.typing).toEqual([{ user: { id: bob.id }, expiresAt: typing.expiresAt }]);

    await server.ok(`mutation($c: ID!) { sendMessage(input: { channelId: $c, content: "done typing" }) { id } }`, { c: channelId }, bob.token);
    await watch.waitFor(2);
    expect(watch.received.map((r) => r.data?.channelEvents.__typename)).toEqual(["TypingStarted", "MessageCreated"]);
    expect((await server.ok(TYPING, { c: channelId }, ada.token)).channel.typing).toEqual([]);
    // After a message, typing again is announced at once rather than absorbed.
    await server.ok(TYPE, { c: channelId }, bob.token);
    await watch.waitFor(3);
    expect(watch.received[2]!.data!.channelEvents.__typename).toBe("TypingStarted");
    watch.unsubscribe();
  });

  it("expires after 10 s, after which a new call is announced again", async () => {
    const carol = await server.signUp("carol");
    await befriend(server, bob, carol);
    const { services } = server.app;
    const dm = await server.ok(`mutation($u: [ID!]!) { openDirectMessage(userIds: $u) { id } }`, { u: [carol.id] }, bob.token);
    const dmId = dm.openDirectMessage.id;
    await server.ok(TYPE, { c: dmId }, carol.token);
    expect((await server.ok(TYPING, { c: dmId }, bob.token)).channel.typing).toHaveLength(1);
    const realNow = services.now;
    try {
      // Jump the server's clock past the expiry.
      services.now = () => new Date(Date.now() + 10_001);
      expect((await server.ok(TYPING, { c: dmId }, bob.token)).channel.typing).toEqual([]);
      const watch = subscribe(server.ws(bob.token), CHANNEL_EVENTS, { c: dmId });
      await waitForSubscribers(server, `channel:${dmId}`);
      await server.ok(TYPE, { c: dmId }, carol.token);
      await watch.waitFor(1);
      expect(watch.received[0]!.data!.channelEvents).toMatchObject({ __typename: "TypingStarted", user: { id: carol.id } });
      watch.unsubscribe();
    } finally {
      services.now = realNow;
    }
  });

  it("answers NOT_FOUND for channels the typist cannot read and writes nothing", async () => {
    const stranger = await server.signUp("stranger");
    const res = await server.gql(TYPE, { c: channelId }, stranger.token);
    expect(res.errors?.[0]?.extensions?.code).toBe("NOT_FOUND");
    expect((await server.ok(TYPING, { c: channelId }, ada.token)).channel.typing.map((t: { user: { id: string } }) => t.user.id)).not.toContain(stranger.id);
    const bad = await server.gql(TYPE, { c: "x" }, bob.token);
    expect(bad.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "channelId" });
    const anonymous = await server.gql(TYPE, { c: channelId });
    expect(anonymous.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
  });
});
