import { badInput } from "../errors.js";
import type { QueryParameter, RestRequest, RestRoute } from "./route.js";

/** A user wherever a REST answer names one. */
const USER_SUMMARY = `fragment UserSummary on User { id username bot }`;

/**
 * The fields of a message in every REST answer: GraphQL's names, so one client model fits both
 * APIs. Not mentionRoles: the cost model counts it at 50 roles a message, and with it a page of
 * 100 would cost over MAX_QUERY_COST's default (GraphQL clients can ask for it per page).
 */
const MESSAGE = `fragment Message on Message {
  id content createdAt editedAt nonce replyToId mentionEveryone
  author { ...UserSummary }
  mentions { ...UserSummary }
}
${USER_SUMMARY}`;

const CHANNEL = `fragment Channel on Channel {
  id kind name topic position rateLimitPerUser createdAt myPermissions
  guild { id }
  parent { id }
}`;

const GUILD = `fragment Guild on Guild {
  id name createdAt memberCount large myPermissions
  owner { ...UserSummary }
}
${USER_SUMMARY}`;

const PAGE_DEFAULT = 50;
const PAGE_MAX = 100;
const CURSORS = ["before", "after", "around"] as const;

const snowflake = { type: "string", pattern: "^[0-9]{1,19}$" } as const;

const HISTORY_QUERY: readonly QueryParameter[] = [
  { name: "limit", description: `How many messages, 1 to ${PAGE_MAX} (default ${PAGE_DEFAULT}).`, schema: { type: "integer", minimum: 1, maximum: PAGE_MAX, default: PAGE_DEFAULT } },
  { name: "before", description: "Messages older than this id (scroll back). At most one of before, after and around.", schema: snowflake },
  { name: "after", description: "Messages newer than this id, the oldest of them first in time (the page is still newest first).", schema: snowflake },
  { name: "around", description: "Messages centred on this id (it included, if it exists).", schema: snowflake },
];

/** `limit` of a history request: 1 to 100, 50 when absent; BAD_USER_INPUT otherwise. */
function pageLimit(query: URLSearchParams): number {
  const raw = query.get("limit");
  if (raw === null) return PAGE_DEFAULT;
  const limit = /^[0-9]{1,3}$/.test(raw) ? Number(raw) : NaN;
  if (!(limit >= 1 && limit <= PAGE_MAX)) throw badInput("limit", `limit must be a whole number from 1 to ${PAGE_MAX}.`);
  return limit;
}

/**
 * Discord's history query (before, after or around, and limit) as Channel.messages arguments:
 * before → last/before, after → first/after, around → first/around, none → the newest `limit`.
 * The ids themselves are checked by the GraphQL arguments (BAD_USER_INPUT naming them).
 */
function historyArguments({ params, query }: RestRequest): Record<string, unknown> {
  const limit = pageLimit(query);
  const given = CURSORS.filter((name) => query.has(name));
  if (given.length > 1) throw badInput(given[1]!, `Send at most one of before, after and around (got ${given.join(" and ")}).`);
  const cursor = given[0];
  const at = cursor === undefined ? null : query.get(cursor);
  return {
    id: params.channelId,
    last: cursor === undefined || cursor === "before" ? limit : null,
    first: cursor === "after" || cursor === "around" ? limit : null,
    before: cursor === "before" ? at : null,
    after: cursor === "after" ? at : null,
    around: cursor === "around" ? at : null,
  };
}

const CHANNEL_ID = { channelId: "The channel's id (a snowflake)." };
const MESSAGE_IDS = { ...CHANNEL_ID, messageId: "The message's id (a snowflake)." };
const GUILD_ID = { guildId: "The guild's id (a snowflake)." };

/**
 * The REST API (issue #12): Discord's routes for messages, channels, guilds and the signed-in user,
 * each one GraphQL operation. Adding a route here serves it and documents it in /v1/openapi.json.
 */
