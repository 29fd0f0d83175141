import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { startBot, type RunningBot } from "../../examples/bot/concord-bot.js";
import { eventually, type User } from "../support/assertions.js";
import { guildOf } from "../support/people.js";
import { startTestServer, type TestServer } from "../support/server.js";

/**
 * The example bot (examples/bot) against a real server: one messageEvents subscription, !ping
 * answered with pong, !purge relying on the API's permission answer, and a forced socket close
 * resumed from its cursors with no command lost or answered twice.
 */

/** ws, remembering every socket it opened so the test can cut one. */
const sockets: WebSocket[] = [];
class TrackedWebSocket extends WebSocket {
  constructor(...args: ConstructorParameters<typeof WebSocket>) {
    super(...args);
    sockets.push(this);
  }
}

const SEND = `mutation($c: ID!, $t: String!) { sendMessage(input: { channelId: $c, content: $t }) { id } }`;
const HISTORY = `query($c: ID!) { channel(id: $c) { messages(last: 100) { edges { node { id content author { id } replyTo { id } } } } } }`;

type Node = { id: string; content: string; author: { id: string }; replyTo: { id: string } | null };

describe("example bot", () => {
  let server: TestServer;
  let ada: User;
  let bot: RunningBot;
  let botUser: User;
  let guildId: string, channelId: string;
  const logs: string[] = [];

  const send = async (text: string) => (await server.ok(SEND, { c: channelId, t: text }, ada.token)).sendMessage.id as string;
  const history = async (): Promise<Node[]> => (await server.ok(HISTORY, { c: channelId }, ada.token)).channel.messages.edges.map((e: { node: Node }) => e.node);
  /** The bot's replies to a message. */
  const repliesTo = async (id: string) => (await history()).filter((m) => m.author.id === botUser.id && m.replyTo?.id === id).map((m) => m.content);

  beforeAll(async () => {
    server = await startTestServer({ warmUp: true });
    ada = await server.signUp("ada");
    const created = (await server.ok(`mutation { createBot(input: { username: "example_bot_t" }) { token user { id username } } }`, {}, ada.token)).createBot;
    botUser = { token: created.token, id: created.user.id, username: created.user.username };
    ({ guildId, channelId } = await guildOf(server, ada, [botUser], "Bot test"));
    bot = startBot({ url: server.url, token: botUser.token, reconnectDelayMs: 800, webSocketImpl: TrackedWebSocket, log: (line) => logs.push(line) });
    await eventually(() => expect(bot.cursors.has(channelId)).toBe(true), 10_000);
  }, 60_000);
  afterAll(async () => {
    await bot?.stop();
    await server?.close();
  });

  it("answers !ping with pong in the same channel", async () => {
    const ping = await send("!ping");
    await eventually(async () => expect(await repliesTo(ping)).toEqual(["pong"]));
  });

  it("resumes after a forced socket close: commands sent meanwhile are answered once each, in order", async () => {
    sockets.at(-1)!.terminate();
    const pings = [await send("!ping"), await send("!ping")];
    await eventually(async () => {
      for (const ping of pings) expect(await repliesTo(ping)).toEqual(["pong"]);
    }, 10_000);
    expect(bot.reconnects).toBe(1);
    expect(logs.some((line) => line.includes("stream lost"))).toBe(true);
    // Nothing handled twice, even a moment later; replies in the order of the commands.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const pongs = (await history()).filter((m) => m.author.id === botUser.id && pings.includes(m.replyTo?.id ?? ""));
    expect(pongs.map((m) => m.replyTo!.id)).toEqual(pings);
  });

  it("purges only when the API allows it (MANAGE_MESSAGES), and says why not otherwise", async () => {
    // The message before the command is ada's: deleting it takes MANAGE_MESSAGES, which the bot lacks.
    const kept = await send("not the bot's to delete");
    const refused = await send("!purge 1");
    await eventually(async () => expect((await repliesTo(refused))[0]).toMatch(/^I can't purge here: .*MANAGE_MESSAGES/));
    expect((await history()).map((m) => m.id)).toContain(kept);

    const role = (await server.ok(`mutation($g: ID!) { createRole(input: { guildId: $g, name: "janitor", permissions: [MANAGE_MESSAGES] }) { id } }`, { g: guildId }, ada.token)).createRole.id;
    await server.ok(`mutation($g: ID!, $u: ID!, $r: ID!) { addMemberRole(input: { guildId: $g, userId: $u, roleId: $r }) }`, { g: guildId, u: botUser.id, r: role }, ada.token);
    const doomed = [await send("spam 1"), await send("spam 2")];
    const purge = await send("!purge 2");
    await eventually(async () => expect(await repliesTo(purge)).toEqual(["Purged 2 messages."]));
    const left = (await history()).map((m) => m.id);
    expect(left.filter((id) => doomed.includes(id))).toEqual([]);
    expect(left).toContain(purge);
  });
});
