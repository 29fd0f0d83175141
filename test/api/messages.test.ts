import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CONCORD_EPOCH_MS } from "../../src/ids/snowflake.js";
import { startTestServer, subscribe, waitForSubscribers, type GraphQLResponse, type TestServer } from "../support/server.js";

/**
 * sendMessage / editMessage / deleteMessage over real HTTP, with live delivery checked over
 * graphql-ws. Every rejected call is checked for its code, the field it blames, a message a
 * person can act on, and that nothing was written.
 */

type User = { token: string; id: string; username: string };

const MESSAGE_FIELDS = `id content nonce createdAt editedAt replyToId replyTo { id content } mentions { id username } author { id username }`;
const SEND = `mutation($input: SendMessageInput!) { sendMessage(input: $input) { ${MESSAGE_FIELDS} } }`;
const EDIT = `mutation($input: EditMessageInput!) { editMessage(input: $input) { ${MESSAGE_FIELDS} } }`;
const DELETE = `mutation($input: DeleteMessageInput!) { deleteMessage(input: $input) }`;
const HISTORY = `query($c: ID!) { channel(id: $c) { messages(last: 100) { edges { node { id content editedAt nonce } } } } }`;
const LIVE = `subscription($c: ID!) { channelEvents(channelId: $c) {
  __typename
  ... on MessageCreated { message { id content author { username } } }
  ... on MessageUpdated { message { id content editedAt mentions { id } } }
  ... on MessageDeleted { channelId messageId }
} }`;

let server: TestServer;
let ada: User; // guild owner
let bob: User; // member
let cat: User; // member
let eve: User; // not a member
let guildId: string;
let channelId: string; // #general
let otherChannelId: string; // #other, same guild

/** The one error of a failed call, after checking there is exactly one and no data. */
function onlyError(res: GraphQLResponse) {
  expect(res.errors, JSON.stringify(res)).toHaveLength(1);
  expect(res.data ?? null).toBeNull();
  return res.errors![0]!;
}

function expectBadInput(res: GraphQLResponse, field: string, message: RegExp) {
  const error = onlyError(res);
  expect(error.extensions?.code).toBe("BAD_USER_INPUT");
  expect(error.extensions?.field).toBe(field);
  expect(error.message).toMatch(message);
}

function expectCode(res: GraphQLResponse, code: string, message: RegExp) {
  const error = onlyError(res);
  expect(error.extensions?.code).toBe(code);
  expect(error.message).toMatch(message);
}

async function send(user: User, input: Record<string, unknown>) {
  return server.gql(SEND, { input: { channelId, ...input } }, user.token);
}

async function sendOk(user: User, input: Record<string, unknown>) {
  const res = await send(user, input);
  expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
  return res.data.sendMessage as {
    id: string;
    content: string;
    nonce: string | null;
    createdAt: string;
    editedAt: string | null;
    replyToId: string | null;
    replyTo: { id: string; content: string } | null;
    mentions: { id: string; username: string }[];
    author: { id: string; username: string };
  };
}

/** The newest 100 messages of a channel as [id, content] pairs (as the owner sees them). */
async function history(channel = channelId): Promise<{ id: string; content: string; editedAt: string | null; nonce: string | null }[]> {
  const res = await server.gql(HISTORY, { c: channel }, ada.token);
  expect(res.errors).toBeUndefined();
  return res.data.channel.messages.edges.map((e: { node: { id: string; content: string; editedAt: string | null; nonce: string | null } }) => ({
    id: e.node.id,
    content: e.node.content,
    editedAt: e.node.editedAt,
    nonce: e.node.nonce,
  }));
}

/** Runs `act` and checks that the channel's history is exactly the same afterwards. */
async function expectNothingWritten(act: () => Promise<unknown>, channel = channelId) {
  const before = await history(channel);
  await act();
  expect(await history(channel)).toEqual(before);
}

