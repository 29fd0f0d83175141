import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hashPassword } from "../../src/auth/password.js";
import { startTestServer, subscribe, waitForSubscribers, type GraphQLResponse, type TestServer } from "../support/server.js";
import { ending, eventually, expectError } from "../support/assertions.js";

/**
 * Sessions you control, over real HTTP and graphql-ws: the session list (current one, client
 * hint, times), revoking one session or all the others, changing the password (which revokes
 * the others), re-hashing weak password hashes at sign-in, and expiry by idleness and by age.
 * Every refused call is followed by a read showing that nothing changed.
 */

const PASSWORD = "correct horse";
const SESSIONS = `{ sessions { id createdAt lastUsedAt expiresAt clientHint current } }`;
const ME = `{ me { id } }`;
const LOGIN = `mutation($u: String!, $p: String!) { login(input: { username: $u, password: $p }) { token } }`;
const REVOKE = `mutation($id: ID!) { revokeSession(id: $id) }`;
const REVOKE_OTHERS = `mutation { revokeOtherSessions }`;
const CHANGE = `mutation($c: String!, $n: String!) { changePassword(input: { currentPassword: $c, newPassword: $n }) }`;
const USER_EVENTS = `subscription { userEvents { __typename ... on GuildJoined { guild { name } } } }`;
const DAY_MS = 24 * 60 * 60 * 1000;

interface Session {
  id: string;
  createdAt: string;
  lastUsedAt: string;
  expiresAt: string | null;
  clientHint: string | null;
  current: boolean;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("sessions", () => {
  let server: TestServer;
  beforeAll(async () => {
    // One step above the cheapest cost, so hashes made at the cheapest are "weak" (re-hash tests).
    server = await startTestServer({ warmUp: true, env: { PASSWORD_HASH_COST: "11" } });
  });
  afterAll(() => server?.close());

  /** POSTs one operation as a client with this User-Agent. */
  async function post(query: string, variables: Record<string, unknown>, options: { token?: string; userAgent?: string } = {}): Promise<GraphQLResponse> {
    const res = await fetch(server.url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "user-agent": options.userAgent ?? "concord-sessions-test",
        ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      },
      body: JSON.stringify({ query, variables }),
    });
    return (await res.json()) as GraphQLResponse;
  }

  async function login(username: string, userAgent?: string, password = PASSWORD): Promise<string> {
    const res = await post(LOGIN, { u: username, p: password }, { userAgent });
    expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
    return res.data.login.token as string;
  }

  async function sessionsOf(token: string): Promise<Session[]> {
    const res = await post(SESSIONS, {}, { token });
    expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
    return res.data.sessions as Session[];
  }

  /** The session a token is, seen from itself. */
  async function sessionOf(token: string): Promise<Session> {
    return (await sessionsOf(token)).find((s) => s.current)!;
  }

  async function expectSignedOut(token: string, message = /invalid or was revoked/) {
    expectError(await post(ME, {}, { token }), "UNAUTHENTICATED", message);
  }

  async function expectSignedIn(token: string, userId: string) {
    expect((await post(ME, {}, { token })).data?.me?.id).toBe(userId);
  }

  /** A graphql-ws client signed in with `token`, its userEvents subscription live, and its close code when it closes. */
  async function liveSocket(token: string, userId: string, alreadyLive: number) {
    const client = server.ws(token);
    const closed = new Promise<number>((resolve) => client.on("closed", (event) => resolve((event as { code: number }).code)));
    const events = subscribe(client, USER_EVENTS);
    await waitForSubscribers(server, `user:${userId}`, alreadyLive + 1);
    return { client, closed, events };
  }

  async function createGuild(token: string, name: string) {
    const res = await post(`mutation($n: String!) { createGuild(input: { name: $n }) { id } }`, { n: name }, { token });
    expect(res.errors).toBeUndefined();
  }

