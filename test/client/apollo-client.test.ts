import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";

// Apollo Client 4 runs its development checks (and prints its warnings) only with __DEV__ set
// before it loads; vi.hoisted runs before the imports below.
vi.hoisted(() => {
  (globalThis as { __DEV__?: boolean }).__DEV__ = true;
});

import { ApolloClient, InMemoryCache } from "@apollo/client";
import { loadDevMessages, loadErrorMessages } from "@apollo/client/dev";
import { __DEV__ } from "@apollo/client/utilities/environment";
import type { Observable } from "rxjs";
import WebSocket from "ws";
import {
  AckMessageDocument,
  ChannelEventsDocument,
  ChannelHistoryDocument,
  CreateGuildDocument,
  CreateInviteDocument,
  GuildChannelsDocument,
  GuildEventsDocument,
  createConcordLink,
  createConcordWsClient,
  JoinGuildDocument,
  MyGuildsDocument,
  possibleTypes,
  SendMessageDocument,
  SignUpDocument,
  typePolicies,
  UserEventsDocument,
} from "../../client/src/index.js";
import { startTestServer, type TestServer } from "../support/server.js";

/**
 * The client SDK with Apollo Client against a real server: named fragments on the event unions,
 * ack → unread counts through the normalized cache, Relay paging of Channel.messages, and no
 * Apollo cache warning in development mode. Looped over a server that runs any document and one
 * that runs only the SDK's trusted documents (PERSISTED_DOCUMENTS=only with its manifest).
 */

const MANIFEST = path.resolve("client/src/generated/persisted-documents.json");
const modes: { name: string; env: Record<string, string>; trustedDocuments: boolean }[] = [
  { name: "any document", env: {}, trustedDocuments: false },
  { name: "trusted documents only (the SDK's manifest)", env: { PERSISTED_DOCUMENTS: "only", PERSISTED_DOCUMENTS_MANIFEST: MANIFEST }, trustedDocuments: true },
];

loadDevMessages();
loadErrorMessages();

