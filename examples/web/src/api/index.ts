/**
 * The web client's data layer: the only module that talks to Concord. Queries and mutations go
 * over HTTP with `Authorization: Bearer <token>`; subscriptions over one graphql-ws socket that
 * signs in with `connectionParams.authorization` (src/gateway/auth.ts). The UI sees plain
 * objects and callbacks, never urql or GraphQL, so this file and ./documents.ts are all that
 * changes when the client moves to the typed `client/` package.
 */
import { Client, fetchExchange, subscriptionExchange, type AnyVariables, type DocumentInput, type OperationResult } from "@urql/core";
import { createClient as createSocket, type Client as Socket } from "graphql-ws";
import * as doc from "./documents.js";
import type { ApiOptions, ChannelEvent, GuildDetails, GuildEvent, GuildSummary, Message, MessagePage, ReadState, Session, UserEvent } from "./types.js";

export type * from "./types.js";

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
function dataOf<T>(result: OperationResult): T {
  if (result.error) {
    const first = result.error.graphQLErrors[0];
    throw new ApiError(first?.message ?? result.error.networkError?.message ?? result.error.message, first?.extensions?.code as string | undefined);
  }
  return result.data as T;
}

function httpClient(options: ApiOptions, token: string | null, socket?: Socket): Client {
  const exchanges = [fetchExchange];
  if (socket) {
    exchanges.push(
      subscriptionExchange({
        forwardSubscription: (request) => ({
          subscribe: (sink) => ({ unsubscribe: socket.subscribe({ ...request, query: request.query ?? "" }, sink) }),
        }),
      }),
    );
  }
  return new Client({
    url: options.httpUrl,
    exchanges,
    requestPolicy: "network-only",
    fetchOptions: () => (token ? { headers: { authorization: `Bearer ${token}` } } : {}),
  });
}

async function run<T>(client: Client, query: DocumentInput<any, AnyVariables>, variables: AnyVariables, kind: "query" | "mutation"): Promise<T> {
  const result = kind === "query" ? await client.query(query, variables).toPromise() : await client.mutation(query, variables).toPromise();
  return dataOf<T>(result);
}

/** Creates an account; resolves with its session (token and user). */
export async function signUp(options: ApiOptions, username: string, password: string): Promise<Session> {
  return (await run<{ register: Session }>(httpClient(options, null), doc.REGISTER, { username, password }, "mutation")).register;
}

/** Signs in with a password; resolves with a new session. */
export async function signIn(options: ApiOptions, username: string, password: string): Promise<Session> {
  return (await run<{ login: Session }>(httpClient(options, null), doc.LOGIN, { username, password }, "mutation")).login;
}

/** What a signed-in client can do; made by {@link connect}. */
export interface Api {
  me(): Promise<{ id: string; username: string; guilds: GuildSummary[] }>;
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
  /** Live events of a channel; `Subscribed` first, once the stream is live. Returns a stop function. */
  channelEvents(channelId: string, onEvent: (event: ChannelEvent) => void, onError: (error: ApiError) => void): () => void;
  guildEvents(guildId: string, onEvent: (event: GuildEvent) => void, onError: (error: ApiError) => void): () => void;
  userEvents(onEvent: (event: UserEvent) => void, onError: (error: ApiError) => void): () => void;
  /** Signs the session out on the server and closes the socket. */
  signOut(): Promise<void>;
  /** Closes the socket without signing out. */
  close(): void;
}

/**
 * Opens a signed-in client: one graphql-ws socket (eager, so the user shows as online while the
 * page is open; retried with back-off except after 4401, when the session is gone) and HTTP for
 * the rest. `onSocket` hears "connected", "reconnected" (events may have been missed: refetch)
 * and "closed"; `onSessionEnded` hears a 4401 close (sign in again).
 */
