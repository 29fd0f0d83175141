import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type GraphQLResponse, type TestServer } from "../support/server.js";

/**
 * Channel.messages over real HTTP: scrolling a 1,000-message channel back and forward by id
 * cursor, centring a page with `around`, and rejecting bad page arguments; and one message by id
 * (`message(channelId, messageId)`).
 */

type User = { token: string; id: string; username: string };
type Page = {
  ids: string[];
  contents: string[];
  pageInfo: { hasPreviousPage: boolean; hasNextPage: boolean; startCursor: string | null; endCursor: string | null };
};

const TOTAL = 1_000;
const HISTORY = `query($c: ID!, $first: Int, $last: Int, $after: ID, $before: ID, $around: ID) {
  channel(id: $c) {
    messages(first: $first, last: $last, after: $after, before: $before, around: $around) {
      pageInfo { hasPreviousPage hasNextPage startCursor endCursor }
      edges { cursor node { id content } }
    }
  }
}`;

let server: TestServer;
let ada: User; // owner and author of every message
let eve: User; // not a member
let channelId: string;
let emptyChannelId: string;
/** Every message id of the channel, oldest first. */
let all: string[];
/** An id between two messages that belongs to none. */
let unused: bigint;

async function query(args: Record<string, unknown>, token = ada.token, channel = channelId): Promise<GraphQLResponse> {
  return server.gql(HISTORY, { c: channel, ...args }, token);
}

async function page(args: Record<string, unknown>, channel = channelId): Promise<Page> {
  const res = await query(args, ada.token, channel);
  expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
  const connection = res.data.channel.messages;
  for (const edge of connection.edges) expect(edge.cursor).toBe(edge.node.id);
  return {
    ids: connection.edges.map((e: { node: { id: string } }) => e.node.id),
    contents: connection.edges.map((e: { node: { content: string } }) => e.node.content),
    pageInfo: connection.pageInfo,
  };
}

function expectChronological(ids: string[]) {
  for (let i = 1; i < ids.length; i++) expect(BigInt(ids[i]!) > BigInt(ids[i - 1]!), `${ids[i - 1]} < ${ids[i]}`).toBe(true);
}

function expectBadInput(res: GraphQLResponse, fields: string[], message: RegExp) {
  expect(res.errors, JSON.stringify(res)).toHaveLength(1);
  expect(res.data ?? null).toBeNull();
  const error = res.errors![0]!;
  expect(error.extensions?.code).toBe("BAD_USER_INPUT");
  expect(fields).toContain(error.extensions?.field);
  expect(error.message).toMatch(message);
}

beforeAll(async () => {
  server = await startTestServer();
  [ada, eve] = await Promise.all([server.signUp("ada"), server.signUp("eve")]);
  const guild = await server.gql(`mutation { createGuild(input: { name: "History" }) { id channels { id } } }`, {}, ada.token);
  channelId = guild.data.createGuild.channels[0].id;
  const empty = await server.gql(
    `mutation($g: ID!) { createChannel(input: { guildId: $g, name: "empty" }) { id } }`,
    { g: guild.data.createGuild.id },
    ada.token,
  );
  emptyChannelId = empty.data.createChannel.id;

  // Straight into the store, for speed: the API path is covered by messages.test.ts.
  const { services } = server.app;
  const ids = Array.from({ length: TOTAL }, (_, i) => {
    // One id is taken and never used, so an id between messages 699 and 700 exists.
    if (i === 700) unused = services.newId();
    return services.newId();
  });
  for (let i = 0; i < TOTAL; i += 50) {
    await Promise.all(
      ids.slice(i, i + 50).map((id, j) =>
        services.messages.create({
          id,
          channelId: BigInt(channelId),
          authorId: BigInt(ada.id),
          content: `message ${i + j}`,
          editedAt: null,
          replyToId: null,
          mentionIds: [],
          nonce: null,
        }),
      ),
    );
  }
  all = ids.map(String);
  // The inserts can starve the event loop for seconds; let the server's keep-alive timers run
  // now, so the next request does not pick a pooled socket the server is about to close.
  await new Promise((resolve) => setTimeout(resolve, 200));
}, 180_000);

afterAll(() => server?.close());