export const REST_ROUTES: readonly RestRoute[] = [
  {
    method: "POST",
    path: "/v1/channels/{channelId}/messages",
    operationId: "sendMessage",
    summary: "Send a message",
    description: "GraphQL's sendMessage: subscribers of channelEvents receive it; the same nonce twice returns the first message. Charges the same rate-limit buckets.",
    pathParams: CHANNEL_ID,
    body: { inputType: "SendMessageInput", fromPath: ["channelId"] },
    document: `mutation RestSendMessage($input: SendMessageInput!) { sendMessage(input: $input) { ...Message } }\n${MESSAGE}`,
    variables: ({ params, body }) => ({ input: { ...body, channelId: params.channelId } }),
    answer: { path: ["sendMessage"] },
  },
  {
    method: "GET",
    path: "/v1/channels/{channelId}/messages",
    operationId: "listMessages",
    summary: "Read a channel's history",
    description: "Newest first, as in Discord (Channel.messages is oldest first). Needs READ_MESSAGE_HISTORY (403 without).",
    pathParams: CHANNEL_ID,
    query: HISTORY_QUERY,
    document: `query RestMessages($id: ID!, $first: Int, $last: Int, $before: ID, $after: ID, $around: ID) {
  channel(id: $id) { messages(first: $first, last: $last, before: $before, after: $after, around: $around) { edges { node { ...Message } } } }
}\n${MESSAGE}`,
    variables: historyArguments,
    answer: { path: ["channel", "messages", "edges"], edges: true },
  },
  {
    method: "PATCH",
    path: "/v1/channels/{channelId}/messages/{messageId}",
    operationId: "editMessage",
    summary: "Edit your message",
    description: "GraphQL's editMessage: subscribers receive MessageUpdated.",
    pathParams: MESSAGE_IDS,
    body: { inputType: "EditMessageInput", fromPath: ["channelId", "messageId"] },
    document: `mutation RestEditMessage($input: EditMessageInput!) { editMessage(input: $input) { ...Message } }\n${MESSAGE}`,
    variables: ({ params, body }) => ({ input: { ...body, channelId: params.channelId, messageId: params.messageId } }),
    answer: { path: ["editMessage"] },
  },
  {
    method: "DELETE",
    path: "/v1/channels/{channelId}/messages/{messageId}",
    operationId: "deleteMessage",
    summary: "Delete a message",
    description: "GraphQL's deleteMessage: yours, or anyone's with MANAGE_MESSAGES. Subscribers receive MessageDeleted. Answers 204.",
    pathParams: MESSAGE_IDS,
    document: `mutation RestDeleteMessage($input: DeleteMessageInput!) { deleteMessage(input: $input) }`,
    variables: ({ params }) => ({ input: { channelId: params.channelId, messageId: params.messageId } }),
  },
  {
    method: "GET",
    path: "/v1/channels/{channelId}",
    operationId: "getChannel",
    summary: "Get a channel",
    description: "A channel you can see (404 otherwise, as for one that does not exist).",
    pathParams: CHANNEL_ID,
    document: `query RestChannel($id: ID!) { channel(id: $id) { ...Channel } }\n${CHANNEL}`,
    variables: ({ params }) => ({ id: params.channelId }),
    answer: { path: ["channel"] },
  },
  {
    method: "GET",
    path: "/v1/guilds/{guildId}",
    operationId: "getGuild",
    summary: "Get a guild",
    description: "A guild you belong to (404 otherwise, as for one that does not exist).",
    pathParams: GUILD_ID,
    document: `query RestGuild($id: ID!) { guild(id: $id) { ...Guild } }\n${GUILD}`,
    variables: ({ params }) => ({ id: params.guildId }),
    answer: { path: ["guild"] },
  },
  {
    method: "GET",
    path: "/v1/guilds/{guildId}/channels",
    operationId: "listGuildChannels",
    summary: "List a guild's channels",
    description: "The channels of the guild you can see, in guild order.",
    pathParams: GUILD_ID,
    document: `query RestGuildChannels($id: ID!) { guild(id: $id) { channels { ...Channel } } }\n${CHANNEL}`,
    variables: ({ params }) => ({ id: params.guildId }),
    answer: { path: ["guild", "channels"] },
  },
  {
    method: "GET",
    path: "/v1/users/@me",
    operationId: "getMe",
    summary: "The signed-in user or bot",
    description: "Who the token belongs to.",
    pathParams: {},
    document: `query RestMe { me { id username bot createdAt } }`,
    variables: () => ({}),
    answer: { path: ["me"] },
  },
  {
    method: "GET",
    path: "/v1/users/@me/guilds",
    operationId: "listMyGuilds",
    summary: "Your guilds",
    description: "Every guild you belong to.",
    pathParams: {},
    document: `query RestMyGuilds { me { guilds { ...Guild } } }\n${GUILD}`,
    variables: () => ({}),
    answer: { path: ["me", "guilds"] },
  },
];
