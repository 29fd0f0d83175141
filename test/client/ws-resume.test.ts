import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import WebSocket from "ws";
import { ChannelEventsDocument, type ChannelEventsSubscription, type CloseEventLike, type ConcordWsClientOptions, createConcordWsClient } from "../../client/src/index.js";
import { guildOf } from "../support/people.js";
import { startTestServer, type TestServer } from "../support/server.js";

/**
 * createConcordWsClient against a real server: a subscription survives a dropped socket and
 * resumes from its last cursor (every message once, in order), and a revoked token (4401) is
 * not retried.
 */
describe("createConcordWsClient", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server?.close();
  });

  /** A client of `token` that counts its connections and exposes its current socket. */
  const connect = (token: string, options: Partial<ConcordWsClientOptions>) => {
    let socket: WebSocket | undefined;
    let connections = 0;
    const on = { connected: (opened: unknown) => ((socket = opened as WebSocket), connections++) };
    const ws = createConcordWsClient({ url: server.wsUrl, token, webSocketImpl: WebSocket, ...options, graphqlWs: { ...options.graphqlWs, on } });
    return { ws, connections: () => connections, socket: () => socket };
  };

  it("resumes a subscription after a forced close without losing or repeating an event", async () => {
    const alice = await server.signUp("alice");
    const bob = await server.signUp("bob");
    const { channelId } = await guildOf(server, alice, [bob]);
    const { ws, connections, socket } = connect(alice.token, { retryDelay: () => 200 });
    const events: ChannelEventsSubscription["channelEvents"][] = [];
    const stop = ws.subscribe({ query: ChannelEventsDocument, variables: { channelId } }, { next: ({ data }) => void (data && events.push(data.channelEvents)), error: (e) => events.push(e as never), complete: () => {} });
    const send = async (content: string) => (await server.ok(`mutation($c: ID!, $t: String!) { sendMessage(input: { channelId: $c, content: $t }) { id } }`, { c: channelId, t: content }, bob.token)).sendMessage.id as string;
    const received = () => events.flatMap((event) => (event.__typename === "MessageCreated" ? [event.message.content] : []));
    await vi.waitFor(() => expect(events.map((event) => event.__typename)).toEqual(["Subscribed"]), { timeout: 5_000 });

    for (const content of ["a1", "a2"]) await send(content);
    await vi.waitFor(() => expect(received()).toEqual(["a1", "a2"]), { timeout: 5_000 });

    // The network drops (no close frame: 1006); messages sent meanwhile must still arrive, once.
    socket()!.terminate();
    for (const content of ["b1", "b2", "b3"]) await send(content);
    await vi.waitFor(() => expect(connections()).toBe(2), { timeout: 5_000 });
    await vi.waitFor(() => expect(received()).toEqual(["a1", "a2", "b1", "b2", "b3"]), { timeout: 5_000 });
    await send("c1");
    await vi.waitFor(() => expect(received()).toEqual(["a1", "a2", "b1", "b2", "b3", "c1"]), { timeout: 5_000 });
    // Each (re)subscription starts with Subscribed; nothing else arrived twice.
    expect(events.map((event) => event.__typename)).toEqual(["Subscribed", "MessageCreated", "MessageCreated", "Subscribed", "MessageCreated", "MessageCreated", "MessageCreated", "MessageCreated"]);
    const cursors = events.map((event) => event.cursor);
    expect(cursors[3]).toBe(cursors[2]); // resumed from the last cursor it had
    stop();
    await ws.dispose();
  });

  it("resubscribes from its cursor after a 1011 close, which graphql-ws itself does not retry", async () => {
    const dave = await server.signUp("dave");
    const { channelId } = await guildOf(server, dave);
    const { ws, connections, socket } = connect(dave.token, { retryDelay: () => 50 });
    const types: string[] = [];
    const errors: unknown[] = [];
    ws.subscribe({ query: ChannelEventsDocument, variables: { channelId } }, { next: ({ data }) => void (data && types.push(data.channelEvents.__typename)), error: (e) => errors.push(e), complete: () => {} });
    await vi.waitFor(() => expect(types).toEqual(["Subscribed"]), { timeout: 5_000 });
    socket()!.close(1011, "Internal error");
    await server.ok(`mutation($c: ID!) { sendMessage(input: { channelId: $c, content: "after 1011" }) { id } }`, { c: channelId }, dave.token);
    await vi.waitFor(() => expect(types).toEqual(["Subscribed", "Subscribed", "MessageCreated"]), { timeout: 5_000 });
    expect(connections()).toBe(2);
    expect(errors).toEqual([]);
    await ws.dispose();
  });

  it("does not retry when the server closes with 4401 (revoked session), and says so", async () => {
    const carol = await server.signUp("carol");
    const { channelId } = await guildOf(server, carol);
    const fatal: CloseEventLike[] = [];
    // Kept open with no operation: a lazy client would already have closed it when the stream ended.
    const { ws, connections } = connect(carol.token, { retryDelay: () => 50, lazy: false, onFatalClose: (event) => fatal.push(event), graphqlWs: { onNonLazyError: () => {} } });
    const errors: unknown[] = [];
    const results: unknown[] = [];
    ws.subscribe({ query: ChannelEventsDocument, variables: { channelId } }, { next: (result) => results.push(result), error: (e) => errors.push(e), complete: () => {} });
    await vi.waitFor(() => expect(results).toHaveLength(1), { timeout: 5_000 });
    await server.ok(`mutation { logout }`, {}, carol.token);
    await vi.waitFor(() => expect(fatal.map((event) => event.code)).toEqual([4401]), { timeout: 5_000 });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(connections()).toBe(1);
    // The stream itself ended first, with the reason (docs/LIVE.md §5).
    expect(JSON.stringify(results[1])).toContain("UNAUTHENTICATED");
    await ws.dispose();
  });
});