  describe("sessions", () => {
    it("lists your sessions, most recently used first, with times, client hint and which one is current", async () => {
      const registeredAt = Date.now();
      const ada = await post(`mutation($u: String!, $p: String!) { register(input: { username: $u, password: $p }) { token user { id } } }`, {
        u: `ada_${process.pid}`,
        p: PASSWORD,
      }, { userAgent: "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0" });
      const laptop = ada.data.register.token as string;
      const phone = await login(`ada_${process.pid}`, "ConcordMobile/3.2 (iPhone; iOS 18.1)");
      const bystander = await server.signUp("bystander");

      const fromPhone = await sessionsOf(phone);
      expect(fromPhone.map((s) => [s.clientHint, s.current])).toEqual([
        ["ConcordMobile/3.2 (iPhone; iOS 18.1)", true],
        ["Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0", false],
      ]);
      for (const s of fromPhone) {
        expect(s.id).toMatch(/^\d+$/);
        const created = Date.parse(s.createdAt);
        expect(created).toBeGreaterThanOrEqual(registeredAt - 1_000);
        expect(created).toBeLessThanOrEqual(Date.now());
        expect(Date.parse(s.lastUsedAt)).toBeGreaterThanOrEqual(created);
        // Not used for 30 days (the default), it stops working.
        expect(Date.parse(s.expiresAt!)).toBe(Date.parse(s.lastUsedAt) + 30 * DAY_MS);
      }
      expect(new Set(fromPhone.map((s) => s.id)).size).toBe(2);
      // The same list from the laptop: only `current` moves.
      const fromLaptop = await sessionsOf(laptop);
      expect(fromLaptop.map((s) => [s.id, s.current])).toEqual(fromPhone.map((s) => [s.id, !s.current]));
      // Nobody else's session is listed, and neither tokens nor their hashes are ever shown.
      expect((await sessionsOf(bystander.token)).map((s) => s.current)).toEqual([true]);
      const raw = JSON.stringify(await post(SESSIONS, {}, { token: phone }));
      for (const token of [laptop, phone]) {
        expect(raw).not.toContain(token);
        expect(raw).not.toContain(createHash("sha256").update(token).digest("hex"));
      }
    });

    it("records the `client` connection param of a sign-in over graphql-ws, cleaned of controls and bidi overrides", async () => {
      const user = await server.signUp("wsclient");
      const client = server.ws(undefined, { client: "Concord\u202E Desktop\u0000 2.0\n(Windows)" });
      const signIn = subscribe(client, LOGIN, { u: user.username, p: PASSWORD });
      const [result] = await signIn.waitFor(1);
      const token = result!.data.login.token as string;
      expect((await sessionOf(token)).clientHint).toBe("Concord Desktop 2.0 (Windows)");
      client.dispose();
    });

    it("lists at most the 100 most recently used sessions", async () => {
      const user = await server.signUp("many");
      const first = await sessionOf(user.token);
      const tokens = [user.token];
      for (let i = 0; i < 100; i++) tokens.push(await login(user.username, `device-${i}`));
      const listed = await sessionsOf(tokens[100]!);
      expect(listed).toHaveLength(100);
      expect(listed[0]).toMatchObject({ current: true, clientHint: "device-99" });
      // Left out: the least recently used, the registration's session (used once, right after sign-up).
      expect(listed.map((s) => s.id)).not.toContain(first.id);
      expect(listed[99]).toMatchObject({ clientHint: "device-0" });
    });

    it("refuses every session operation without a token, and writes nothing", async () => {
      const ada = await server.signUp("anon");
      const [mine] = await sessionsOf(ada.token);
      for (const [query, variables] of [
        [SESSIONS, {}],
        [REVOKE, { id: mine!.id }],
        [REVOKE_OTHERS, {}],
        [CHANGE, { c: PASSWORD, n: "a brand new passphrase" }],
      ] as const) {
        expectError(await post(query, variables), "UNAUTHENTICATED", /Sign in first/);
      }
      await expectSignedIn(ada.token, ada.id);
      await login(ada.username);
    });
  });

  describe("revokeSession", () => {
    it("signs one session out everywhere: HTTP refuses its token, its subscriptions end, its socket closes with 4401; the others keep working", async () => {
      const ada = await server.signUp("revoke");
      const phone = await login(ada.username, "phone");
      const stolen = await liveSocket(ada.token, ada.id, 0);
      const kept = await liveSocket(phone, ada.id, 1);
      const victim = await sessionOf(ada.token);

      expect((await post(REVOKE, { id: victim.id }, { token: phone })).data).toEqual({ revokeSession: true });
      await expectSignedOut(ada.token);
      expectError(await ending(stolen.events), "UNAUTHENTICATED", /session ended/i);
      expect(await stolen.closed).toBe(4401);

      await expectSignedIn(phone, ada.id);
      expect((await sessionsOf(phone)).map((s) => s.id)).not.toContain(victim.id);
      await createGuild(phone, "Still Here");
      const [event] = await kept.events.waitFor(1);
      expect(event!.data).toEqual({ userEvents: { __typename: "GuildJoined", guild: { name: "Still Here" } } });
      // A new socket with the revoked token is refused at connection_init.
      const retry = server.ws(ada.token);
      const code = await new Promise<number>((resolve) => retry.on("closed", (e) => resolve((e as { code: number }).code)));
      expect(code).toBe(4401);
    });

    it("of the current session is a logout", async () => {
      const ada = await server.signUp("selfrevoke");
      const other = await login(ada.username);
      const mine = await sessionOf(ada.token);
      expect((await post(REVOKE, { id: mine.id }, { token: ada.token })).data).toEqual({ revokeSession: true });
      await expectSignedOut(ada.token);
      await expectSignedIn(other, ada.id);
    });

    it("answers NOT_FOUND for a session that is not yours (or no longer exists) and revokes nothing", async () => {
      const ada = await server.signUp("owner");
      const eve = await server.signUp("eve");
      const adaSession = await sessionOf(ada.token);
      const eveSecond = await login(eve.username);
      const eveSecondSession = await sessionOf(eveSecond);
      expectError(await post(REVOKE, { id: adaSession.id }, { token: eve.token }), "NOT_FOUND", new RegExp(`Session ${adaSession.id} not found`));
      await expectSignedIn(ada.token, ada.id);
      expectError(await post(REVOKE, { id: "12345" }, { token: eve.token }), "NOT_FOUND", /not found/);
      expect((await post(REVOKE, { id: eveSecondSession.id }, { token: eve.token })).data).toEqual({ revokeSession: true });
      expectError(await post(REVOKE, { id: eveSecondSession.id }, { token: eve.token }), "NOT_FOUND", /not found/);
      expectError(await post(REVOKE, { id: "not-an-id" }, { token: eve.token }), "BAD_USER_INPUT", /must be an id/, "id");
      expect((await sessionsOf(eve.token)).map((s) => s.current)).toEqual([true]);
    });
  });