describe("scrolling", () => {
  it("walks back from the newest to the oldest in 20 pages of 50 with last/before", async () => {
    const pages: Page[] = [];
    let before: string | null = null;
    for (let n = 0; n < 25; n++) {
      const p = await page(before === null ? { last: 50 } : { last: 50, before });
      pages.push(p);
      if (!p.pageInfo.hasPreviousPage) break;
      before = p.pageInfo.startCursor;
    }
    expect(pages).toHaveLength(20);
    pages.forEach((p, n) => {
      expect(p.ids).toHaveLength(50);
      expectChronological(p.ids);
      expect(p.pageInfo.startCursor).toBe(p.ids[0]);
      expect(p.pageInfo.endCursor).toBe(p.ids[49]);
      expect(p.pageInfo.hasPreviousPage).toBe(n < 19);
      expect(p.pageInfo.hasNextPage).toBe(n > 0);
    });
    const seen = pages.reverse().flatMap((p) => p.ids);
    expect(new Set(seen).size).toBe(TOTAL);
    expect(seen).toEqual(all);
  });

  it("walks forward from the oldest to the newest in 20 pages of 50 with first/after", async () => {
    const pages: Page[] = [];
    let after: string | null = null;
    for (let n = 0; n < 25; n++) {
      const p = await page(after === null ? { first: 50 } : { first: 50, after });
      pages.push(p);
      if (!p.pageInfo.hasNextPage) break;
      after = p.pageInfo.endCursor;
    }
    expect(pages).toHaveLength(20);
    pages.forEach((p, n) => {
      expect(p.ids).toHaveLength(50);
      expectChronological(p.ids);
      expect(p.pageInfo.hasNextPage).toBe(n < 19);
      expect(p.pageInfo.hasPreviousPage).toBe(n > 0);
    });
    const seen = pages.flatMap((p) => p.ids);
    expect(new Set(seen).size).toBe(TOTAL);
    expect(seen).toEqual(all);
    expect(pages[0]!.contents[0]).toBe("message 0");
  });

  it("answers the newest 50 with no arguments", async () => {
    const p = await page({});
    expect(p.ids).toEqual(all.slice(-50));
    expect(p.contents.at(-1)).toBe(`message ${TOTAL - 1}`);
    expect(p.pageInfo).toEqual({ hasPreviousPage: true, hasNextPage: false, startCursor: all[TOTAL - 50], endCursor: all[TOTAL - 1] });
  });

  it("accepts the largest page size, 100", async () => {
    const p = await page({ first: 100, after: all[99] });
    expect(p.ids).toEqual(all.slice(100, 200));
  });

  it("answers an empty page for an empty channel", async () => {
    const p = await page({}, emptyChannelId);
    expect(p.ids).toEqual([]);
    expect(p.pageInfo).toEqual({ hasPreviousPage: false, hasNextPage: false, startCursor: null, endCursor: null });
  });
});

describe("around", () => {
  it("centres a page of 10 on a message in the middle", async () => {
    const centre = 500;
    const p = await page({ around: all[centre], first: 10 });
    expect(p.ids).toHaveLength(10);
    expectChronological(p.ids);
    const at = p.ids.indexOf(all[centre]!);
    expect(at).toBeGreaterThanOrEqual(4);
    expect(at).toBeLessThanOrEqual(5);
    // Contiguous: exactly the neighbours of the centre, nothing skipped.
    const start = all.indexOf(p.ids[0]!);
    expect(p.ids).toEqual(all.slice(start, start + 10));
    expect(p.pageInfo).toMatchObject({ hasPreviousPage: true, hasNextPage: true, startCursor: p.ids[0], endCursor: p.ids[9] });
  });

  it("takes the page size from last as well", async () => {
    const p = await page({ around: all[300], last: 20 });
    expect(p.ids).toHaveLength(20);
    const at = p.ids.indexOf(all[300]!);
    expect(at).toBeGreaterThanOrEqual(9);
    expect(at).toBeLessThanOrEqual(10);
  });

  it("around the very first message: it opens the page and nothing is before it", async () => {
    const p = await page({ around: all[0], first: 10 });
    expect(p.ids[0]).toBe(all[0]);
    expect(p.ids).toEqual(all.slice(0, p.ids.length));
    expect(p.pageInfo.hasPreviousPage).toBe(false);
    expect(p.pageInfo.hasNextPage).toBe(true);
  });

  it("around the very last message: it closes the page and nothing is after it", async () => {
    const p = await page({ around: all[TOTAL - 1], first: 10 });
    expect(p.ids.at(-1)).toBe(all[TOTAL - 1]);
    expect(p.ids).toEqual(all.slice(TOTAL - p.ids.length));
    expect(p.pageInfo.hasPreviousPage).toBe(true);
    expect(p.pageInfo.hasNextPage).toBe(false);
  });

  it("around an id between two messages centres on that point in time", async () => {
    const between = String(unused);
    expect(all).not.toContain(between);
    expect(BigInt(between) > BigInt(all[699]!) && BigInt(between) < BigInt(all[700]!)).toBe(true);
    const p = await page({ around: between, first: 10 });
    expect(p.ids).toEqual(all.slice(695, 705));
    expect(p.pageInfo).toMatchObject({ hasPreviousPage: true, hasNextPage: true });
  });
});

