import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MAX_SNOWFLAKE } from "../../src/ids/snowflake.js";
import { startTestServer, type GraphQLResponse, type TestServer } from "../support/server.js";

/**
 * The hostile inputs of issue #9 against a real server over HTTP: NUL, lone surrogates, C1
 * controls, bidi overrides, invisible-only text, ids at and beyond the int64 edge, and weak
 * passwords. Each is BAD_USER_INPUT naming the field (never INTERNAL_SERVER_ERROR: the server
 * would log it, and close() fails the file on any logged error), and nothing is written.
 */

type User = { token: string; id: string; username: string };

const REGISTER = `mutation($input: CredentialsInput!) { register(input: $input) { token } }`;
const LOGIN = `mutation($input: CredentialsInput!) { login(input: $input) { token user { id } } }`;
const SEND = `mutation($input: SendMessageInput!) { sendMessage(input: $input) { id content nonce } }`;
const EDIT = `mutation($input: EditMessageInput!) { editMessage(input: $input) { id content } }`;
const HISTORY = `query($c: ID!) { channel(id: $c) { messages(last: 100) { edges { node { id content nonce } } } } }`;
const MY_GUILDS = `{ me { guilds { id name } } }`;
const CHANNELS = `query($g: ID!) { guild(id: $g) { channels { id name } } }`;
const PASSWORD = "correct horse";

let server: TestServer;
let ada: User; // guild owner
let bob: User; // member
let guildId: string;
let channelId: string;
let inviteCode: string;
let seq = 0;
const freshName = (prefix: string) => `${prefix}_${process.pid % 100000}_${++seq}`;

/**
 * The single error of a refused call: BAD_USER_INPUT on `field`, no data. A transport-level net
 * may refuse NUL and lone surrogates before the resolver does, naming the same input by its path
 * (`variables.input.nonce`, `login(input.username)`): either name is accepted.
 */
function expectBadInput(res: GraphQLResponse, field: string, message?: RegExp) {
  expect(res.errors, JSON.stringify(res)).toHaveLength(1);
  expect(res.data ?? null).toBeNull();
  const error = res.errors![0]!;
  expect(error.extensions?.code, JSON.stringify(error)).toBe("BAD_USER_INPUT");
  const named = String(error.extensions?.field);
  // The net names a variable by its path in the request (`variables.a`), whatever argument it feeds.
  const ok = named === field || named.endsWith(`.${field}`) || named.endsWith(`.${field})`) || named.endsWith(`(${field})`) || /^variables\./.test(named);
  expect(ok, `field ${named} for ${field}`).toBe(true);
  if (message) expect(error.message).toMatch(message);
}

async function history(): Promise<{ id: string; content: string; nonce: string | null }[]> {
  return (await server.ok(HISTORY, { c: channelId }, ada.token)).channel.messages.edges.map((e: { node: unknown }) => e.node);
}

async function guildsOf(user: User): Promise<{ id: string; name: string }[]> {
  return (await server.ok(MY_GUILDS, {}, user.token)).me.guilds;
}

/** What a refused call must not change: history, ada's guilds and their names, the guild's channels. */
async function state() {
  return { history: await history(), guilds: await guildsOf(ada), channels: (await server.ok(CHANNELS, { g: guildId }, ada.token)).guild.channels };
}

/** Runs `act` and checks that {@link state} is exactly as before. */
async function expectNothingWritten(act: () => Promise<unknown>) {
  const before = await state();
  await act();
  expect(await state()).toEqual(before);
}

const send = (user: User, input: Record<string, unknown>) => server.gql(SEND, { input: { channelId, ...input } }, user.token);

beforeAll(async () => {
  server = await startTestServer();
  [ada, bob] = await Promise.all([server.signUp("ada"), server.signUp("bob")]);
  const guild = await server.ok(`mutation { createGuild(input: { name: "Inputs" }) { id channels { id } } }`, {}, ada.token);
  guildId = guild.createGuild.id;
  channelId = guild.createGuild.channels[0].id;
  inviteCode = (await server.ok(`mutation($g: ID!) { createInvite(input: { guildId: $g }) { code } }`, { g: guildId }, ada.token)).createInvite.code;
  await server.ok(`mutation($c: String!) { joinGuild(code: $c) { id } }`, { c: inviteCode }, bob.token);
}, 120_000);

afterAll(() => server?.close());