  describe("revokeOtherSessions", () => {
    it("signs out every other session, with its subscriptions and sockets, and keeps the current one and its socket", async () => {
      const ada = await server.signUp("others");
      const [tablet, phone] = [await login(ada.username, "tablet"), await login(ada.username, "phone")];
      const tabletSocket = await liveSocket(tablet, ada.id, 0);
      const phoneSocket = await liveSocket(phone, ada.id, 1);
      const ownSocket = await liveSocket(ada.token, ada.id, 2);

      expect((await post(REVOKE_OTHERS, {}, { token: ada.token })).data).toEqual({ revokeOtherSessions: 2 });
      for (const token of [tablet, phone]) await expectSignedOut(token);
      for (const socket of [tabletSocket, phoneSocket]) {
        expectError(await ending(socket.events), "UNAUTHENTICATED", /session ended/i);
        expect(await socket.closed).toBe(4401);
      }
      await expectSignedIn(ada.token, ada.id);
      expect((await sessionsOf(ada.token)).map((s) => s.current)).toEqual([true]);
      // The current socket lives on and still delivers.
      await createGuild(ada.token, "Only Me");
      const [event] = await ownSocket.events.waitFor(1);
      expect(event!.data).toEqual({ userEvents: { __typename: "GuildJoined", guild: { name: "Only Me" } } });
      expect((await post(REVOKE_OTHERS, {}, { token: ada.token })).data, "nothing left to revoke").toEqual({ revokeOtherSessions: 0 });
    });
  });

  describe("changePassword", () => {
    it("refuses a wrong current password without saying more, and changes nothing", async () => {
      const ada = await server.signUp("wrongpw");
      const other = await login(ada.username);
      for (const newPassword of ["a fine new passphrase", "short"]) {
        expectError(await post(CHANGE, { c: "not my password", n: newPassword }, { token: ada.token }), "BAD_USER_INPUT", /^The current password is wrong\.$/, "currentPassword");
      }
      await expectSignedIn(other, ada.id);
      await login(ada.username, undefined, PASSWORD);
    });

    it.each([
      ["too short", "tiny pw", /at least 10 characters/],
      ["a common password", "password123", /most common passwords/],
      ["the current password", PASSWORD, /must differ from the current password/],
    ])("refuses a new password that is %s, and changes nothing", async (_label, newPassword, message) => {
      const ada = await server.signUp("weakpw");
      const other = await login(ada.username);
      expectError(await post(CHANGE, { c: PASSWORD, n: newPassword }, { token: ada.token }), "BAD_USER_INPUT", message, "newPassword");
      await expectSignedIn(other, ada.id);
      await login(ada.username, undefined, PASSWORD);
    });

    it("refuses the username as the new password", async () => {
      const ada = await server.signUp("samepw");
      expectError(await post(CHANGE, { c: PASSWORD, n: ada.username.toUpperCase() }, { token: ada.token }), "BAD_USER_INPUT", /must not be your username/, "newPassword");
      await login(ada.username, undefined, PASSWORD);
    });

    it("changes the password and signs out every other session (sockets close with 4401); this one stays", async () => {
      const ada = await server.signUp("newpw");
      const thief = await login(ada.username, "someone else's laptop");
      const thiefSocket = await liveSocket(thief, ada.id, 0);
      const NEW = "a much longer passphrase";

      expect((await post(CHANGE, { c: PASSWORD, n: NEW }, { token: ada.token })).data).toEqual({ changePassword: true });
      await expectSignedOut(thief);
      expectError(await ending(thiefSocket.events), "UNAUTHENTICATED", /session ended/i);
      expect(await thiefSocket.closed).toBe(4401);
      await expectSignedIn(ada.token, ada.id);
      expectError(await post(LOGIN, { u: ada.username, p: PASSWORD }), "UNAUTHENTICATED", /Invalid username or password/);
      const fresh = await login(ada.username, undefined, NEW);
      expect((await sessionsOf(fresh)).length).toBe(2);
    });

    it("is for people: a bot, which has no password, is FORBIDDEN", async () => {
      const owner = await server.signUp("botowner");
      const bot = await post(`mutation($u: String!) { createBot(input: { username: $u }) { token } }`, { u: `pwbot_${process.pid}` }, { token: owner.token });
      const botToken = bot.data.createBot.token as string;
      expectError(await post(CHANGE, { c: "", n: "a brand new passphrase" }, { token: botToken }), "FORBIDDEN", /Bots have no password/);
      // A bot's token does not expire.
      expect((await sessionOf(botToken)).expiresAt).toBeNull();
    });
  });