describe("bad page arguments", () => {
  it("rejects first: 101 (at most 100) on first", async () => {
    expectBadInput(await query({ first: 101 }), ["first"], /first.*1 to 100/);
  });

  it("rejects last: 0 on last", async () => {
    expectBadInput(await query({ last: 0 }), ["last"], /last.*1 to 100/);
  });

  it("rejects negative sizes", async () => {
    expectBadInput(await query({ first: -1 }), ["first"], /first/);
    expectBadInput(await query({ last: -5, before: all[10] }), ["last"], /last/);
  });

  it("rejects first together with last", async () => {
    expectBadInput(await query({ first: 10, last: 10 }), ["first", "last"], /first or last, not both/);
  });

  it("rejects after together with before", async () => {
    expectBadInput(await query({ after: all[1], before: all[5] }), ["after", "before"], /after or before, not both/);
  });

  it("rejects around together with before or after", async () => {
    expectBadInput(await query({ around: all[5], before: all[9] }), ["around", "before"], /around/);
    expectBadInput(await query({ around: all[5], after: all[1] }), ["around", "after"], /around/);
  });

  it("rejects mixing directions, naming an argument that was actually given", async () => {
    expectBadInput(await query({ after: all[1], last: 10 }), ["after", "last"], /forward.*back/);
    expectBadInput(await query({ first: 10, before: all[500] }), ["first", "before"], /forward.*back/);
  });

  it("rejects malformed cursors, naming the argument", async () => {
    expectBadInput(await query({ before: "not-a-cursor" }), ["before"], /before must be an id/);
    expectBadInput(await query({ after: "-1" }), ["after"], /after must be an id/);
    expectBadInput(await query({ around: "12ab" }), ["around"], /around must be an id/);
    expectBadInput(await query({ last: 10, before: "99999999999999999999" }), ["before"], /before must be an id/);
  });
});