beforeAll(async () => {
  server = await startTestServer();
  [ada, bob, cat, eve] = await Promise.all([server.signUp("ada"), server.signUp("bob"), server.signUp("cat"), server.signUp("eve")]);
  const guild = await server.gql(`mutation { createGuild(input: { name: "Messages" }) { id channels { id } } }`, {}, ada.token);
  guildId = guild.data.createGuild.id;
  channelId = guild.data.createGuild.channels[0].id;
  const other = await server.gql(`mutation($g: ID!) { createChannel(input: { guildId: $g, name: "other" }) { id } }`, { g: guildId }, ada.token);
  otherChannelId = other.data.createChannel.id;
  const invite = await server.gql(`mutation($g: ID!) { createInvite(input: { guildId: $g }) { code } }`, { g: guildId }, ada.token);
  for (const member of [bob, cat]) {
    const joined = await server.gql(`mutation($c: String!) { joinGuild(code: $c) { id } }`, { c: invite.data.createInvite.code }, member.token);
    expect(joined.errors).toBeUndefined();
  }
}, 120_000);

afterAll(() => server?.close());

describe("sendMessage content", () => {
  it("rejects empty content with BAD_USER_INPUT on content, writing nothing", async () => {
    await expectNothingWritten(async () => expectBadInput(await send(bob, { content: "" }), "content", /content.*1 to 2000/));
  });

  it("rejects whitespace-only content (it is empty after trimming)", async () => {
    await expectNothingWritten(async () => expectBadInput(await send(bob, { content: " \n\t  \n " }), "content", /content.*after trimming.*got 0/));
  });

  it("rejects 2001 characters and says how many it got", async () => {
    await expectNothingWritten(async () => expectBadInput(await send(bob, { content: "x".repeat(2001) }), "content", /2000.*got 2001/));
  });

  it("accepts exactly 2000 characters, and stores the content trimmed", async () => {
    const body = "y".repeat(2000);
    const sent = await sendOk(bob, { content: `   \n${body}\n\t  ` });
    expect(sent.content).toBe(body);
    const stored = (await history()).find((m) => m.id === sent.id);
    expect(stored?.content).toBe(body);
  });

  it("keeps inner line breaks and trims only the ends", async () => {
    const sent = await sendOk(bob, { content: "  line one\nline two  " });
    expect(sent.content).toBe("line one\nline two");
  });

  it("counts an emoji as one character: 2000 emoji are accepted, 2001 are not", async () => {
    const emoji = "😀".repeat(2000); // 4000 UTF-16 code units
    const sent = await sendOk(bob, { content: emoji });
    expect(sent.content).toBe(emoji);
    expect([...sent.content]).toHaveLength(2000);
    await expectNothingWritten(async () => expectBadInput(await send(bob, { content: "😀".repeat(2001) }), "content", /got 2001/));
  });
});

describe("sendMessage nonce", () => {
  it("returns the first message when the same author sends the same nonce twice, and publishes it once", async () => {
    const sub = subscribe(server.ws(cat.token), LIVE, { c: channelId });
    await waitForSubscribers(server, `channel:${channelId}`, 1);
    const before = await history();

    const first = await sendOk(bob, { content: "once", nonce: "nonce-1" });
    const again = await sendOk(bob, { content: "once (retried)", nonce: "nonce-1" });
    expect(again.id).toBe(first.id);
    expect(again.content).toBe("once");
    expect(first.nonce).toBe("nonce-1");
    // A sentinel after the retry: once it arrives, anything the retry published would have too.
    const sentinel = await sendOk(bob, { content: "sentinel" });

    const events = await sub.waitFor(2);
    expect(events.map((e) => e.data?.channelEvents.message.id)).toEqual([first.id, sentinel.id]);
    const after = await history();
    expect(after.slice(before.length).map((m) => m.id)).toEqual([first.id, sentinel.id]);
    expect(after.filter((m) => m.nonce === "nonce-1")).toHaveLength(1);
    sub.unsubscribe();
  });

  it("deduplicates concurrent sends with the same nonce", async () => {
    const before = await history();
    const results = await Promise.all(Array.from({ length: 5 }, () => sendOk(bob, { content: "raced", nonce: "nonce-race" })));
    expect(new Set(results.map((r) => r.id)).size).toBe(1);
    const after = await history();
    expect(after.length).toBe(before.length + 1);
  });

  it("creates a new message for another author using the same nonce", async () => {
    const bobs = await sendOk(bob, { content: "bob's", nonce: "shared-nonce" });
    const cats = await sendOk(cat, { content: "cat's", nonce: "shared-nonce" });
    expect(cats.id).not.toBe(bobs.id);
    expect(cats.author.id).toBe(cat.id);
    const stored = (await history()).filter((m) => m.nonce === "shared-nonce");
    expect(stored.map((m) => m.content)).toEqual(["bob's", "cat's"]);
  });

  it("creates a new message for the same nonce in another channel", async () => {
    const here = await sendOk(bob, { content: "here", nonce: "per-channel" });
    const res = await server.gql(SEND, { input: { channelId: otherChannelId, content: "there", nonce: "per-channel" } }, bob.token);
    expect(res.errors).toBeUndefined();
    expect(res.data.sendMessage.id).not.toBe(here.id);
    expect(res.data.sendMessage.content).toBe("there");
  });

  it("accepts a 64-character nonce and rejects 65 with BAD_USER_INPUT on nonce", async () => {
    const ok = await sendOk(bob, { content: "long nonce", nonce: "n".repeat(64) });
    expect(ok.nonce).toBe("n".repeat(64));
    await expectNothingWritten(async () => expectBadInput(await send(bob, { content: "too long", nonce: "n".repeat(65) }), "nonce", /nonce.*64/));
  });
});

