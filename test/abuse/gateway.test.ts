import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { startTestServer, waitForSubscribers, type TestServer } from "../support/server.js";
import { DEFAULT_LIMITS_ENV, post, signUpFrom } from "./hostile-client.js";

/**
 * Hostile WebSocket clients: one socket asking for thousands of subscriptions, bad tokens at
 * connection_init, idle anonymous sockets, too many sockets per user or per address, oversized
 * and flooding messages. Raw `ws` sockets speak graphql-transport-ws by hand so the test sees
 * every message and close code exactly.
 */

interface RawSocket {
  socket: WebSocket;
  messages: any[];
  closed: Promise<{ code: number; reason: string }>;
  send(message: unknown): void;
  /** Resolves when a message matching `predicate` has arrived (or rejects after `timeoutMs`). */
  waitFor(predicate: (m: any) => boolean, timeoutMs?: number): Promise<any>;
}

function open(server: TestServer, address: string, init?: Record<string, unknown>, origin?: string): Promise<RawSocket> {
  const socket = new WebSocket(server.wsUrl, "graphql-transport-ws", { headers: { "x-forwarded-for": address, ...(origin ? { origin } : {}) } });
  const messages: any[] = [];
  const waiters: { predicate: (m: any) => boolean; resolve: (m: any) => void }[] = [];
  const closed = new Promise<{ code: number; reason: string }>((resolve) => socket.once("close", (code, reason) => resolve({ code, reason: reason.toString() })));
  socket.on("message", (data) => {
    const message = JSON.parse(data.toString());
    messages.push(message);
    for (const w of [...waiters]) if (w.predicate(message)) (waiters.splice(waiters.indexOf(w), 1), w.resolve(message));
  });
  const raw: RawSocket = {
    socket,
    messages,
    closed,
    send: (message) => socket.send(typeof message === "string" ? message : JSON.stringify(message)),
    waitFor(predicate, timeoutMs = 5_000) {
      const found = messages.find(predicate);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no matching message within ${timeoutMs} ms; got ${JSON.stringify(messages.slice(-3))}`)), timeoutMs);
        waiters.push({ predicate, resolve: (m) => (clearTimeout(timer), resolve(m)) });
      });
    },
  };
  return new Promise((resolve, reject) => {
    socket.once("unexpected-response", (_req, res) => reject(Object.assign(new Error(`upgrade refused: ${res.statusCode}`), { statusCode: res.statusCode })));
    socket.once("error", reject);
    socket.once("open", () => {
      if (init !== undefined) raw.send({ type: "connection_init", payload: init });
      resolve(raw);
    });
  });
}

const CHANNEL_EVENTS = `subscription($c: ID!) { channelEvents(channelId: $c) { __typename } }`;

describe("one socket asking for 3,000 subscriptions (default limits)", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ env: DEFAULT_LIMITS_ENV });
  }, 60_000);
  afterAll(() => server?.close());

  it("gets 100, then LIMIT_EXCEEDED without a store read; the flood is cut off and the instance keeps serving others", async () => {
    const attacker = await signUpFrom(server, "attacker");
    const bystander = await signUpFrom(server, "bystander");
    const guild = await post(server, `mutation { createGuild(input: { name: "Flood" }) { channels { id } } }`, {}, attacker);
    const channelId = guild.body.data.createGuild.channels[0].id;
    const own = await post(server, `mutation { createGuild(input: { name: "Quiet" }) { channels { id } } }`, {}, bystander);
    const quietChannel = own.body.data.createGuild.channels[0].id;

    const raw = await open(server, attacker.address, { authorization: `Bearer ${attacker.token}` });
    await raw.waitFor((m) => m.type === "connection_ack");
    for (let i = 1; i <= 3_000; i++) raw.send({ id: String(i), type: "subscribe", payload: { query: CHANNEL_EVENTS, variables: { c: channelId } } });

    // Meanwhile another user's send is served promptly.
    const started = Date.now();
    const send = await post(server, `mutation($c: ID!) { sendMessage(input: { channelId: $c, content: "still here" }) { id } }`, { c: quietChannel }, bystander);
    expect(send.body.errors).toBeUndefined();
    expect(Date.now() - started).toBeLessThan(2_000);

    await waitForSubscribers(server, `channel:${channelId}`, 100, 10_000);
    const { code } = await raw.closed;
    expect(code).toBe(4029);
    const errors = raw.messages.filter((m) => m.type === "error");
    const codes = errors.map((m) => m.payload[0].extensions.code);
    // Every operation after the 100th was refused: first by the cap, then (past the per-minute
    // message budget) by the rate limit, until the socket was closed for flooding.
    const refusedIds = errors.map((m) => Number(m.id));
    expect(Math.min(...refusedIds)).toBe(101);
    expect(codes.filter((c: string) => c === "LIMIT_EXCEEDED").length).toBeGreaterThanOrEqual(400);
    expect(new Set(codes)).toEqual(new Set(["LIMIT_EXCEEDED", "RATE_LIMITED"]));
    const capError = errors.find((m) => m.payload[0].extensions.code === "LIMIT_EXCEEDED").payload[0];
    expect(capError.extensions).toMatchObject({ resource: "subscriptionsPerSocket", limit: 100, setting: "MAX_SUBSCRIPTIONS_PER_SOCKET" });
    // The closed socket's subscriptions are gone.
    const bus = server.app.services.bus as unknown as { subscriberCount(topic: string): number };
    for (let i = 0; i < 50 && bus.subscriberCount(`channel:${channelId}`) > 0; i++) await new Promise((r) => setTimeout(r, 50));
    expect(bus.subscriberCount(`channel:${channelId}`)).toBe(0);
  }, 60_000);

  it("refuses a connection_init whose token does not authenticate with 4401 instead of acknowledging it", async () => {
    const raw = await open(server, "192.0.2.50", { authorization: "Bearer cnc_not-a-real-token-at-all-0000000000" });
    const closed = await raw.closed;
    expect(closed.code).toBe(4401);
    expect(closed.reason).toMatch(/invalid or was revoked/);
    expect(raw.messages.find((m) => m.type === "connection_ack")).toBeUndefined();
  });
});

describe("socket caps (small limits)", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({
      env: { ...DEFAULT_LIMITS_ENV, MAX_SOCKETS_PER_USER: "2", MAX_SOCKETS_PER_ADDRESS: "3", ANONYMOUS_SOCKET_IDLE_MS: "1000", MAX_SOCKET_MESSAGE_BYTES: "2000" },
    });
  }, 60_000);
  afterAll(() => server?.close());

  it("closes a user's third socket with 4029 and keeps the first two", async () => {
    const user = await signUpFrom(server, "multi");
    const init = { authorization: `Bearer ${user.token}` };
    const sockets = [await open(server, "192.0.2.60", init), await open(server, "192.0.2.61", init)];
    for (const s of sockets) await s.waitFor((m) => m.type === "connection_ack");
    const third = await open(server, "192.0.2.62", init);
    expect((await third.closed).code).toBe(4029);
    for (const s of sockets) expect(s.socket.readyState).toBe(WebSocket.OPEN);
    sockets[0]!.socket.close();
    await sockets[0]!.closed;
    const again = await open(server, "192.0.2.63", init);
    await again.waitFor((m) => m.type === "connection_ack");
    for (const s of [sockets[1]!, again]) s.socket.close();
  });

  it("refuses the upgrade of an address's fourth socket with HTTP 429", async () => {
    const sockets = await Promise.all([1, 2, 3].map(() => open(server, "192.0.2.70", {})));
    await expect(open(server, "192.0.2.70", {})).rejects.toMatchObject({ statusCode: 429 });
    const elsewhere = await open(server, "192.0.2.71", {});
    for (const s of [...sockets, elsewhere]) s.socket.close();
  });

  it("closes an anonymous socket idle past ANONYMOUS_SOCKET_IDLE_MS with 1000, but not a signed-in one", async () => {
    const user = await signUpFrom(server, "idle");
    const anonymous = await open(server, "192.0.2.80", {});
    const signedIn = await open(server, "192.0.2.81", { authorization: `Bearer ${user.token}` });
    await anonymous.waitFor((m) => m.type === "connection_ack");
    await signedIn.waitFor((m) => m.type === "connection_ack");
    const closed = await anonymous.closed;
    expect(closed.code).toBe(1000);
    await new Promise((r) => setTimeout(r, 600));
    expect(signedIn.socket.readyState).toBe(WebSocket.OPEN);
    signedIn.socket.close();
  });

  it("closes a socket that sends a message larger than MAX_SOCKET_MESSAGE_BYTES with 1009", async () => {
    const user = await signUpFrom(server, "big");
    const raw = await open(server, "192.0.2.90", { authorization: `Bearer ${user.token}` });
    await raw.waitFor((m) => m.type === "connection_ack");
    raw.send({ id: "1", type: "subscribe", payload: { query: `{ me { id } }`, variables: { pad: "x".repeat(3_000) } } });
    expect((await raw.closed).code).toBe(1009);
  });
});

describe("WebSocket upgrades from browser origins (CORS_ORIGINS set)", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ env: { ...DEFAULT_LIMITS_ENV, CORS_ORIGINS: "https://app.example.com" } });
  }, 60_000);
  afterAll(() => server?.close());

  it("refuses a page from another origin with 403, and lets listed origins and non-browser clients in", async () => {
    await expect(open(server, "192.0.2.100", {}, "https://evil.example.net")).rejects.toMatchObject({ statusCode: 403 });
    const listed = await open(server, "192.0.2.101", {}, "https://app.example.com");
    const native = await open(server, "192.0.2.102", {});
    await listed.waitFor((m) => m.type === "connection_ack");
    await native.waitFor((m) => m.type === "connection_ack");
    listed.socket.close();
    native.socket.close();
  });
});