describe.each(modes)("Apollo Client with the SDK, server running $name", ({ env, trustedDocuments }) => {
  let server: TestServer;
  const clients: ApolloClient[] = [];
  const disposers: (() => Promise<void>)[] = [];
  const warnings: unknown[][] = [];

  const apollo = (token?: string) => {
    const ws = createConcordWsClient({ url: server.wsUrl, token, webSocketImpl: WebSocket, trustedDocuments, retryDelay: () => 50 });
    disposers.push(() => ws.dispose());
    const client = new ApolloClient({
      cache: new InMemoryCache({ possibleTypes, typePolicies }),
      link: createConcordLink({ httpUrl: server.url, ws, token, trustedDocuments }),
    });
    clients.push(client);
    return client;
  };

  /** Collects a subscription's events (failing on any error result). */
  const collect = <TData, TEvent>(observable: Observable<{ data?: TData | undefined; error?: unknown }>, event: (data: TData) => TEvent) => {
    const events: TEvent[] = [];
    const subscription = observable.subscribe(({ data, error }) => {
      expect(error).toBeUndefined();
      if (data) events.push(event(data));
    });
    return { events, stop: () => subscription.unsubscribe() };
  };

  const signUp = async (name: string) => {
    const { data } = await apollo().mutate({ mutation: SignUpDocument, variables: { username: `${name}_${process.pid}_${trustedDocuments ? "t" : "a"}`, password: "correct horse" } });
    return { token: data!.register.token, id: data!.register.user.id, client: apollo(data!.register.token) };
  };

  beforeAll(async () => {
    server = await startTestServer({ env });
    for (const method of ["warn", "error"] as const) {
      vi.spyOn(console, method).mockImplementation((...args: unknown[]) => void warnings.push([method, ...args]));
    }
  });
  afterEach(() => {
    expect(warnings, "Apollo printed warnings or errors").toEqual([]);
  });
  afterAll(async () => {
    vi.restoreAllMocks();
    for (const client of clients) client.stop();
    await Promise.all(disposers.map((dispose) => dispose()));
    await server?.close();
  });

  it("runs in development mode, where Apollo checks its cache writes", () => {
    expect(__DEV__).toBe(true);
  });

  it("delivers events through the named fragments on the event unions, acks to unreadCount 0 through the cache, and merges history pages", async () => {
    const alice = await signUp("alice");
    const bob = await signUp("bob");
    const guild = (await alice.client.mutate({ mutation: CreateGuildDocument, variables: { name: "Apollo" } })).data!.createGuild;
    const channelId = guild.channels[0]!.id;
    const { code } = (await alice.client.mutate({ mutation: CreateInviteDocument, variables: { guildId: guild.id } })).data!.createInvite;
    const guildEvents = collect(alice.client.subscribe({ query: GuildEventsDocument, variables: { guildId: guild.id } }), (data) => data.guildEvents);
    const userEvents = collect(alice.client.subscribe({ query: UserEventsDocument }), (data) => data.userEvents);
    await vi.waitFor(() => expect([guildEvents.events[0]?.__typename, userEvents.events[0]?.__typename]).toEqual(["Subscribed", "Subscribed"]), { timeout: 15_000 });
    await bob.client.mutate({ mutation: JoinGuildDocument, variables: { code } });
    await vi.waitFor(() => expect(guildEvents.events.flatMap((event) => (event.__typename === "MemberJoined" ? [event.user.id] : []))).toEqual([bob.id]), { timeout: 15_000 });

    const { events, stop } = collect(alice.client.subscribe({ query: ChannelEventsDocument, variables: { channelId } }), (data) => data.channelEvents);
    await vi.waitFor(() => expect(events[0]?.__typename).toBe("Subscribed"), { timeout: 15_000 });

    const sent: string[] = [];
    for (const content of ["one", "two", "three", "four", "five"]) {
      sent.push((await bob.client.mutate({ mutation: SendMessageDocument, variables: { channelId, content } })).data!.sendMessage.id);
    }
    await vi.waitFor(() => expect(events.filter((event) => event.__typename === "MessageCreated")).toHaveLength(5), { timeout: 15_000 });
    const created = events.flatMap((event) => (event.__typename === "MessageCreated" ? [event] : []));
    expect(created.map((event) => [event.message.id, event.message.content, event.message.author?.id])).toEqual(sent.map((id, i) => [id, ["one", "two", "three", "four", "five"][i], bob.id]));
    expect(created.every((event) => typeof event.cursor === "string")).toBe(true);
    stop();

    // The sidebar: 5 unread; the ack's ReadState replaces the cached one (same id): 0.
    const guilds = await alice.client.query({ query: MyGuildsDocument });
    expect(guilds.data!.me.guilds.map((each) => each.id)).toEqual([guild.id]);
    const sidebar = await alice.client.query({ query: GuildChannelsDocument, variables: { guildId: guild.id }, fetchPolicy: "network-only" });
    const unread = () => alice.client.readQuery({ query: GuildChannelsDocument, variables: { guildId: guild.id } })!.guild!.channels[0]!.readState;
    expect(sidebar.data!.guild!.channels[0]!.readState.unreadCount).toBe(5);
    await alice.client.mutate({ mutation: AckMessageDocument, variables: { channelId, messageId: sent[4]! } });
    expect(unread()).toMatchObject({ unreadCount: 0, lastReadMessageId: sent[4] });
    // Every session hears the ack (batched), through the named fragment on UserEvent.
    await vi.waitFor(
      () => expect(userEvents.events.flatMap((event) => (event.__typename === "ReadStateUpdated" ? [[event.lastReadMessageId, event.readState.unreadCount]] : []))).toEqual([[sent[4], 0]]),
      { timeout: 15_000 },
    );
    guildEvents.stop();
    userEvents.stop();

    // Scroll back two at a time: the pages merge into one list, oldest first.
    const first = await alice.client.query({ query: ChannelHistoryDocument, variables: { channelId, last: 2 } });
    expect(first.data!.channel!.messages.edges.map((edge) => edge.node.content)).toEqual(["four", "five"]);
    const history = alice.client.watchQuery({ query: ChannelHistoryDocument, variables: { channelId, last: 2 } });
    const watched = history.subscribe(() => {});
    await history.fetchMore({ variables: { last: 2, before: first.data!.channel!.messages.pageInfo.startCursor } });
    await history.fetchMore({ variables: { last: 2, before: sent[1] } });
    const merged = alice.client.readQuery({ query: ChannelHistoryDocument, variables: { channelId, last: 2 } })!.channel!.messages;
    expect(merged.edges.map((edge) => edge.node.content)).toEqual(["one", "two", "three", "four", "five"]);
    expect(merged.pageInfo.hasPreviousPage).toBe(false);
    watched.unsubscribe();
  });
});