describe("sendMessage replyToId", () => {
  it("resolves replyTo { id content } for a message of the same channel", async () => {
    const target = await sendOk(ada, { content: "question?" });
    const reply = await sendOk(bob, { content: "answer", replyToId: target.id });
    expect(reply.replyToId).toBe(target.id);
    expect(reply.replyTo).toEqual({ id: target.id, content: "question?" });
  });

  it("rejects a message of another channel with BAD_USER_INPUT on replyToId, writing nothing", async () => {
    const elsewhere = await server.gql(SEND, { input: { channelId: otherChannelId, content: "elsewhere" } }, bob.token);
    const foreignId = elsewhere.data.sendMessage.id;
    await expectNothingWritten(async () =>
      expectBadInput(await send(bob, { content: "reply", replyToId: foreignId }), "replyToId", /replyToId.*same channel/),
    );
  });

  it("rejects an id that is no message at all, and a malformed one", async () => {
    await expectNothingWritten(async () => {
      expectBadInput(await send(bob, { content: "reply", replyToId: "123456789" }), "replyToId", /replyToId/);
      expectBadInput(await send(bob, { content: "reply", replyToId: "not-an-id" }), "replyToId", /replyToId must be an id/);
    });
  });

  it("keeps replyToId but resolves replyTo to null once the target is deleted", async () => {
    const target = await sendOk(bob, { content: "soon gone" });
    const reply = await sendOk(cat, { content: "replying", replyToId: target.id });
    const del = await server.gql(DELETE, { input: { channelId, messageId: target.id } }, bob.token);
    expect(del).toEqual({ data: { deleteMessage: true } });
    const res = await server.gql(
      `query($c: ID!, $m: ID!) { channel(id: $c) { messages(around: $m, first: 1) { edges { node { id replyToId replyTo { id } } } } } }`,
      { c: channelId, m: reply.id },
      cat.token,
    );
    expect(res.errors).toBeUndefined();
    expect(res.data.channel.messages.edges[0].node).toEqual({ id: reply.id, replyToId: target.id, replyTo: null });
  });
});

