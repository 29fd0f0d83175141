import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, subscribe, waitForSubscribers, type TestServer } from "../support/server.js";

/** The acceptance path: two people, one guild, live messages both ways, in order. */
describe("live chat between two users", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server?.close());

  // Latency is measured by bench/, not asserted here: a loaded CI machine must not fail this.
  it("delivers each other's messages live, in order", async () => {
    const ada = await server.signUp("ada");
    const bob = await server.signUp("bob");
    const guild = await server.gql(`mutation { createGuild(input: { name: "Engines" }) { id channels { id name } } }`, {}, ada.token);
    const guildId = guild.data.createGuild.id;
    const channelId = guild.data.createGuild.channels[0].id;
    expect(guild.data.createGuild.channels[0].name).toBe("general");

    const invite = await server.gql(`mutation($g: ID!) { createInvite(input: { guildId: $g, maxUses: 5 }) { code } }`, { g: guildId }, ada.token);
    const joined = await server.gql(`mutation($c: String!) { joinGuild(code: $c) { id memberCount } }`, { c: invite.data.createInvite.code }, bob.token);
    expect(joined.data.joinGuild).toEqual({ id: guildId, memberCount: 2 });

    const query = `subscription($c: ID!) { channelEvents(channelId: $c) { __typename ... on MessageCreated { message { id content author { username } } } } }`;
    const adaSub = subscribe(server.ws(ada.token), query, { c: channelId });
    const bobSub = subscribe(server.ws(bob.token), query, { c: channelId });
    await waitForSubscribers(server, `channel:${channelId}`, 2);

    const sent: string[] = [];
    for (let i = 0; i < 10; i++) {
      const author = i % 2 === 0 ? ada : bob;
      const res = await server.gql(`mutation($c: ID!, $t: String!) { sendMessage(input: { channelId: $c, content: $t }) { id } }`, { c: channelId, t: `message ${i}` }, author.token);
      sent.push(res.data.sendMessage.id);
    }
    for (const sub of [adaSub, bobSub]) {
      const events = await sub.waitFor(10);
      expect(events.map((e) => e.data.channelEvents.message.id)).toEqual(sent);
      expect(events.map((e) => e.data.channelEvents.message.content)).toEqual(sent.map((_, i) => `message ${i}`));
      expect(events[1]!.data.channelEvents.message.author.username).toBe(bob.username);
    }
  });

  it("serves a client that speaks only graphql-ws: queries, mutations and a subscription on one socket", async () => {
    const ada = await server.signUp("ada");
    const client = server.ws(ada.token);
    /** One query or mutation over the socket, as Apollo's GraphQLWsLink or urql send them. */
    const over = async (query: string, variables: Record<string, unknown> = {}) => {
      const sub = subscribe(client, query, variables);
      await sub.completed;
      return sub.received[0]!;
    };
    const created = await over(`mutation { createGuild(input: { name: "Sockets" }) { id channels { id } } }`);
    expect(created.errors).toBeUndefined();
    const channelId = created.data.createGuild.channels[0].id;
    const live = subscribe(client, `subscription($c: ID!) { channelEvents(channelId: $c) { ... on MessageCreated { message { content } } } }`, { c: channelId });
    await waitForSubscribers(server, `channel:${channelId}`, 1);
    const sent = await over(`mutation($c: ID!) { sendMessage(input: { channelId: $c, content: "over the socket" }) { content } }`, { c: channelId });
    expect(sent).toEqual({ data: { sendMessage: { content: "over the socket" } } });
    expect((await live.waitFor(1))[0]!.data.channelEvents).toEqual({ message: { content: "over the socket" } });
    expect(await over(`query($c: ID!) { channel(id: $c) { messages(last: 5) { edges { node { content } } } } }`, { c: channelId })).toEqual({
      data: { channel: { messages: { edges: [{ node: { content: "over the socket" } }] } } },
    });
  });
});
