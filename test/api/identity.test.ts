import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, subscribe, waitForSubscribers, type GraphQLResponse, type TestServer } from "../support/server.js";
import { ending, expectError } from "../support/assertions.js";

/**
 * Identity over real HTTP and graphql-ws: registration, login, logout, tokens (HTTP header and
 * connection_init), bots and their tokens, and UNAUTHENTICATED for every protected operation.
 * Every rejected call is followed by a read showing that nothing was written.
 */

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const REGISTER = `mutation($u: String!, $p: String!) { register(input: { username: $u, password: $p }) { token user { id username bot } } }`;
const LOGIN = `mutation($u: String!, $p: String!) { login(input: { username: $u, password: $p }) { token user { id username } } }`;
const ME = `{ me { id username bot } }`;
const CREATE_BOT = `mutation($u: String!) { createBot(input: { username: $u }) { token user { id username bot } } }`;
const RESET_BOT = `mutation($b: ID!) { resetBotToken(botId: $b) { token user { id username bot } } }`;
const MY_BOTS = `{ me { bots { id username bot } } }`;
const USER_EVENTS = `subscription { userEvents { __typename ... on GuildJoined { guild { id name } } } }`;
const CHANNEL_EVENTS = `subscription($c: ID!) { channelEvents(channelId: $c) { __typename } }`;
const PASSWORD = "correct horse";

let seq = 0;
/** A valid username not used before in this file (at most 32 characters). */
const freshName = (prefix: string) => `${prefix}_${process.pid % 100000}_${++seq}`;