describe("sendMessage mentions and time", () => {
  it("parses <@id> and <@!id>, dedupes, ignores unknown ids, and exposes { id username }", async () => {
    const sent = await sendOk(ada, {
      content: `hi <@${bob.id}>, <@!${cat.id}> and <@!${bob.id}> again; ghost <@123456789012345> and <@${cat.id}>`,
    });
    expect(sent.mentions).toEqual([
      { id: bob.id, username: bob.username },
      { id: cat.id, username: cat.username },
    ]);
  });

  it("ignores malformed mentions and keeps the text as typed", async () => {
    const content = `<@> <@abc> <@ ${bob.id}> @${bob.id} <#${bob.id}>`;
    const sent = await sendOk(ada, { content });
    expect(sent.content).toBe(content);
    expect(sent.mentions).toEqual([]);
  });

  it("ignores a mention of an id beyond the 64-bit range instead of failing", async () => {
    // 19 digits, above 2^63 - 1: not a possible user id.
    const res = await send(ada, { content: "ghost <@9999999999999999999>" });
    expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
    expect(res.data.sendMessage.mentions).toEqual([]);
  });

  it("treats a mention with leading zeros as the same user (mentioned once)", async () => {
    const sent = await sendOk(ada, { content: `<@${bob.id}> <@0${bob.id}>` });
    expect(sent.mentions.map((m) => m.id)).toEqual([bob.id]);
  });

  it("gives createdAt from the id's timestamp, close to now", async () => {
    const before = Date.now();
    const sent = await sendOk(bob, { content: "what time is it" });
    const after = Date.now();
    const createdAt = Date.parse(sent.createdAt);
    expect(createdAt).toBe(Number(BigInt(sent.id) >> 22n) + CONCORD_EPOCH_MS);
    expect(createdAt).toBeGreaterThanOrEqual(before - 1_000);
    expect(createdAt).toBeLessThanOrEqual(after + 1_000);
    expect(sent.editedAt).toBeNull();
  });
});

describe("editMessage", () => {
  it("lets the author edit: content and mentions change, editedAt is set, subscribers get MessageUpdated", async () => {
    const original = await sendOk(bob, { content: `hello <@${cat.id}>` });
    expect(original.mentions.map((m) => m.id)).toEqual([cat.id]);
    const sub = subscribe(server.ws(ada.token), LIVE, { c: channelId });
    await waitForSubscribers(server, `channel:${channelId}`, 1);

    const before = Date.now();
    const res = await server.gql(EDIT, { input: { channelId, messageId: original.id, content: `  hello <@${ada.id}>  ` } }, bob.token);
    expect(res.errors).toBeUndefined();
    const edited = res.data.editMessage;
    expect(edited.id).toBe(original.id);
    expect(edited.content).toBe(`hello <@${ada.id}>`);
    expect(edited.mentions).toEqual([{ id: ada.id, username: ada.username }]);
    expect(edited.editedAt).not.toBeNull();
    expect(Date.parse(edited.editedAt)).toBeGreaterThanOrEqual(before - 1_000);
    expect(edited.createdAt).toBe(original.createdAt);

    const [event] = await sub.waitFor(1);
    expect(event!.data?.channelEvents).toEqual({
      __typename: "MessageUpdated",
      message: { id: original.id, content: `hello <@${ada.id}>`, editedAt: edited.editedAt, mentions: [{ id: ada.id }] },
    });
    const stored = (await history()).find((m) => m.id === original.id);
    expect(stored).toMatchObject({ content: `hello <@${ada.id}>`, editedAt: edited.editedAt });
    sub.unsubscribe();
  });

  it("forbids another member (even the guild owner) to edit, leaving the content unchanged", async () => {
    const original = await sendOk(bob, { content: "mine" });
    await expectNothingWritten(async () => {
      for (const other of [cat, ada]) {
        const res = await server.gql(EDIT, { input: { channelId, messageId: original.id, content: "yours now" } }, other.token);
        expectCode(res, "FORBIDDEN", /author/);
      }
    });
  });

  it("rejects bad content with BAD_USER_INPUT and leaves the message unchanged", async () => {
    const original = await sendOk(bob, { content: "keep me" });
    await expectNothingWritten(async () => {
      expectBadInput(await server.gql(EDIT, { input: { channelId, messageId: original.id, content: "   " } }, bob.token), "content", /content/);
      expectBadInput(await server.gql(EDIT, { input: { channelId, messageId: original.id, content: "z".repeat(2001) } }, bob.token), "content", /2001/);
    });
  });

  it("answers NOT_FOUND for a missing message", async () => {
    const res = await server.gql(EDIT, { input: { channelId, messageId: "123456789", content: "x" } }, bob.token);
    expectCode(res, "NOT_FOUND", /Message 123456789 not found/);
  });

  it("answers NOT_FOUND when the message exists in another channel than the one named", async () => {
    const msg = await sendOk(bob, { content: "in general" });
    const res = await server.gql(EDIT, { input: { channelId: otherChannelId, messageId: msg.id, content: "moved?" } }, bob.token);
    expectCode(res, "NOT_FOUND", /not found/);
    expect((await history()).find((m) => m.id === msg.id)?.content).toBe("in general");
  });

  it("answers NOT_FOUND to a non-member, who may not know the channel exists", async () => {
    const msg = await sendOk(bob, { content: "private" });
    const res = await server.gql(EDIT, { input: { channelId, messageId: msg.id, content: "hacked" } }, eve.token);
    expectCode(res, "NOT_FOUND", /Channel .* not found/);
    expect((await history()).find((m) => m.id === msg.id)?.content).toBe("private");
  });
});