  describe("re-hashing at sign-in", () => {
    it("re-hashes a password stored at a lower cost than configured, in the background, and the password keeps working", async () => {
      const { services } = server.app;
      const username = `oldhash_${process.pid}`;
      const weak = await hashPassword(PASSWORD, 10);
      await services.accounts.createUser({ id: services.newId(), username, passwordHash: weak, bot: false, botOwnerId: null });
      await login(username);
      await eventually(async () => {
        expect((await services.accounts.findCredentials(username))?.passwordHash).toMatch(/^scrypt\$11\$/);
      });
      await login(username);
      expectError(await post(LOGIN, { u: username, p: "not the password" }), "UNAUTHENTICATED", /Invalid username or password/);
    });

    it("leaves a hash at the configured cost as it is", async () => {
      const ada = await server.signUp("sameCost");
      const { services } = server.app;
      const before = (await services.accounts.findCredentials(ada.username))?.passwordHash;
      expect(before).toMatch(/^scrypt\$11\$/);
      await login(ada.username);
      await sleep(200);
      expect((await services.accounts.findCredentials(ada.username))?.passwordHash).toBe(before);
    });
  });
});

// The two tests wait out seconds of real time: side by side, they take as long as one.
describe.concurrent("session expiry (SESSION_IDLE_DAYS, SESSION_MAX_DAYS in fractions of a day)", () => {
  // 2.6 s idle and 6.9 s absolute: long enough to use a token several times, short enough to wait out.
  const IDLE_MS = 0.00003 * DAY_MS;
  const MAX_MS = 0.00008 * DAY_MS;
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ env: { SESSION_IDLE_DAYS: "0.00003", SESSION_MAX_DAYS: "0.00008" } });
  });
  afterAll(() => server?.close());

  const me = (token: string) => server.gql(ME, {}, token);

  it("keeps a session in use alive past the idle time, expires it when left idle, and then forgets it", async () => {
    const ada = await server.signUp("idle");
    const started = Date.now();
    // Used every 0.5 s for longer than the idle time: each use counts (recorded within a tenth of it).
    while (Date.now() - started < IDLE_MS + 1_500) {
      expect((await me(ada.token)).data?.me?.id).toBe(ada.id);
      await sleep(500);
    }
    const other = await server.signUp("idle_other");
    expect((await me(other.token)).data?.me?.id).toBe(other.id);
    await sleep(IDLE_MS + 300);
    expectError(await me(ada.token), "UNAUTHENTICATED", /session expired/);
    // Its row is gone: from now on it is an unknown token.
    expectError(await me(ada.token), "UNAUTHENTICATED", /invalid or was revoked/);
    // Used once right after sign-in and then left idle just as long: expired too.
    expectError(await me(other.token), "UNAUTHENTICATED", /session expired/);
  });

  it("expires a session at the absolute limit however much it is used, and leaves expired ones out of the list", async () => {
    const ada = await server.signUp("absolute");
    const signedInAt = Date.now();
    const [listed] = (await server.ok(`{ sessions { createdAt expiresAt } }`, {}, ada.token)).sessions as Session[];
    expect(Date.parse(listed!.expiresAt!)).toBeLessThanOrEqual(Date.parse(listed!.createdAt) + MAX_MS);
    while (Date.now() - signedInAt < MAX_MS - 800) {
      expect((await me(ada.token)).data?.me?.id).toBe(ada.id);
      await sleep(400);
    }
    const late = await server.ok(LOGIN, { u: ada.username, p: PASSWORD }, "");
    await sleep(signedInAt + MAX_MS + 300 - Date.now());
    expectError(await me(ada.token), "UNAUTHENTICATED", /session expired/);
    const sessions = (await server.ok(`{ sessions { current } }`, {}, late.login.token)).sessions as Session[];
    expect(sessions.map((s) => s.current), "only the later sign-in is left").toEqual([true]);
  });
});