describe("access", () => {
  it("answers NOT_FOUND to a non-member asking for the history", async () => {
    const res = await query({ last: 50 }, eve.token);
    expect(res.errors).toHaveLength(1);
    expect(res.data ?? null).toBeNull();
    expect(res.errors![0]!.extensions?.code).toBe("NOT_FOUND");
    expect(res.errors![0]!.message).toBe(`Channel ${channelId} not found.`);
  });

  it("answers UNAUTHENTICATED without a token", async () => {
    const res = await server.gql(HISTORY, { c: channelId });
    expect(res.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
  });
});

describe("message(channelId, messageId)", () => {
  const MESSAGE = `query($c: ID!, $m: ID!) { message(channelId: $c, messageId: $m) { id content } me { id } }`;

  it("answers one message by id, and several in one request", async () => {
    const res = await server.gql(MESSAGE, { c: channelId, m: all[500] }, ada.token);
    expect(res).toEqual({ data: { message: { id: all[500], content: "message 500" }, me: { id: ada.id } } });
    const two = await server.gql(
      `query($c: ID!, $a: ID!, $b: ID!) { a: message(channelId: $c, messageId: $a) { content } b: message(channelId: $c, messageId: $b) { content } }`,
      { c: channelId, a: all[0], b: all[TOTAL - 1] },
      ada.token,
    );
    expect(two).toEqual({ data: { a: { content: "message 0" }, b: { content: `message ${TOTAL - 1}` } } });
  });

  it("answers NOT_FOUND for an id no message of the channel has, clearing that field only", async () => {
    for (const [c, m] of [
      [channelId, String(unused)],
      [emptyChannelId, all[0]],
    ]) {
      const res = await server.gql(MESSAGE, { c, m }, ada.token);
      expect(res.data).toEqual({ message: null, me: { id: ada.id } });
      expect(res.errors).toMatchObject([{ path: ["message"], message: `Message ${m} not found.`, extensions: { code: "NOT_FOUND" } }]);
    }
  });

  it("answers a non-member exactly as for a channel that does not exist", async () => {
    const real = await server.gql(MESSAGE, { c: channelId, m: all[1] }, eve.token);
    const none = await server.gql(MESSAGE, { c: "123456789", m: all[1] }, eve.token);
    expect(real.errors).toMatchObject([{ message: `Channel ${channelId} not found.`, extensions: { code: "NOT_FOUND" } }]);
    expect(none.errors).toMatchObject([{ message: "Channel 123456789 not found.", extensions: { code: "NOT_FOUND" } }]);
    expect(real.data).toEqual(none.data);
  });

  it("needs READ_MESSAGE_HISTORY, checked before the message is looked for", async () => {
    const guildId = (await server.ok(`query($c: ID!) { channel(id: $c) { guild { id } } }`, { c: channelId }, ada.token)).channel.guild.id;
    const code = (await server.ok(`mutation($g: ID!) { createInvite(input: { guildId: $g }) { code } }`, { g: guildId }, ada.token)).createInvite.code;
    const bob = await server.signUp("bob");
    await server.ok(`mutation($c: String!) { joinGuild(code: $c) { id } }`, { c: code }, bob.token);
    const secret = (await server.ok(`mutation($g: ID!) { createChannel(input: { guildId: $g, name: "live-only" }) { id } }`, { g: guildId }, ada.token)).createChannel.id;
    await server.ok(
      `mutation($c: ID!, $g: ID!) { setPermissionOverwrite(input: { channelId: $c, targetKind: ROLE, targetId: $g, allow: [], deny: [READ_MESSAGE_HISTORY] }) { id } }`,
      { c: secret, g: guildId },
      ada.token,
    );
    const sent = (await server.ok(`mutation($c: ID!) { sendMessage(input: { channelId: $c, content: "now" }) { id } }`, { c: secret }, ada.token)).sendMessage.id;
    for (const m of [sent, String(unused)]) {
      const res = await server.gql(MESSAGE, { c: secret, m }, bob.token);
      expect(res.errors).toMatchObject([{ path: ["message"], extensions: { code: "FORBIDDEN" } }]);
      expect(res.errors![0]!.message).toMatch(/READ_MESSAGE_HISTORY/);
    }
  });

  it("rejects malformed ids with BAD_USER_INPUT naming the argument, and asks for a token", async () => {
    expect((await server.gql(MESSAGE, { c: channelId, m: "abc" }, ada.token)).errors).toMatchObject([{ extensions: { code: "BAD_USER_INPUT", field: "messageId" } }]);
    expect((await server.gql(MESSAGE, { c: "-1", m: all[0] }, ada.token)).errors).toMatchObject([{ extensions: { code: "BAD_USER_INPUT", field: "channelId" } }]);
    expect((await server.gql(MESSAGE, { c: channelId, m: all[0] })).errors?.[0]).toMatchObject({ path: ["message"], extensions: { code: "UNAUTHENTICATED" } });
  });
});

describe("authors", () => {
  it("gives every message of a page its author, through aliases and fragments, and null for an author with no account", async () => {
    const created = await server.gql(`mutation($g: ID!) { createChannel(input: { guildId: $g, name: "authors" }) { id } }`, { g: (await server.gql(`query($c: ID!) { channel(id: $c) { guild { id } } }`, { c: channelId }, ada.token)).data.channel.guild.id }, ada.token);
    const authorsChannel: string = created.data.createChannel.id;
    const { services } = server.app;
    // ada, eve (an account, not a member: authorship does not need one), and an id with no account.
    const authorIds = [BigInt(ada.id), BigInt(eve.id), 42n, BigInt(ada.id), BigInt(eve.id)];
    const ids = authorIds.map(() => services.newId());
    for (const [i, id] of ids.entries()) {
      await services.messages.create({ id, channelId: BigInt(authorsChannel), authorId: authorIds[i]!, content: `by ${i}`, editedAt: null, replyToId: null, mentionIds: [], nonce: null });
    }
    const [a, e] = [{ id: ada.id, username: ada.username }, { id: eve.id, username: eve.username }];
    const expected = [a, e, null, a, e];
    const plain = await server.gql(`query($c: ID!) { channel(id: $c) { messages(last: 10) { edges { node { id author { id username } } } } } }`, { c: authorsChannel }, ada.token);
    expect(plain.errors).toBeUndefined();
    expect(plain.data.channel.messages.edges.map((e: { node: { author: unknown } }) => e.node.author)).toEqual(expected);
    const fragments = await server.gql(
      `query($c: ID!) { channel(id: $c) { messages(last: 10) { e: edges { ...Row } } } }
       fragment Row on ChannelMessagesConnectionEdge { node { ... on Message { who: author { id username } also: author { username } } } }`,
      { c: authorsChannel },
      ada.token,
    );
    expect(fragments.errors).toBeUndefined();
    const rows = fragments.data.channel.messages.e.map((e: { node: { who: unknown; also: unknown } }) => e.node);
    expect(rows.map((r: { who: unknown }) => r.who)).toEqual(expected);
    expect(rows.map((r: { also: unknown }) => r.also)).toEqual(expected.map((a) => (a ? { username: a.username } : null)));
  });
});