describe("deleteMessage", () => {
  it("lets the author delete, and subscribers get MessageDeleted", async () => {
    const msg = await sendOk(bob, { content: "delete me" });
    const sub = subscribe(server.ws(cat.token), LIVE, { c: channelId });
    await waitForSubscribers(server, `channel:${channelId}`, 1);
    const res = await server.gql(DELETE, { input: { channelId, messageId: msg.id } }, bob.token);
    expect(res).toEqual({ data: { deleteMessage: true } });
    const [event] = await sub.waitFor(1);
    expect(event!.data?.channelEvents).toEqual({ __typename: "MessageDeleted", channelId, messageId: msg.id });
    expect((await history()).some((m) => m.id === msg.id)).toBe(false);
    sub.unsubscribe();
  });

  it("lets the guild owner delete someone else's message", async () => {
    const msg = await sendOk(cat, { content: "moderate me" });
    const res = await server.gql(DELETE, { input: { channelId, messageId: msg.id } }, ada.token);
    expect(res).toEqual({ data: { deleteMessage: true } });
    expect((await history()).some((m) => m.id === msg.id)).toBe(false);
  });

  it("forbids another non-owner member, and the message stays", async () => {
    const msg = await sendOk(cat, { content: "not yours" });
    await expectNothingWritten(async () => {
      const res = await server.gql(DELETE, { input: { channelId, messageId: msg.id } }, bob.token);
      expectCode(res, "FORBIDDEN", /author, or a member with MANAGE_MESSAGES/);
    });
    expect((await history()).some((m) => m.id === msg.id)).toBe(true);
  });

  it("answers NOT_FOUND for a message that is already gone", async () => {
    const msg = await sendOk(bob, { content: "twice" });
    expect((await server.gql(DELETE, { input: { channelId, messageId: msg.id } }, bob.token)).data?.deleteMessage).toBe(true);
    expectCode(await server.gql(DELETE, { input: { channelId, messageId: msg.id } }, bob.token), "NOT_FOUND", /not found/);
  });

  it("answers NOT_FOUND to a non-member", async () => {
    const msg = await sendOk(bob, { content: "stay" });
    await expectNothingWritten(async () => {
      expectCode(await server.gql(DELETE, { input: { channelId, messageId: msg.id } }, eve.token), "NOT_FOUND", /not found/);
    });
  });
});

describe("access and ids", () => {
  it("answers NOT_FOUND to a non-member sending to a guild channel, writing nothing", async () => {
    await expectNothingWritten(async () => expectCode(await send(eve, { content: "let me in" }), "NOT_FOUND", new RegExp(`Channel ${channelId} not found`)));
  });

  it("answers NOT_FOUND for a channel that does not exist", async () => {
    expectCode(await server.gql(SEND, { input: { channelId: "42", content: "hello?" } }, bob.token), "NOT_FOUND", /Channel 42 not found/);
  });

  it("rejects a malformed channelId with BAD_USER_INPUT on channelId", async () => {
    await expectNothingWritten(async () => {
      for (const bad of ["abc", "-1", "1.5", "", "99999999999999999999"]) {
        expectBadInput(await server.gql(SEND, { input: { channelId: bad, content: "hello" } }, bob.token), "channelId", /channelId must be an id/);
      }
    });
  });

  it("rejects an anonymous send with UNAUTHENTICATED", async () => {
    await expectNothingWritten(async () => expectCode(await server.gql(SEND, { input: { channelId, content: "anon" } }), "UNAUTHENTICATED", /Sign in/));
  });
});
