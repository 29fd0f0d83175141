/**
 * The web client's data layer: the only module that talks to Concord, built on the client SDK
 * (client/, imported by path): its typed documents, its resuming WebSocket client and its urql
 * exchanges. Queries and mutations go over HTTP with `Authorization: Bearer <token>`;
 * subscriptions over one socket that signs in with `connectionParams.authorization`
 * (src/gateway/auth.ts) and, after a reconnect, resumes every stream from its last cursor. The
 * UI sees plain objects and callbacks, never urql or GraphQL.
 */
import { Client, fetchExchange, type AnyVariables, type DocumentInput, type OperationResult } from "@urql/core";
import {
  AckMessageDocument,
  CONCORD_CLOSE_CODES,
  ChannelEventsDocument,
  ChannelHistoryDocument,
  CreateGuildDocument,
  CreateInviteDocument,
  DeleteMessageDocument,
  EditMessageDocument,
  GuildChannelsDocument,
  GuildEventsDocument,
  GuildMembersDocument,
  JoinGuildDocument,
  LogInDocument,
  LogOutDocument,
  MyGuildsDocument,
  SendMessageDocument,
  SignUpDocument,
  StartTypingDocument,
  UserEventsDocument,
  createConcordWsClient,
  type ConcordWsClient,
} from "../../../../client/src/core.js";
import { createConcordExchanges } from "../../../../client/src/urql.js";
import type { ApiOptions, ChannelEvent, GuildDetails, GuildEvent, GuildSummary, Message, MessagePage, ReadState, Session, UserEvent, UserRef } from "./types.js";

export type * from "./types.js";

/** Members listed in a guild's sidebar (one page of GuildMembers, its maximum). */
const MEMBER_PAGE = 100;

/** A GraphQL error as the UI shows it: the server's message and its `extensions.code`. */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

/** The data of a result, or an {@link ApiError} with the server's own words. */
function dataOf<T>(result: OperationResult<T, AnyVariables>): T {
  if (result.error) {
    const first = result.error.graphQLErrors[0];
    throw new ApiError(first?.message ?? result.error.networkError?.message ?? result.error.message, first?.extensions?.code as string | undefined);
  }
  return result.data!;
}

/** An urql client: the SDK's exchanges (subscriptions over `ws`), or HTTP alone before sign-in. */
function httpClient(options: ApiOptions, token: string | null, ws?: ConcordWsClient): Client {
  return new Client({
    url: options.httpUrl,
    exchanges: ws ? createConcordExchanges(ws) : [fetchExchange],
    // The UI keeps its own state (updated by the live streams): every query asks the server.
    requestPolicy: "network-only",
    fetchOptions: () => (token ? { headers: { authorization: `Bearer ${token}` } } : {}),
  });
}

async function query<T, V extends AnyVariables>(client: Client, document: DocumentInput<T, V>, variables: V): Promise<T> {
  return dataOf(await client.query(document, variables).toPromise());
}

async function mutate<T, V extends AnyVariables>(client: Client, document: DocumentInput<T, V>, variables: V): Promise<T> {
  return dataOf(await client.mutation(document, variables).toPromise());
}

/** Creates an account; resolves with its session (token and user). */
export async function signUp(options: ApiOptions, username: string, password: string): Promise<Session> {
  return (await mutate(httpClient(options, null), SignUpDocument, { username, password })).register;
}

/** Signs in with a password; resolves with a new session. */
export async function signIn(options: ApiOptions, username: string, password: string): Promise<Session> {
  return (await mutate(httpClient(options, null), LogInDocument, { username, password })).login;
}

/** What a signed-in client can do; made by {@link connect}. */
export interface Api {
  me(): Promise<UserRef & { guilds: GuildSummary[] }>;
  guild(guildId: string): Promise<GuildDetails>;
  /** Unread messages per text channel of a guild (for a guild's badge). */
  guildUnread(guildId: string): Promise<Map<string, number>>;
  /** A page of history ending just before `before` (the newest page without it), oldest first. */
  messages(channelId: string, before?: string, pageSize?: number): Promise<MessagePage>;
  sendMessage(channelId: string, content: string): Promise<Message>;
  editMessage(channelId: string, messageId: string, content: string): Promise<Message>;
  deleteMessage(channelId: string, messageId: string): Promise<void>;
  ackMessage(channelId: string, messageId: string): Promise<ReadState>;
  startTyping(channelId: string): Promise<void>;
  createGuild(name: string): Promise<GuildSummary>;
  createInvite(guildId: string): Promise<string>;
  joinGuild(code: string): Promise<GuildSummary>;
  /**
   * Live events of a channel; `Subscribed` first, once the stream is live (again after each
   * reconnect, which resumes from the last event: nothing is missed or repeated). Returns a stop function.
   */
  channelEvents(channelId: string, onEvent: (event: ChannelEvent) => void, onError: (error: ApiError) => void): () => void;
  guildEvents(guildId: string, onEvent: (event: GuildEvent) => void, onError: (error: ApiError) => void): () => void;
  userEvents(onEvent: (event: UserEvent) => void, onError: (error: ApiError) => void): () => void;
  /** Signs the session out on the server and closes the socket. */
  signOut(): Promise<void>;
  /** Closes the socket without signing out. */
  close(): void;
}