describe("identity", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ warmUp: true });
  });
  afterAll(() => server?.close());

  /** Sends one operation with a raw Authorization header (or none). */
  async function rawGql(query: string, authorization?: string, variables?: Record<string, unknown>): Promise<GraphQLResponse> {
    const res = await fetch(server.url, {
      method: "POST",
      headers: { "content-type": "application/json", ...(authorization === undefined ? {} : { authorization }) },
      body: JSON.stringify({ query, variables }),
    });
    return (await res.json()) as GraphQLResponse;
  }

  /** Signing in fails: UNAUTHENTICATED, or BAD_USER_INPUT for a username that cannot exist. */
  async function expectNoAccount(username: string) {
    const res = await server.gql(LOGIN, { u: username, p: PASSWORD });
    if (res.errors?.[0]?.extensions?.code === "BAD_USER_INPUT") expectError(res, "BAD_USER_INPUT", /username/, "username");
    else expectError(res, "UNAUTHENTICATED", /Invalid username or password/);
  }

  async function createGuild(token: string, name = "Identity Guild") {
    const res = await server.gql(`mutation($n: String!) { createGuild(input: { name: $n }) { id channels { id } } }`, { n: name }, token);
    expect(res.errors).toBeUndefined();
    return { id: res.data.createGuild.id as string, channelId: res.data.createGuild.channels[0].id as string };
  }

  describe("register", () => {
    it.each([
      ["one character", "a", /2 to 32/],
      ["33 characters", "u".repeat(33), /2 to 32/],
      ["only spaces", "      ", /2 to 32/],
      ["a space inside", "ada lovelace", /only letters, digits/],
      ["a dash", "ada-lovelace", /only letters, digits/],
      ["a non-ASCII letter", "émile", /only letters, digits/],
      ["an @", "ada@example", /only letters, digits/],
      ["a line break", "ada\nbob", /control characters|line breaks/],
    ])("rejects a username with %s (BAD_USER_INPUT username) and creates nothing", async (_label, username, message) => {
      const res = await server.gql(REGISTER, { u: username, p: PASSWORD });
      expectError(res, "BAD_USER_INPUT", message, "username");
      await expectNoAccount(username);
    });

    it.each([
      ["9 characters", "123456789", /at least 10 characters \(got 9\)/],
      ["an empty string", "", /at least 10 characters \(got 0\)/],
      ["257 characters", "p".repeat(257), /at most 256 characters \(got 257\)/],
      ["a common one", "password123", /one of the most common passwords/],
    ])("rejects a password of %s (BAD_USER_INPUT password) and does not take the username", async (_label, password, message) => {
      const username = freshName("pw");
      expectError(await server.gql(REGISTER, { u: username, p: password }), "BAD_USER_INPUT", message, "password");
      await expectNoAccount(username);
      // The name is still free: the rejected call wrote nothing.
      const retry = await server.gql(REGISTER, { u: username, p: PASSWORD });
      expect(retry.errors).toBeUndefined();
      expect(retry.data.register.user.username).toBe(username);
    });

    it("accepts a password of exactly 10 characters, spaces included", async () => {
      const res = await server.gql(REGISTER, { u: freshName("pw10"), p: "  ten ch  " });
      expect(res.errors).toBeUndefined();
    });

    it("rejects a username taken in another case with CONFLICT and leaves the first account as it was", async () => {
      const ada = await server.signUp("Ada");
      for (const variant of [ada.username.toUpperCase(), ada.username.toLowerCase()]) {
        const res = await server.gql(REGISTER, { u: variant, p: "another password" });
        expectError(res, "CONFLICT", /taken/);
        // No second account: the other password does not sign in, the first one still does.
        expectError(await server.gql(LOGIN, { u: variant, p: "another password" }), "UNAUTHENTICATED", /Invalid username or password/);
      }
      const login = await server.gql(LOGIN, { u: ada.username, p: PASSWORD });
      expect(login.errors).toBeUndefined();
      expect(login.data.login.user).toEqual({ id: ada.id, username: ada.username });
    });

    it("returns a token that works on `me`, for a person (bot: false)", async () => {
      const username = freshName("New.User");
      const res = await server.gql(REGISTER, { u: username, p: PASSWORD });
      expect(res.errors).toBeUndefined();
      const { token, user } = res.data.register;
      expect(token).toMatch(/^\S{16,}$/);
      expect(user).toMatchObject({ username, bot: false });
      const me = await server.gql(ME, {}, token);
      expect(me).toEqual({ data: { me: { id: user.id, username, bot: false } } });
    });
  });

  describe("login", () => {
    it("answers a wrong password and an unknown user with the same UNAUTHENTICATED message", async () => {
      const ada = await server.signUp("ada");
      const wrong = await server.gql(LOGIN, { u: ada.username, p: "wrong password" });
      const unknown = await server.gql(LOGIN, { u: freshName("nobody"), p: PASSWORD });
      expectError(wrong, "UNAUTHENTICATED", /Invalid username or password/);
      expectError(unknown, "UNAUTHENTICATED", /Invalid username or password/);
      expect(wrong.errors![0]!.message).toBe(unknown.errors![0]!.message);
      // Nothing changed: the right password still works.
      expect((await server.gql(LOGIN, { u: ada.username, p: PASSWORD })).errors).toBeUndefined();
    });

    it("signs in case-insensitively and issues a new token; both tokens work", async () => {
      const ada = await server.signUp("ada");
      const res = await server.gql(LOGIN, { u: ada.username.toUpperCase(), p: PASSWORD });
      expect(res.errors).toBeUndefined();
      expect(res.data.login.user.id).toBe(ada.id);
      expect(res.data.login.token).not.toBe(ada.token);
      for (const token of [ada.token, res.data.login.token]) expect((await server.gql(ME, {}, token)).data.me.id).toBe(ada.id);
    });

    it("does not let a bot sign in with a password (same message as a wrong password)", async () => {
      const owner = await server.signUp("owner");
      const botName = freshName("bot");
      const bot = await server.gql(CREATE_BOT, { u: botName }, owner.token);
      expect(bot.errors).toBeUndefined();
      for (const password of [PASSWORD, "", "decoy-password"]) {
        expectError(await server.gql(LOGIN, { u: botName, p: password }), "UNAUTHENTICATED", /^Invalid username or password\.$/);
      }
    });
  });

  describe("logout", () => {
    it("revokes only the token used: `me` says it is invalid or revoked, the user's other token still works", async () => {
      const ada = await server.signUp("ada");
      const second = (await server.gql(LOGIN, { u: ada.username, p: PASSWORD })).data.login.token as string;
      const out = await server.gql(`mutation { logout }`, {}, ada.token);
      expect(out).toEqual({ data: { logout: true } });
      expectError(await server.gql(ME, {}, ada.token), "UNAUTHENTICATED", /invalid or was revoked/);
      expectError(await server.gql(`mutation { logout }`, {}, ada.token), "UNAUTHENTICATED", /invalid or was revoked/);
      expect((await server.gql(ME, {}, second)).data.me.id).toBe(ada.id);
    });

    it("ends an open channelEvents subscription of that token with UNAUTHENTICATED; other sessions stay live", async () => {
      const ada = await server.signUp("ada");
      const second = (await server.gql(LOGIN, { u: ada.username, p: PASSWORD })).data.login.token as string;
      const guild = await createGuild(ada.token);
      const revoked = subscribe(server.ws(ada.token), CHANNEL_EVENTS, { c: guild.channelId });
      const kept = subscribe(server.ws(second), USER_EVENTS);
      await waitForSubscribers(server, `channel:${guild.channelId}`, 1);
      await waitForSubscribers(server, `user:${ada.id}`, 2);

      expect((await server.gql(`mutation { logout }`, {}, ada.token)).data).toEqual({ logout: true });
      const last = await ending(revoked);
      expectError(last, "UNAUTHENTICATED", /session ended|sign in/i);

      // The other token's subscription still delivers.
      const other = await createGuild(second, "After Logout");
      const events = await kept.waitFor(1);
      expect(events[0]!.data).toEqual({ userEvents: { __typename: "GuildJoined", guild: { id: other.id, name: "After Logout" } } });
    });

    it("refuses new subscriptions on a WebSocket opened with the token before it was revoked", async () => {
      const ada = await server.signUp("ada");
      const guild = await createGuild(ada.token);
      const client = server.ws(ada.token);
      const before = subscribe(client, CHANNEL_EVENTS, { c: guild.channelId });
      await waitForSubscribers(server, `channel:${guild.channelId}`, 1);
      await server.gql(`mutation { logout }`, {}, ada.token);
      await ending(before);

      // Same socket, new operation: the revoked token must not open anything. (Closing the socket
      // would also do; what may not happen is a live subscription.)
      const after = subscribe(client, CHANNEL_EVENTS, { c: guild.channelId });
      await sleep(500);
      const bus = server.app.services.bus as unknown as { subscriberCount(topic: string): number };
      expect(bus.subscriberCount(`channel:${guild.channelId}`), "a subscription opened with a revoked token is live").toBe(0);
      const last = await ending(after, 1_000);
      if (last.errors?.[0]?.extensions) expect(last.errors[0].extensions.code).toBe("UNAUTHENTICATED");
    });
  });

  describe("anonymous and bad credentials", () => {
    let owner: { token: string; id: string; username: string };
    let guildId: string;
    let channelId: string;
    let messageId: string;
    let botId: string;
    let other: { token: string; id: string };
    let inviteCode: string;
    let ownerSessionId: string;

    const STATE = `query($g: ID!, $c: ID!) {
      me { bots { id } guilds { id } presence }
      guild(id: $g) { name memberCount channels { id name position } }
      channel(id: $c) { messages { edges { node { id content } } } typing { user { id } } }
    }`;

    beforeAll(async () => {
      owner = await server.signUp("owner");
      other = await server.signUp("other");
      const guild = await createGuild(owner.token, "Protected");
      guildId = guild.id;
      channelId = guild.channelId;
      const sent = await server.gql(`mutation($c: ID!) { sendMessage(input: { channelId: $c, content: "hello" }) { id } }`, { c: channelId }, owner.token);
      messageId = sent.data.sendMessage.id;
      botId = (await server.gql(CREATE_BOT, { u: freshName("pbot") }, owner.token)).data.createBot.user.id;
      inviteCode = (await server.gql(`mutation($g: ID!) { createInvite(input: { guildId: $g }) { code } }`, { g: guildId }, owner.token)).data.createInvite.code;
      ownerSessionId = (await server.gql(`{ sessions { id } }`, {}, owner.token)).data.sessions[0].id;
    });

    /** Every operation but register and login, with arguments that would succeed for the owner. */
    const protectedOperations = (): [string, string, Record<string, unknown>][] => [
      ["me", `{ me { id } }`, {}],
      ["users", `query($u: ID!) { users(ids: [$u]) { id } }`, { u: owner.id }],
      ["guild", `query($g: ID!) { guild(id: $g) { id } }`, { g: guildId }],
      ["channel", `query($c: ID!) { channel(id: $c) { id } }`, { c: channelId }],
      ["message", `query($c: ID!, $m: ID!) { message(channelId: $c, messageId: $m) { id } }`, { c: channelId, m: messageId }],
      ["logout", `mutation { logout }`, {}],
      ["createBot", `mutation { createBot(input: { username: "anon_bot_x" }) { token } }`, {}],
      ["resetBotToken", `mutation($b: ID!) { resetBotToken(botId: $b) { token } }`, { b: botId }],
      ["createGuild", `mutation { createGuild(input: { name: "Anon Guild" }) { id } }`, {}],
      ["updateGuild", `mutation($g: ID!) { updateGuild(input: { guildId: $g, name: "Renamed" }) { id } }`, { g: guildId }],
      ["deleteGuild", `mutation($g: ID!) { deleteGuild(guildId: $g) }`, { g: guildId }],
      ["createInvite", `mutation($g: ID!) { createInvite(input: { guildId: $g }) { code } }`, { g: guildId }],
      ["joinGuild", `mutation($code: String!) { joinGuild(code: $code) { id } }`, { code: inviteCode }],
      ["leaveGuild", `mutation($g: ID!) { leaveGuild(guildId: $g) }`, { g: guildId }],
      ["kickMember", `mutation($g: ID!, $u: ID!) { kickMember(input: { guildId: $g, userId: $u }) }`, { g: guildId, u: other.id }],
      ["banMember", `mutation($g: ID!, $u: ID!) { banMember(input: { guildId: $g, userId: $u }) { createdAt } }`, { g: guildId, u: other.id }],
      ["unbanMember", `mutation($g: ID!, $u: ID!) { unbanMember(input: { guildId: $g, userId: $u }) }`, { g: guildId, u: other.id }],
      ["transferGuildOwnership", `mutation($g: ID!, $u: ID!) { transferGuildOwnership(input: { guildId: $g, userId: $u }) { id } }`, { g: guildId, u: other.id }],
      ["timeoutMember", `mutation($g: ID!, $u: ID!, $t: DateTime) { timeoutMember(input: { guildId: $g, userId: $u, until: $t }) { timedOutUntil } }`, { g: guildId, u: other.id, t: new Date(Date.now() + 60_000).toISOString() }],
      ["revokeInvite", `mutation($code: String!) { revokeInvite(code: $code) { code } }`, { code: inviteCode }],
      ["createChannel", `mutation($g: ID!) { createChannel(input: { guildId: $g, name: "anon" }) { id } }`, { g: guildId }],
      ["updateChannel", `mutation($c: ID!) { updateChannel(input: { channelId: $c, name: "renamed" }) { id } }`, { c: channelId }],
      ["deleteChannel", `mutation($c: ID!) { deleteChannel(channelId: $c) }`, { c: channelId }],
      ["createRole", `mutation($g: ID!) { createRole(input: { guildId: $g, name: "anon", permissions: [ADMINISTRATOR] }) { id } }`, { g: guildId }],
      ["updateRole", `mutation($g: ID!) { updateRole(input: { guildId: $g, roleId: $g, permissions: [ADMINISTRATOR] }) { id } }`, { g: guildId }],
      ["deleteRole", `mutation($g: ID!) { deleteRole(input: { guildId: $g, roleId: $g }) }`, { g: guildId }],
      ["moveRole", `mutation($g: ID!) { moveRole(input: { guildId: $g, roleId: $g, position: 1 }) { id } }`, { g: guildId }],
      ["addMemberRole", `mutation($g: ID!, $u: ID!) { addMemberRole(input: { guildId: $g, userId: $u, roleId: $g }) }`, { g: guildId, u: other.id }],
      ["removeMemberRole", `mutation($g: ID!, $u: ID!) { removeMemberRole(input: { guildId: $g, userId: $u, roleId: $g }) }`, { g: guildId, u: other.id }],
      ["setPermissionOverwrite", `mutation($c: ID!, $g: ID!) { setPermissionOverwrite(input: { channelId: $c, targetKind: ROLE, targetId: $g, allow: [], deny: [VIEW_CHANNEL] }) { targetId } }`, { c: channelId, g: guildId }],
      ["deletePermissionOverwrite", `mutation($c: ID!, $g: ID!) { deletePermissionOverwrite(input: { channelId: $c, targetKind: ROLE, targetId: $g }) }`, { c: channelId, g: guildId }],
      ["openDirectMessage", `mutation($u: ID!) { openDirectMessage(userIds: [$u]) { id } }`, { u: owner.id }],
      ["sendFriendRequest", `mutation($u: ID!) { sendFriendRequest(userId: $u) { type } }`, { u: other.id }],
      ["acceptFriendRequest", `mutation($u: ID!) { acceptFriendRequest(userId: $u) { type } }`, { u: other.id }],
      ["declineFriendRequest", `mutation($u: ID!) { declineFriendRequest(userId: $u) }`, { u: other.id }],
      ["removeFriend", `mutation($u: ID!) { removeFriend(userId: $u) }`, { u: other.id }],
      ["blockUser", `mutation($u: ID!) { blockUser(userId: $u) { type } }`, { u: other.id }],
      ["unblockUser", `mutation($u: ID!) { unblockUser(userId: $u) }`, { u: other.id }],
      ["updateSettings", `mutation { updateSettings(input: { allowDirectMessagesFrom: EVERYONE }) { allowDirectMessagesFrom } }`, {}],
      ["closeDirectMessage", `mutation($c: ID!) { closeDirectMessage(channelId: $c) }`, { c: channelId }],
      ["leaveGroupDirectMessage", `mutation($c: ID!) { leaveGroupDirectMessage(channelId: $c) }`, { c: channelId }],
      ["addGroupRecipient", `mutation($c: ID!, $u: ID!) { addGroupRecipient(input: { channelId: $c, userId: $u }) { id } }`, { c: channelId, u: other.id }],
      ["removeGroupRecipient", `mutation($c: ID!, $u: ID!) { removeGroupRecipient(input: { channelId: $c, userId: $u }) { id } }`, { c: channelId, u: other.id }],
      ["renameGroupDirectMessage", `mutation($c: ID!) { renameGroupDirectMessage(input: { channelId: $c, name: "Anon" }) { id } }`, { c: channelId }],
      ["sendMessage", `mutation($c: ID!) { sendMessage(input: { channelId: $c, content: "anon" }) { id } }`, { c: channelId }],
      ["editMessage", `mutation($c: ID!, $m: ID!) { editMessage(input: { channelId: $c, messageId: $m, content: "edited" }) { id } }`, { c: channelId, m: messageId }],
      ["deleteMessage", `mutation($c: ID!, $m: ID!) { deleteMessage(input: { channelId: $c, messageId: $m }) }`, { c: channelId, m: messageId }],
      ["presence", `query($u: ID!) { presence(userIds: [$u]) { status } }`, { u: owner.id }],
      ["setPresence", `mutation { setPresence(status: DND) }`, {}],
      ["startTyping", `mutation($c: ID!) { startTyping(channelId: $c) }`, { c: channelId }],
      ["ackMessage", `mutation($c: ID!, $m: ID!) { ackMessage(input: { channelId: $c, messageId: $m }) { unreadCount } }`, { c: channelId, m: messageId }],
      // Had any of these gone through, the owner's token in STATE below would stop working.
      ["sessions", `{ sessions { id } }`, {}],
      ["revokeSession", `mutation($s: ID!) { revokeSession(id: $s) }`, { s: ownerSessionId }],
      ["revokeOtherSessions", `mutation { revokeOtherSessions }`, {}],
      ["changePassword", `mutation { changePassword(input: { currentPassword: "correct horse", newPassword: "another fine passphrase" }) }`, {}],
    ];

    it("covers every query and mutation of the schema except register and login", async () => {
      const res = await server.gql(`{ __schema { queryType { fields { name } } mutationType { fields { name } } } }`);
      const names = [...res.data.__schema.queryType.fields, ...res.data.__schema.mutationType.fields].map((f: { name: string }) => f.name);
      const covered = protectedOperations().map(([name]) => name);
      expect(names.filter((name: string) => !["register", "login"].includes(name) && !covered.includes(name))).toEqual([]);
    });

    it("answers every protected operation without a token with UNAUTHENTICATED and changes nothing", async () => {
      const before = await server.gql(STATE, { g: guildId, c: channelId }, owner.token);
      expect(before.errors).toBeUndefined();
      for (const [name, query, variables] of protectedOperations()) {
        const res = await server.gql(query, variables);
        expect(res.errors?.[0]?.extensions?.code, `${name}: ${JSON.stringify(res)}`).toBe("UNAUTHENTICATED");
        expect(res.errors![0]!.message, name).toMatch(/Sign in first.*Bearer/);
      }
      expect(await server.gql(STATE, { g: guildId, c: channelId }, owner.token)).toEqual(before);
      // The bot's name "anon_bot_x" is still free, so createBot wrote nothing either.
      await expectNoAccount("anon_bot_x");
      expect((await server.gql(CREATE_BOT, { u: "anon_bot_x" }, other.token)).errors).toBeUndefined();
    });

    it("answers every protected operation with a revoked token with UNAUTHENTICATED naming the token", async () => {
      const gone = await server.signUp("gone");
      await server.gql(`mutation { logout }`, {}, gone.token);
      const before = await server.gql(STATE, { g: guildId, c: channelId }, owner.token);
      for (const [name, query, variables] of protectedOperations()) {
        const res = await server.gql(query, variables, gone.token);
        expect(res.errors?.[0]?.extensions?.code, `${name}: ${JSON.stringify(res)}`).toBe("UNAUTHENTICATED");
        expect(res.errors![0]!.message, name).toMatch(/invalid or was revoked/);
      }
      expect(await server.gql(STATE, { g: guildId, c: channelId }, owner.token)).toEqual(before);
    });

    it.each([
      ["a Basic credential", "Basic dXNlcjpwYXNzd29yZA=="],
      ["the word Bearer alone", "Bearer"],
      ["Bearer and spaces", "Bearer    "],
      ["a token with spaces", "Bearer abc def ghi jkl mno pqr"],
      ["a token with forbidden characters", "Bearer cnc_!!!!!!!!!!!!!!!!!!!!!!!!"],
      ["a too short token", "Bearer abc"],
    ])("rejects a malformed Authorization header (%s) with UNAUTHENTICATED, even on a mutation", async (_label, header) => {
      expectError(await rawGql(ME, header), "UNAUTHENTICATED", /not a bearer token/);
      const name = `Malformed ${++seq}`;
      expectError(await rawGql(`mutation($n: String!) { createGuild(input: { name: $n }) { id } }`, header, { n: name }), "UNAUTHENTICATED", /not a bearer token/);
    });

    it("rejects a well-formed but unknown token as invalid or revoked", async () => {
      expectError(await rawGql(ME, `Bearer cnc_${"A".repeat(43)}`), "UNAUTHENTICATED", /invalid or was revoked/);
    });

    it("treats an empty Authorization header as anonymous", async () => {
      expectError(await rawGql(ME, ""), "UNAUTHENTICATED", /Sign in first/);
    });

    it("accepts the scheme in any case and a bare token", async () => {
      for (const header of [`bearer ${owner.token}`, `BEARER ${owner.token}`, owner.token, `  Bearer ${owner.token}  `]) {
        const res = await rawGql(ME, header);
        expect(res.data?.me?.id, header).toBe(owner.id);
      }
    });
  });

  describe("users(ids)", () => {
    it("returns known users, leaves out unknown ids, and rejects malformed ids and more than 100 with BAD_USER_INPUT", async () => {
      const ada = await server.signUp("ada");
      const bob = await server.signUp("bob");
      const USERS = `query($ids: [ID!]!) { users(ids: $ids) { id username } }`;
      const found = await server.gql(USERS, { ids: [bob.id, "42", ada.id] }, ada.token);
      expect(found.data.users).toEqual([{ id: bob.id, username: bob.username }, { id: ada.id, username: ada.username }]);
      expectError(await server.gql(USERS, { ids: [bob.id, "bob"] }, ada.token), "BAD_USER_INPUT", /must be an id/, "ids[1]");
      const many = Array.from({ length: 101 }, (_, i) => String(1000 + i));
      expectError(await server.gql(USERS, { ids: many }, ada.token), "BAD_USER_INPUT", /at most 100/, "ids");
    });
  });

  describe("bots", () => {
    it("createBot returns a bot token that works for `me` and sendMessage, and me.bots lists it for its owner only", async () => {
      const owner = await server.signUp("owner");
      const stranger = await server.signUp("stranger");
      const botName = freshName("Helper.Bot");
      const created = await server.gql(CREATE_BOT, { u: botName }, owner.token);
      expect(created.errors).toBeUndefined();
      const bot = created.data.createBot;
      expect(bot.user).toMatchObject({ username: botName, bot: true });

      expect(await server.gql(ME, {}, bot.token)).toEqual({ data: { me: { id: bot.user.id, username: botName, bot: true } } });
      expect((await server.gql(MY_BOTS, {}, owner.token)).data.me.bots).toEqual([bot.user]);
      // Someone else looking at the owner sees no bots.
      const seen = await server.gql(`query($u: ID!) { users(ids: [$u]) { id bots { id } } }`, { u: owner.id }, stranger.token);
      expect(seen.data.users).toEqual([{ id: owner.id, bots: [] }]);

      // The bot posts in a DM with its owner (bots have no friends: it joins the owner's guild
      // to reach them); the owner reads it as the bot's message.
      const guild = await server.gql(`mutation { createGuild(input: { name: "Bot Home" }) { id } }`, {}, owner.token);
      const invite = await server.gql(`mutation($g: ID!) { createInvite(input: { guildId: $g }) { code } }`, { g: guild.data.createGuild.id }, owner.token);
      expect((await server.gql(`mutation($c: String!) { joinGuild(code: $c) { id } }`, { c: invite.data.createInvite.code }, bot.token)).errors).toBeUndefined();
      const dm = await server.gql(`mutation($u: ID!) { openDirectMessage(userIds: [$u]) { id } }`, { u: owner.id }, bot.token);
      const channelId = dm.data.openDirectMessage.id;
      const sent = await server.gql(`mutation($c: ID!) { sendMessage(input: { channelId: $c, content: "beep" }) { id author { id bot } } }`, { c: channelId }, bot.token);
      expect(sent.errors).toBeUndefined();
      expect(sent.data.sendMessage.author).toEqual({ id: bot.user.id, bot: true });
      const history = await server.gql(`query($c: ID!) { channel(id: $c) { messages { edges { node { content author { username } } } } } }`, { c: channelId }, owner.token);
      expect(history.data.channel.messages.edges).toEqual([{ node: { content: "beep", author: { username: botName } } }]);
    });

    it("forbids bots from creating bots and creates nothing", async () => {
      const owner = await server.signUp("owner");
      const bot = (await server.gql(CREATE_BOT, { u: freshName("bot") }, owner.token)).data.createBot;
      const childName = freshName("child");
      expectError(await server.gql(CREATE_BOT, { u: childName }, bot.token), "FORBIDDEN", /Bots cannot create bots/);
      expect((await server.gql(MY_BOTS, {}, bot.token)).data.me.bots).toEqual([]);
      expect((await server.gql(MY_BOTS, {}, owner.token)).data.me.bots).toEqual([bot.user]);
      // The child's name is still free.
      expect((await server.gql(CREATE_BOT, { u: childName }, owner.token)).errors).toBeUndefined();
    });

    it("rejects a bad bot username with BAD_USER_INPUT username and a taken one with CONFLICT, creating nothing", async () => {
      const owner = await server.signUp("owner");
      for (const username of ["b", "b".repeat(33), "bad bot", "bad-bot"]) {
        expectError(await server.gql(CREATE_BOT, { u: username }, owner.token), "BAD_USER_INPUT", /2 to 32|only letters/, "username");
      }
      expectError(await server.gql(CREATE_BOT, { u: owner.username.toUpperCase() }, owner.token), "CONFLICT", /taken/);
      expect((await server.gql(MY_BOTS, {}, owner.token)).data.me.bots).toEqual([]);
    });
  });

  describe("resetBotToken", () => {
    it("kills every old token of the bot (HTTP and open subscriptions) and returns a working one", async () => {
      const owner = await server.signUp("owner");
      const bot = (await server.gql(CREATE_BOT, { u: freshName("bot") }, owner.token)).data.createBot;
      const sibling = (await server.gql(CREATE_BOT, { u: freshName("sib") }, owner.token)).data.createBot;
      const live = subscribe(server.ws(bot.token), USER_EVENTS);
      await waitForSubscribers(server, `user:${bot.user.id}`, 1);

      const reset = await server.gql(RESET_BOT, { b: bot.user.id }, owner.token);
      expect(reset.errors).toBeUndefined();
      expect(reset.data.resetBotToken.user).toEqual(bot.user);
      const fresh = reset.data.resetBotToken.token as string;
      expect(fresh).not.toBe(bot.token);

      expectError(await server.gql(ME, {}, bot.token), "UNAUTHENTICATED", /invalid or was revoked/);
      expectError(await ending(live), "UNAUTHENTICATED", /session ended|token reset/);
      expect((await server.gql(ME, {}, fresh)).data.me).toEqual(bot.user);
      // Other bots of the same owner keep their tokens.
      expect((await server.gql(ME, {}, sibling.token)).data.me).toEqual(sibling.user);
    });

    it("rejects someone else's bot, a person, an unknown id and a malformed id with BAD_USER_INPUT botId, changing nothing", async () => {
      const owner = await server.signUp("owner");
      const thief = await server.signUp("thief");
      const bot = (await server.gql(CREATE_BOT, { u: freshName("bot") }, owner.token)).data.createBot;
      for (const id of [bot.user.id, owner.id, thief.id, "1234567"]) {
        expectError(await server.gql(RESET_BOT, { b: id }, thief.token), "BAD_USER_INPUT", /bot you created/, "botId");
      }
      expectError(await server.gql(RESET_BOT, { b: "not-an-id" }, owner.token), "BAD_USER_INPUT", /must be an id/, "botId");
      // A bot cannot reset itself either (it is not its own owner).
      expectError(await server.gql(RESET_BOT, { b: bot.user.id }, bot.token), "BAD_USER_INPUT", /bot you created/, "botId");
      // Nothing changed: the bot's token, the owner's and the thief's still work.
      expect((await server.gql(ME, {}, bot.token)).data.me).toEqual(bot.user);
      expect((await server.gql(ME, {}, owner.token)).data.me.id).toBe(owner.id);
      expect((await server.gql(ME, {}, thief.token)).data.me.id).toBe(thief.id);
      expect((await server.gql(MY_BOTS, {}, thief.token)).data.me.bots).toEqual([]);
    });
  });

  describe("WebSocket authentication", () => {
    it.each([
      ["`authorization: Bearer <token>`", (token: string) => ({ authorization: `Bearer ${token}` })],
      ["`authorization: <token>` without the Bearer prefix", (token: string) => ({ authorization: token })],
      ["`Authorization: Bearer <token>`", (token: string) => ({ Authorization: `Bearer ${token}` })],
    ])("accepts %s in connection_init: userEvents delivers", async (_label, params) => {
      const ada = await server.signUp("ada");
      const sub = subscribe(server.ws(undefined, params(ada.token)), USER_EVENTS);
      await waitForSubscribers(server, `user:${ada.id}`, 1);
      const guild = await createGuild(ada.token, "Live Guild");
      const events = await sub.waitFor(1);
      expect(events[0]).toEqual({ data: { userEvents: { __typename: "GuildJoined", guild: { id: guild.id, name: "Live Guild" } } } });
    });

    it("rejects a subscription without a token with UNAUTHENTICATED", async () => {
      const sub = subscribe(server.ws(), USER_EVENTS);
      expectError(await ending(sub), "UNAUTHENTICATED", /Sign in first/);
      const channel = subscribe(server.ws(), CHANNEL_EVENTS, { c: "123" });
      expectError(await ending(channel), "UNAUTHENTICATED", /Sign in first/);
      const guild = subscribe(server.ws(), `subscription { guildEvents(guildId: "123") { __typename } }`);
      expectError(await ending(guild), "UNAUTHENTICATED", /Sign in first/);
      const everything = subscribe(server.ws(), `subscription { messageEvents { __typename } }`);
      expectError(await ending(everything), "UNAUTHENTICATED", /Sign in first/);
    });

    it("refuses a socket whose connection_init token is unknown or malformed: closed with 4401 (not retried), saying why", async () => {
      const closeOf = async (sub: ReturnType<typeof subscribe>) => (await ending(sub)).errors![0] as unknown as { code: number; reason: string };
      const unknown = await closeOf(subscribe(server.ws(undefined, { authorization: `Bearer cnc_${"B".repeat(43)}` }), USER_EVENTS));
      expect(unknown.code).toBe(4401);
      expect(unknown.reason).toMatch(/invalid or was revoked/);
      const malformed = await closeOf(subscribe(server.ws(undefined, { authorization: 42 }), USER_EVENTS));
      expect(malformed.code).toBe(4401);
      expect(malformed.reason).toMatch(/not a bearer token/);
    });
  });
});
