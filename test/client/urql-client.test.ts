import { Client } from "@urql/core";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import WebSocket from "ws";
import { ChannelEventsDocument, createConcordWsClient, GuildChannelsDocument, SendMessageDocument } from "../../client/src/core.js";
import { createConcordExchanges } from "../../client/src/urql.js";
import { guildOf } from "../support/people.js";
import { startTestServer, type TestServer } from "../support/server.js";

/** The SDK's urql exchanges against a real server: typed queries and mutations over HTTP, subscriptions over the socket. */
describe("urql with the SDK's exchanges", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server?.close();
  });

  it("queries, mutates and subscribes with the generated documents", async () => {
    const alice = await server.signUp("alice");
    const { guildId, channelId } = await guildOf(server, alice);
    const ws = createConcordWsClient({ url: server.wsUrl, token: alice.token, webSocketImpl: WebSocket });
    const client = new Client({ url: server.url, exchanges: createConcordExchanges(ws), fetchOptions: { headers: { authorization: `Bearer ${alice.token}` } } });

    const channels = await client.query(GuildChannelsDocument, { guildId }).toPromise();
    expect(channels.error).toBeUndefined();
    expect(channels.data?.guild?.channels.map((channel) => channel.id)).toEqual([channelId]);

    const events: string[] = [];
    const live = client.subscription(ChannelEventsDocument, { channelId }).subscribe(({ data, error }) => {
      expect(error).toBeUndefined();
      const event = data?.channelEvents;
      if (event) events.push(event.__typename === "MessageCreated" ? `${event.__typename} ${event.message.content}` : event.__typename);
    });
    await vi.waitFor(() => expect(events).toEqual(["Subscribed"]), { timeout: 5_000 });
    const sent = await client.mutation(SendMessageDocument, { channelId, content: "hello urql" }).toPromise();
    expect(sent.data?.sendMessage.content).toBe("hello urql");
    await vi.waitFor(() => expect(events).toEqual(["Subscribed", "MessageCreated hello urql"]), { timeout: 5_000 });
    live.unsubscribe();
    await ws.dispose();
  });
});
