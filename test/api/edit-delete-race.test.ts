import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Database } from "../../src/stores/prisma/database.js";
import { openTestPostgres } from "../support/databases.js";
import { requireService, TEST_POSTGRES_URL } from "../support/services.js";
import { startTestServer, subscribe, waitForSubscribers, type TestServer } from "../support/server.js";

/**
 * An edit and a delete of the same message, sent at once: the edit also adds a mention, which
 * delays its publish behind a mentions write. Subscribers must never see the message come back
 * (MessageUpdated after MessageDeleted), and no mention row may outlive its message. Before the
 * fix, up to 19 of 40 trials delivered the update after the delete and mention rows were left.
 */

const SEND = `mutation($c: ID!, $t: String!) { sendMessage(input: { channelId: $c, content: $t }) { id } }`;
const EDIT = `mutation($c: ID!, $m: ID!, $t: String!) { editMessage(input: { channelId: $c, messageId: $m, content: $t }) { id } }`;
const DELETE = `mutation($c: ID!, $m: ID!) { deleteMessage(input: { channelId: $c, messageId: $m }) }`;
const LIVE = `subscription($c: ID!) { channelEvents(channelId: $c) { __typename ... on MessageUpdated { message { id } } ... on MessageDeleted { messageId } } }`;
const READ_STATE = `query($c: ID!) { channel(id: $c) { readState { mentionCount } } }`;

const TRIALS = 40;

describe("editing and deleting one message at once", () => {
  let server: TestServer;
  let database: Database;
  let available = false;
  beforeAll(async () => {
    // Real Postgres: statements of the two requests interleave there as they do in production.
    available = await requireService("Postgres", TEST_POSTGRES_URL);
    if (!available) return;
    database = await openTestPostgres();
    server = await startTestServer({ database, warmUp: true });
  }, 60_000);
  afterAll(async () => {
    await server?.close();
  });

  it(`never delivers an edit after the delete, and leaves no mention of a deleted message (${TRIALS} trials)`, async (ctx) => {
    if (!available) return ctx.skip();
    const ada = await server.signUp("ada");
    const bob = await server.signUp("bob");
    const guild = await server.ok(`mutation { createGuild(input: { name: "Race" }) { id channels { id } } }`, {}, ada.token);
    const channelId: string = guild.createGuild.channels[0].id;
    const invite = await server.ok(`mutation($g: ID!) { createInvite(input: { guildId: $g }) { code } }`, { g: guild.createGuild.id }, ada.token);
    await server.ok(`mutation($c: String!) { joinGuild(code: $c) { id } }`, { c: invite.createInvite.code }, bob.token);

    const live = subscribe(server.ws(bob.token), LIVE, { c: channelId });
    await waitForSubscribers(server, `channel:${channelId}`);

    const ids: string[] = [];
    for (let i = 0; i < TRIALS; i++) {
      const sent = await server.ok(SEND, { c: channelId, t: `message ${i}` }, ada.token);
      const id: string = sent.sendMessage.id;
      ids.push(id);
      // Both at once, the delete 0 to 7 ms behind the edit so every interleaving gets its
      // turn; either may win, but the outcome must be consistent.
      const edit = server.gql(EDIT, { c: channelId, m: id, t: `edited ${i}, hey <@${bob.id}>` }, ada.token);
      await new Promise((resolve) => setTimeout(resolve, i % 8));
      await Promise.all([edit, server.gql(DELETE, { c: channelId, m: id }, ada.token)]);
    }
    await live.waitFor(TRIALS, 10_000); // at least every delete arrived
    await new Promise((resolve) => setTimeout(resolve, 300)); // and anything late behind them

    const events = live.received.map((r) => r.data!.channelEvents);
    for (const id of ids) {
      const deletedAt = events.findIndex((e) => e.__typename === "MessageDeleted" && e.messageId === id);
      expect(deletedAt, `no MessageDeleted for ${id}`).toBeGreaterThanOrEqual(0);
      const updatedAfter = events.findIndex((e, i) => i > deletedAt && e.__typename === "MessageUpdated" && e.message.id === id);
      expect(updatedAfter, `MessageUpdated for ${id} arrived after its MessageDeleted`).toBe(-1);
    }
    const orphans = await database.prisma.mention.count({ where: { channelId: BigInt(channelId) } });
    expect(orphans).toBe(0);
    const state = await server.ok(READ_STATE, { c: channelId }, bob.token);
    expect(state.channel.readState.mentionCount).toBe(0);
  }, 60_000);
});