export function connect(
  options: ApiOptions,
  token: string,
  hooks: { onSocket?: (state: "connected" | "reconnected" | "closed") => void; onSessionEnded?: () => void } = {},
): Api {
  const socket = createSocket({
    url: options.wsUrl,
    lazy: false,
    retryAttempts: Number.POSITIVE_INFINITY,
    connectionParams: { authorization: `Bearer ${token}`, client: "Concord Web" },
    shouldRetry: (event) => (event as CloseEvent | undefined)?.code !== 4401,
    // Closes are reported through `on.closed` below; graphql-ws would also print each one.
    onNonLazyError: () => {},
    on: {
      connected: (_socket, _payload, wasRetry) => hooks.onSocket?.(wasRetry ? "reconnected" : "connected"),
      closed: (event) => {
        hooks.onSocket?.("closed");
        if ((event as CloseEvent | undefined)?.code === 4401) hooks.onSessionEnded?.();
      },
    },
  });
  const client = httpClient(options, token, socket);
  const query = <T>(document: DocumentInput<any, AnyVariables>, variables: AnyVariables = {}) => run<T>(client, document, variables, "query");
  const mutate = <T>(document: DocumentInput<any, AnyVariables>, variables: AnyVariables = {}) => run<T>(client, document, variables, "mutation");
  const live = <T>(document: DocumentInput<any, AnyVariables>, variables: AnyVariables, field: string, onEvent: (event: T) => void, onError: (error: ApiError) => void) => {
    const { unsubscribe } = client.subscription(document, variables).subscribe((result) => {
      try {
        const data = dataOf<Record<string, T>>(result);
        if (data?.[field]) onEvent(data[field]);
      } catch (error) {
        onError(error as ApiError);
      }
    });
    return unsubscribe;
  };

  return {
    me: async () => (await query<{ me: { id: string; username: string; guilds: GuildSummary[] } }>(doc.ME)).me,
    guild: async (guildId) => {
      const { guild } = await query<{ guild: Omit<GuildDetails, "members"> & { members: { edges: { node: GuildDetails["members"][number] }[] } } }>(doc.GUILD, { guildId });
      return { ...guild, channels: [...guild.channels].sort((a, b) => a.position - b.position), members: guild.members.edges.map((edge) => edge.node) };
    },
    guildUnread: async (guildId) => {
      const { guild } = await query<{ guild: { channels: { id: string; kind: string; readState: { unreadCount: number } }[] } }>(doc.GUILD_UNREAD, { guildId });
      return new Map(guild.channels.filter((c) => c.kind === "GUILD_TEXT").map((c) => [c.id, c.readState.unreadCount]));
    },
    messages: async (channelId, before, pageSize = 50) => {
      const { channel } = await query<{ channel: { messages: { pageInfo: { hasPreviousPage: boolean }; edges: { node: Message }[] } } }>(doc.MESSAGES, { channelId, last: pageSize, before });
      return { messages: channel.messages.edges.map((edge) => edge.node), hasOlder: channel.messages.pageInfo.hasPreviousPage };
    },
    sendMessage: async (channelId, content) =>
      (await mutate<{ sendMessage: Message }>(doc.SEND_MESSAGE, { channelId, content, nonce: crypto.randomUUID() })).sendMessage,
    editMessage: async (channelId, messageId, content) => (await mutate<{ editMessage: Message }>(doc.EDIT_MESSAGE, { channelId, messageId, content })).editMessage,
    deleteMessage: async (channelId, messageId) => void (await mutate(doc.DELETE_MESSAGE, { channelId, messageId })),
    ackMessage: async (channelId, messageId) => (await mutate<{ ackMessage: ReadState }>(doc.ACK_MESSAGE, { channelId, messageId })).ackMessage,
    startTyping: async (channelId) => void (await mutate(doc.START_TYPING, { channelId })),
    createGuild: async (name) => (await mutate<{ createGuild: GuildSummary }>(doc.CREATE_GUILD, { name })).createGuild,
    createInvite: async (guildId) => (await mutate<{ createInvite: { code: string } }>(doc.CREATE_INVITE, { guildId })).createInvite.code,
    joinGuild: async (code) => (await mutate<{ joinGuild: GuildSummary }>(doc.JOIN_GUILD, { code })).joinGuild,
    channelEvents: (channelId, onEvent, onError) => live(doc.CHANNEL_EVENTS, { channelId }, "channelEvents", onEvent, onError),
    guildEvents: (guildId, onEvent, onError) => live(doc.GUILD_EVENTS, { guildId }, "guildEvents", onEvent, onError),
    userEvents: (onEvent, onError) => live(doc.USER_EVENTS, {}, "userEvents", onEvent, onError),
    async signOut() {
      await mutate(doc.LOGOUT).catch(() => {});
      void socket.dispose();
    },
    close: () => void socket.dispose(),
  };
}