/**
 * Opens a signed-in client: one socket (the SDK's createConcordWsClient, eager so the user shows
 * as online while the page is open; reconnected with back-off unless the close code says it
 * cannot help, its streams resumed from their cursors) and HTTP for the rest. `onSocket` hears
 * "connected" and "closed"; `onSessionEnded` hears a 4401 close (sign in again).
 */
export function connect(options: ApiOptions, token: string, hooks: { onSocket?: (state: "connected" | "closed") => void; onSessionEnded?: () => void } = {}): Api {
  const ws = createConcordWsClient({
    url: options.wsUrl,
    token,
    clientName: "Concord Web",
    lazy: false,
    onFatalClose: (event) => {
      if (event.code === CONCORD_CLOSE_CODES.unauthorized) hooks.onSessionEnded?.();
    },
    graphqlWs: {
      // Closes are reported through `on.closed` below; graphql-ws would also print each one.
      onNonLazyError: () => {},
      on: {
        connected: () => hooks.onSocket?.("connected"),
        closed: () => hooks.onSocket?.("closed"),
      },
    },
  });
  const client = httpClient(options, token, ws);
  const live = <T, V extends AnyVariables, E>(document: DocumentInput<T, V>, variables: V, eventOf: (data: T) => E, onEvent: (event: E) => void, onError: (error: ApiError) => void) => {
    const { unsubscribe } = client.subscription(document, variables).subscribe((result) => {
      try {
        const data = dataOf(result);
        if (data) onEvent(eventOf(data));
      } catch (error) {
        onError(error as ApiError);
      }
    });
    return unsubscribe;
  };

  return {
    me: async () => (await query(client, MyGuildsDocument, {})).me,
    guild: async (guildId) => {
      const [{ guild }, members] = await Promise.all([query(client, GuildChannelsDocument, { guildId }), query(client, GuildMembersDocument, { guildId, first: MEMBER_PAGE })]);
      return { ...guild, channels: [...guild.channels].sort((a, b) => a.position - b.position), members: members.guild.members.edges.map((edge) => edge.node) };
    },
    guildUnread: async (guildId) => {
      const { guild } = await query(client, GuildChannelsDocument, { guildId });
      return new Map(guild.channels.filter((c) => c.kind === "GUILD_TEXT").map((c) => [c.id, c.readState.unreadCount]));
    },
    messages: async (channelId, before, pageSize = 50) => {
      const { channel } = await query(client, ChannelHistoryDocument, { channelId, last: pageSize, before });
      return { messages: channel.messages.edges.map((edge) => edge.node), hasOlder: channel.messages.pageInfo.hasPreviousPage };
    },
    sendMessage: async (channelId, content) => (await mutate(client, SendMessageDocument, { channelId, content, nonce: crypto.randomUUID() })).sendMessage,
    editMessage: async (channelId, messageId, content) => (await mutate(client, EditMessageDocument, { channelId, messageId, content })).editMessage,
    deleteMessage: async (channelId, messageId) => void (await mutate(client, DeleteMessageDocument, { channelId, messageId })),
    ackMessage: async (channelId, messageId) => (await mutate(client, AckMessageDocument, { channelId, messageId })).ackMessage,
    startTyping: async (channelId) => void (await mutate(client, StartTypingDocument, { channelId })),
    createGuild: async (name) => (await mutate(client, CreateGuildDocument, { name })).createGuild,
    createInvite: async (guildId) => (await mutate(client, CreateInviteDocument, { guildId, maxUses: 25, expiresInSeconds: 86_400 })).createInvite.code,
    joinGuild: async (code) => (await mutate(client, JoinGuildDocument, { code })).joinGuild,
    channelEvents: (channelId, onEvent, onError) => live(ChannelEventsDocument, { channelId }, (data) => data.channelEvents, onEvent, onError),
    guildEvents: (guildId, onEvent, onError) => live(GuildEventsDocument, { guildId }, (data) => data.guildEvents, onEvent, onError),
    userEvents: (onEvent, onError) => live(UserEventsDocument, {}, (data) => data.userEvents, onEvent, onError),
    async signOut() {
      await mutate(client, LogOutDocument, {}).catch(() => {});
      void ws.dispose();
    },
    close: () => void ws.dispose(),
  };
}
