import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, type User } from "../support/assertions.js";
import { openTestPglite } from "../support/databases.js";
import { guildOf } from "../support/people.js";
import { dropRedisKeys } from "../support/redis-keys.js";
import { startTestServer, subscribe, type Subscription, type TestServer } from "../support/server.js";
import { requireService } from "../support/services.js";

/**
 * messageEvents on a fleet: a bot subscribed on instance B follows what instance A changes
 * (messages, a channel created, a kick) through Redis, and resumes on A from the cursors B gave.
 */

const REDIS_URL = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";
const EVENTS = `subscription($r: [ChannelResumeCursor!]) { messageEvents(resume: $r) {
  __typename ... on LiveEvent { cursor } ... on ChannelWatched { channelId } ... on ChannelUnwatched { channelId cause }
  ... on MessageCreated { channelId message { content } } } }`;
const SEND = `mutation($c: ID!, $t: String!) { sendMessage(input: { channelId: $c, content: $t }) { id } }`;

type Event = { __typename: string; cursor?: string; channelId?: string; cause?: string; message?: { content: string } };
const events = (sub: Subscription): Event[] => sub.received.filter((r) => !r.errors).map((r) => r.data.messageEvents as Event);
const contents = (sub: Subscription) => events(sub).flatMap((e) => (e.message ? [`${e.channelId}:${e.message.content}`] : []));

describe.runIf(await requireService("Redis", REDIS_URL))("messageEvents across two instances on Redis", () => {
  const keyPrefix = `concord-test:${process.pid}-${Date.now().toString(36)}-msgev:`;
  let a: TestServer;
  let b: TestServer;
  let ada: User;
  let bot: User;

  beforeAll(async () => {
    const database = await openTestPglite();
    const env = { REDIS_URL, REDIS_KEY_PREFIX: keyPrefix };
    a = await startTestServer({ database, env: { ...env, WORKER_ID: "1" } });
    b = await startTestServer({ database: { ...database, close: async () => {} }, env: { ...env, WORKER_ID: "2" } });
    ada = await a.signUp("ada");
    const created = (await a.ok(`mutation { createBot(input: { username: "fleet_bot_t" }) { token user { id username } } }`, {}, ada.token)).createBot;
    bot = { token: created.token, id: created.user.id, username: created.user.username };
  }, 60_000);
  afterAll(async () => {
    await b?.close();
    await a?.close();
    await dropRedisKeys(REDIS_URL, keyPrefix);
  });

  it("follows A's messages, new channels and kicks on B, then resumes on A from B's cursors", async () => {
    const one = await guildOf(a, ada, [bot], "Fleet one");
    const two = await guildOf(a, ada, [bot], "Fleet two");
    const onB = subscribe(b.ws(bot.token), EVENTS, {});
    await onB.subscribed;
    await eventually(() => expect(events(onB).filter((e) => e.__typename === "ChannelWatched")).toHaveLength(2));

    await a.ok(SEND, { c: one.channelId, t: "hello" }, ada.token);
    const later = (await a.ok(`mutation($g: ID!) { createChannel(input: { guildId: $g, name: "later" }) { id } }`, { g: one.guildId }, ada.token)).createChannel.id as string;
    await eventually(() => expect(events(onB).some((e) => e.__typename === "ChannelWatched" && e.channelId === later)).toBe(true));
    await a.ok(SEND, { c: later, t: "in later" }, ada.token);
    await a.ok(`mutation($g: ID!, $u: ID!) { kickMember(input: { guildId: $g, userId: $u }) }`, { g: two.guildId, u: bot.id }, ada.token);
    await eventually(() => expect(events(onB).find((e) => e.__typename === "ChannelUnwatched")).toMatchObject({ channelId: two.channelId, cause: "GUILD_LEFT" }));
    await eventually(() => expect(contents(onB)).toEqual([`${one.channelId}:hello`, `${later}:in later`]));

    const cursors = new Map<string, string>();
    for (const e of events(onB)) {
      if (e.__typename === "ChannelUnwatched") cursors.delete(e.channelId!);
      else if (e.channelId && e.cursor) cursors.set(e.channelId, e.cursor);
    }
    onB.unsubscribe();
    await a.ok(SEND, { c: one.channelId, t: "missed 1" }, ada.token);
    await a.ok(SEND, { c: later, t: "missed 2" }, ada.token);
    await a.ok(SEND, { c: two.channelId, t: "not the bot's any more" }, ada.token);

    const onA = subscribe(a.ws(bot.token), EVENTS, { r: [...cursors].map(([channelId, after]) => ({ channelId, after })) });
    await onA.subscribed;
    await eventually(() => expect(contents(onA).sort()).toEqual([`${one.channelId}:missed 1`, `${later}:missed 2`].sort()));
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(contents(onA)).toHaveLength(2);
    onA.unsubscribe();
  });
});