describe("login", () => {
  it("refuses a NUL username (as a variable and as a literal) with BAD_USER_INPUT, not a database error", async () => {
    expectBadInput(await server.gql(LOGIN, { input: { username: "\u0000", password: PASSWORD } }), "username", /NUL/);
    expectBadInput(await server.gql(`mutation { login(input: { username: "\\u0000", password: "correct horse" }) { token } }`), "username", /NUL/);
    expectBadInput(await server.gql(LOGIN, { input: { username: `${ada.username}\u0000`, password: PASSWORD } }), "username", /NUL/);
  });

  it("refuses a username that cannot exist, as registration would, instead of looking it up", async () => {
    for (const [username, message] of [["a", /2 to 32/], ["ada lovelace", /only letters, digits/], ["ada\u0085", /control characters/], ["ad\u202ea", /U\+202E/], ["\uD800ada", /lone surrogate/]] as const) {
      expectBadInput(await server.gql(LOGIN, { input: { username, password: PASSWORD } }), "username", message);
    }
    // A well-formed unknown name is still the same UNAUTHENTICATED as a wrong password.
    const unknown = await server.gql(LOGIN, { input: { username: freshName("nobody"), password: PASSWORD } });
    expect(unknown.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
  });

  it("refuses a password with NUL or a lone surrogate, and still signs in with the right one", async () => {
    expectBadInput(await server.gql(LOGIN, { input: { username: ada.username, password: `${PASSWORD}\u0000` } }), "password", /NUL/);
    expectBadInput(await server.gql(LOGIN, { input: { username: ada.username, password: `${PASSWORD}\uDC00` } }), "password", /lone surrogate/);
    expect((await server.gql(LOGIN, { input: { username: ada.username, password: PASSWORD } })).data.login.user.id).toBe(ada.id);
  });
});

describe("register: password policy", () => {
  it.each([
    ["8 characters", "12345678", /at least 10 characters \(got 8\)/],
    ["a common password", "password123", /most common passwords/],
    ["a common password (keyboard row)", "qwertyuiop", /most common passwords/],
    ["a common password in capitals", "QWERTYUIOP", /most common passwords/],
    ["a NUL", "long enough\u0000", /NUL/],
    ["a lone surrogate", "long enough\uD83D", /lone surrogate/],
    ["a C1 control", "long enough\u0085", /control characters/],
  ])("refuses %s, saying why, and does not take the username", async (_label, password, message) => {
    const username = freshName("pw");
    expectBadInput(await server.gql(REGISTER, { input: { username, password } }), "password", message);
    const retry = await server.gql(REGISTER, { input: { username, password: PASSWORD } });
    expect(retry.errors).toBeUndefined();
  });

  it("refuses the username as the password, whatever its case or surrounding spaces", async () => {
    const username = freshName("Same.Name");
    for (const password of [username, username.toUpperCase(), `  ${username.toLowerCase()} `]) {
      expectBadInput(await server.gql(REGISTER, { input: { username, password } }), "password", /must not be your username/);
    }
    expect((await server.gql(LOGIN, { input: { username, password: username } })).errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
  });

  it("refuses usernames with C1 controls, invisible or direction characters", async () => {
    for (const [username, message] of [[`${freshName("c1")}\u0085`, /control characters/], [`\u200b${freshName("zw")}`, /U\+200B/], [`${freshName("bidi")}\u202e`, /U\+202E/]] as const) {
      expectBadInput(await server.gql(REGISTER, { input: { username, password: PASSWORD } }), "username", message);
    }
  });
});

describe("ids", () => {
  const around = (value: string) =>
    server.gql(`query($c: ID!, $a: ID!) { channel(id: $c) { messages(around: $a, first: 10) { edges { node { id } } pageInfo { hasNextPage hasPreviousPage } } } }`, { c: channelId, a: value }, ada.token);

  it("answers messages(around: the largest snowflake) with the newest messages, not an int64 overflow", async () => {
    const sent = [];
    for (let i = 0; i < 7; i++) sent.push((await server.ok(SEND, { input: { channelId, content: `around ${i}` } }, bob.token)).sendMessage.id as string);
    const res = await around(String(MAX_SNOWFLAKE));
    expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
    const page = res.data.channel.messages;
    // Half a page older than (and including) the cursor: the 5 newest messages, oldest first.
    expect(page.edges.map((e: { node: { id: string } }) => e.node.id)).toEqual(sent.slice(-5));
    expect(page.pageInfo).toEqual({ hasNextPage: false, hasPreviousPage: true });
    // Literal ids too.
    const literal = await server.gql(`query($c: ID!) { channel(id: $c) { messages(around: "9223372036854775807", last: 2) { edges { node { id } } } } }`, { c: channelId }, ada.token);
    expect(literal.errors).toBeUndefined();
    expect(literal.data.channel.messages.edges.map((e: { node: { id: string } }) => e.node.id)).toEqual(sent.slice(-1));
  });

  it("answers cursors at the edges of the range with empty pages", async () => {
    const after = await server.gql(`query($c: ID!, $x: ID!) { channel(id: $c) { messages(after: $x) { edges { cursor } } } }`, { c: channelId, x: String(MAX_SNOWFLAKE) }, ada.token);
    const before = await server.gql(`query($c: ID!, $x: ID!) { channel(id: $c) { messages(before: $x) { edges { cursor } } } }`, { c: channelId, x: "0" }, ada.token);
    expect([after.errors, before.errors]).toEqual([undefined, undefined]);
    expect([after.data.channel.messages.edges, before.data.channel.messages.edges]).toEqual([[], []]);
  });

  it("refuses ids beyond the snowflake range or not made of digits with BAD_USER_INPUT on the argument", async () => {
    for (const bad of [String(MAX_SNOWFLAKE + 1n), "18446744073709551615", "99999999999999999999", "-1", "1e5", "", " 1"]) {
      expectBadInput(await around(bad), "around", /around must be an id/);
    }
    for (const bad of ["1\u0000", "\uD800"]) expectBadInput(await around(bad), "around");
    expectBadInput(await server.gql(`query { channel(id: "9223372036854775808") { id } }`, {}, ada.token), "id");
    expectBadInput(await server.gql(SEND, { input: { channelId, content: "reply", replyToId: "9223372036854775808" } }, bob.token), "replyToId");
    expectBadInput(await server.gql(`query($ids: [ID!]!) { users(ids: $ids) { id } }`, { ids: [ada.id, "9223372036854775808"] }, ada.token), "ids[1]");
  });

  it("answers a reply to or an ack of the largest snowflake as a missing message, not an error of ours", async () => {
    await expectNothingWritten(async () => {
      expectBadInput(await send(bob, { content: "reply", replyToId: String(MAX_SNOWFLAKE) }), "replyToId", /same channel/);
      const ack = await server.gql(`mutation($c: ID!, $m: ID!) { ackMessage(input: { channelId: $c, messageId: $m }) { unreadCount } }`, { c: channelId, m: String(MAX_SNOWFLAKE) }, bob.token);
      expect(ack.errors?.[0]?.extensions?.code).toBe("NOT_FOUND");
    });
  });
});

describe("sendMessage", () => {
  it("refuses nonces with different lone surrogates instead of storing both under one key", async () => {
    await expectNothingWritten(async () => {
      expectBadInput(await send(bob, { content: "first", nonce: "n-\uD800" }), "nonce", /lone surrogate/);
      expectBadInput(await send(bob, { content: "second", nonce: "n-\uD801" }), "nonce", /lone surrogate/);
      expectBadInput(await send(bob, { content: "third", nonce: "n-\u0000" }), "nonce", /NUL/);
      expectBadInput(await send(bob, { content: "fourth", nonce: "n-\u0085" }), "nonce", /control characters/);
    });
    // A well-formed nonce still deduplicates, and a different one is a different message.
    const first = (await server.ok(SEND, { input: { channelId, content: "first", nonce: "n-\u{1F600}" } }, bob.token)).sendMessage;
    const again = (await server.ok(SEND, { input: { channelId, content: "again", nonce: "n-\u{1F600}" } }, bob.token)).sendMessage;
    const other = (await server.ok(SEND, { input: { channelId, content: "other", nonce: "n-\u{1F601}" } }, bob.token)).sendMessage;
    expect(again).toEqual(first);
    expect(other.id).not.toBe(first.id);
    expect(first.nonce).toBe("n-\u{1F600}");
  });

  it.each([
    ["NUL", "hello\u0000", /NUL/],
    ["a lone surrogate", "hello \uDE00", /lone surrogate/],
    ["a C1 control (NEL)", "hello\u0085world", /control characters \(found U\+0085\)/],
    ["a C1 control (CSI)", "\u009b31mred", /control characters \(found U\+009B\)/],
    ["a right-to-left override", "invoice\u202efdp.exe", /U\+202E \(right-to-left override\)/],
    ["a closed override", "\u202dabc\u202c", /U\+202D/],
    ["an isolate left open", "hi \u2067שלום", /must close U\+2067/],
    ["a stray pop", "hi\u202c", /no embedding to close/],
    ["only zero-width spaces", "\u200b\u200b\u200b", /visible character/],
    ["only joiners and U+FEFF", "\u200d\ufeff\u200c", /visible character/],
    ["only U+2060 word joiners", "\u2060\u2060", /visible character/],
    ["only Hangul fillers", "\u3164", /visible character/],
  ])("refuses content with %s and writes nothing", async (_label, content, message) => {
    await expectNothingWritten(async () => expectBadInput(await send(bob, { content }), "content", message));
  });

  it("accepts right-to-left text with closed isolates and embeddings, and stores it unchanged", async () => {
    const content = "he said \u2067שלום\u2069 and \u202bمرحبا\u202c \u200f!";
    const sent = (await server.ok(SEND, { input: { channelId, content } }, bob.token)).sendMessage;
    expect(sent.content).toBe(content);
    expect((await history()).find((m) => m.id === sent.id)?.content).toBe(content);
  });

  it("refuses an edit to invisible-only content and leaves the message as it was", async () => {
    const sent = (await server.ok(SEND, { input: { channelId, content: "visible" } }, bob.token)).sendMessage;
    await expectNothingWritten(async () => {
      expectBadInput(await server.gql(EDIT, { input: { channelId, messageId: sent.id, content: "\u200b" } }, bob.token), "content", /visible character/);
      expectBadInput(await server.gql(EDIT, { input: { channelId, messageId: sent.id, content: "x\u0000" } }, bob.token), "content", /NUL/);
    });
  });
});

describe("names", () => {
  it.each([
    ["a C1 control", "Guild\u0085Name", /control characters/],
    ["a right-to-left override", "\u202eevil", /U\+202E/],
    ["a closed embedding", "\u202bGuild\u202c", /invisible or text-direction characters \(found U\+202B\)/],
    ["a zero-width space", "Ad\u200bmins", /found U\+200B/],
    ["nothing visible", "\u2800\u2800", /visible character/],
    ["a lone surrogate", "Guild \uD800", /lone surrogate/],
  ])("refuses a guild name with %s, on create and on rename", async (_label, name, message) => {
    await expectNothingWritten(async () => {
      expectBadInput(await server.gql(`mutation($n: String!) { createGuild(input: { name: $n }) { id } }`, { n: name }, ada.token), "name", message);
      expectBadInput(await server.gql(`mutation($g: ID!, $n: String!) { updateGuild(input: { guildId: $g, name: $n }) { id } }`, { g: guildId, n: name }, ada.token), "name", message);
    });
  });

  it("accepts a guild name with emoji sequences", async () => {
    const name = "Devs \u{1F469}\u{1F3FD}\u200D\u{1F4BB} \u2764\uFE0F";
    expect((await server.ok(`mutation($g: ID!, $n: String!) { updateGuild(input: { guildId: $g, name: $n }) { name } }`, { g: guildId, n: name }, ada.token)).updateGuild.name).toBe(name);
  });

  it.each([
    ["a C1 control", "news\u0085"],
    ["a right-to-left isolate", "news\u2067x\u2069"],
    ["a Hangul filler (a letter that shows nothing)", "\u3164"],
    ["a word joiner", "new\u2060s"],
  ])("refuses a channel name with %s, on create and on rename", async (_label, name) => {
    await expectNothingWritten(async () => {
      expectBadInput(await server.gql(`mutation($g: ID!, $n: String!) { createChannel(input: { guildId: $g, name: $n }) { id } }`, { g: guildId, n: name }, ada.token), "name");
      expectBadInput(await server.gql(`mutation($c: ID!, $n: String!) { updateChannel(input: { channelId: $c, name: $n }) { id } }`, { c: channelId, n: name }, ada.token), "name");
    });
  });
});

describe("invite codes", () => {
  it("refuses codes with NUL, lone surrogates or controls and joins nothing", async () => {
    const eve = await server.signUp("eve");
    for (const code of [`${inviteCode}\u0000`, `${inviteCode}\uD800`, `${inviteCode}\u0085`, `\u202e${inviteCode}`]) {
      expectBadInput(await server.gql(`mutation($c: String!) { joinGuild(code: $c) { id } }`, { c: code }, eve.token), "code");
    }
    expect(await guildsOf(eve)).toEqual([]);
  });
});
