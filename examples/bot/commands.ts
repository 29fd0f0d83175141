import { ConcordRequestError, request } from "./graphql-http.js";

/**
 * The bot's commands. Each reply is sent with a nonce derived from the command's message id, so
 * handling the same command twice (it cannot happen with cursors, but a bot restarted without
 * them could) never posts a second reply.
 */

/** A message the bot heard (the fields its subscription selects). */
export interface HeardMessage {
  id: string;
  channelId: string;
  content: string;
  authorId: string;
}

/** What commands need: where the API is and who the bot is. */
export interface CommandContext {
  url: string;
  token: string;
  botId: string;
  log: (line: string) => void;
}

/** Most messages one !purge deletes (one page of history). */
export const MAX_PURGE = 100;

const SEND = `mutation($c: ID!, $t: String!, $n: String, $r: ID) { sendMessage(input: { channelId: $c, content: $t, nonce: $n, replyToId: $r }) { id } }`;
const LAST_BEFORE = `query($c: ID!, $n: Int!, $before: ID!) { channel(id: $c) { messages(last: $n, before: $before) { edges { node { id } } } } }`;
const DELETE = `mutation($c: ID!, $m: ID!) { deleteMessage(input: { channelId: $c, messageId: $m }) }`;

/** Replies in the command's channel, once per command and kind of reply (the nonce). */
function reply(ctx: CommandContext, to: HeardMessage, text: string): Promise<unknown> {
  return request(ctx.url, ctx.token, SEND, { c: to.channelId, t: text, n: `reply:${to.id}`, r: to.id });
}

/**
 * Handles one message: `!ping` answers `pong`; `!purge N` deletes the N messages before the
 * command (1-100), which the API allows only with MANAGE_MESSAGES in that channel: its refusal is
 * passed on to whoever asked. Messages of the bot itself are ignored.
 */
export async function handle(ctx: CommandContext, message: HeardMessage): Promise<void> {
  if (message.authorId === ctx.botId) return;
  const [command, arg] = message.content.trim().split(/\s+/, 2);
  if (command === "!ping") {
    await reply(ctx, message, "pong");
  } else if (command === "!purge") {
    const count = Number(arg);
    if (!Number.isInteger(count) || count < 1 || count > MAX_PURGE) return void (await reply(ctx, message, `Usage: !purge N (1-${MAX_PURGE}).`));
    try {
      const page = await request<{ channel: { messages: { edges: { node: { id: string } }[] } } | null }>(ctx.url, ctx.token, LAST_BEFORE, { c: message.channelId, n: count, before: message.id });
      const ids = page.channel?.messages.edges.map((e) => e.node.id) ?? [];
      for (const id of ids) await request(ctx.url, ctx.token, DELETE, { c: message.channelId, m: id });
      await reply(ctx, message, `Purged ${ids.length} message${ids.length === 1 ? "" : "s"}.`);
    } catch (error) {
      // The server decides who may delete what (MANAGE_MESSAGES): say why it refused.
      if (!(error instanceof ConcordRequestError)) throw error;
      ctx.log(`!purge refused in ${message.channelId}: ${error.code} ${error.message}`);
      await reply(ctx, message, `I can't purge here: ${error.message}`);
    }
  }
}
