import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { startTestServer, type TestServer } from "../support/server.js";

/**
 * The graphql-transport-ws protocol as Concord's own handler (src/gateway/graphql-ws-server.ts)
 * serves it, message by message and close code by close code, with raw sockets: the same wire
 * behaviour graphql-ws's server had, so every graphql-ws, Apollo and urql client keeps working.
 */

interface Raw {
  socket: WebSocket;
  messages: any[];
  closed: Promise<{ code: number; reason: string }>;
  send(message: unknown): void;
  next(predicate: (m: any) => boolean, timeoutMs?: number): Promise<any>;
}

function connect(server: TestServer, protocol: string | null = "graphql-transport-ws"): Promise<Raw> {
  const socket = protocol ? new WebSocket(server.wsUrl, protocol) : new WebSocket(server.wsUrl);
  const messages: any[] = [];
  const closed = new Promise<{ code: number; reason: string }>((resolve) => socket.once("close", (code, reason) => resolve({ code, reason: reason.toString() })));
  socket.on("message", (data) => messages.push(JSON.parse(data.toString())));
  const raw: Raw = {
    socket,
    messages,
    closed,
    send: (message) => socket.send(typeof message === "string" ? message : JSON.stringify(message)),
    async next(predicate, timeoutMs = 5_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = messages.find(predicate);
        if (found) return found;
        if (Date.now() > deadline) throw new Error(`no matching message; got ${JSON.stringify(messages)}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    },
  };
  return new Promise((resolve, reject) => {
    socket.once("error", reject);
    socket.once("open", () => resolve(raw));
  });
}

async function acknowledged(server: TestServer, token?: string): Promise<Raw> {
  const raw = await connect(server);
  raw.send({ type: "connection_init", payload: token ? { authorization: `Bearer ${token}` } : {} });
  await raw.next((m) => m.type === "connection_ack");
  return raw;
}

describe("graphql-transport-ws as served by Concord", () => {
  let server: TestServer;
  let alice: { token: string; id: string };
  let channelId: string;
  beforeAll(async () => {
    server = await startTestServer({ env: { SOCKET_INIT_TIMEOUT_MS: "1000", PRESENCE_HEARTBEAT_MS: "400" } });
    alice = await server.signUp("proto");
    const guild = await server.ok<any>(`mutation { createGuild(input: { name: "Protocol" }) { id channels { id } } }`, {}, alice.token);
    channelId = guild.createGuild.channels[0].id;
  });
  afterAll(() => server?.close());

  it("acknowledges connection_init with connection_ack and answers ping with pong, payload and all", async () => {
    const raw = await acknowledged(server, alice.token);
    expect(raw.messages).toEqual([{ type: "connection_ack" }]);
    raw.send({ type: "ping", payload: { at: 1 } });
    raw.send({ type: "ping" });
    await raw.next((m) => m.type === "pong" && m.payload?.at === 1);
    expect(raw.messages.filter((m) => m.type === "pong")).toEqual([{ type: "pong", payload: { at: 1 } }, { type: "pong" }]);
    raw.socket.close();
  });

  it("runs a query: next with the result, then complete", async () => {
    const raw = await acknowledged(server, alice.token);
    raw.send({ id: "q1", type: "subscribe", payload: { query: "{ me { id } }" } });
    await raw.next((m) => m.type === "complete" && m.id === "q1");
    expect(raw.messages.slice(1)).toEqual([
      { id: "q1", type: "next", payload: { data: { me: { id: alice.id } } } },
      { id: "q1", type: "complete" },
    ]);
    raw.socket.close();
  });

  it("answers an invalid operation with an error message (and no complete); the socket lives on", async () => {
    const raw = await acknowledged(server, alice.token);
    raw.send({ id: "bad", type: "subscribe", payload: { query: "{ nope }" } });
    const error = await raw.next((m) => m.type === "error");
    expect(error.id).toBe("bad");
    expect(error.payload[0].extensions.code).toBe("GRAPHQL_VALIDATION_FAILED");
    raw.send({ id: "ok", type: "subscribe", payload: { query: "{ me { id } }" } });
    await raw.next((m) => m.type === "complete" && m.id === "ok");
    expect(raw.messages.some((m) => m.type === "complete" && m.id === "bad")).toBe(false);
    raw.socket.close();
  });

  it("streams a subscription until the client completes it, then sends nothing more for it (and no complete)", async () => {
    const raw = await acknowledged(server, alice.token);
    raw.send({ id: "s", type: "subscribe", payload: { query: `subscription($c: ID!) { channelEvents(channelId: $c) { __typename ... on MessageCreated { message { content } } } }`, variables: { c: channelId } } });
    await raw.next((m) => m.id === "s" && m.payload?.data?.channelEvents?.__typename === "Subscribed");
    await server.ok(`mutation($c: ID!) { sendMessage(input: { channelId: $c, content: "one" }) { id } }`, { c: channelId }, alice.token);
    await raw.next((m) => m.payload?.data?.channelEvents?.message?.content === "one");
    raw.send({ id: "s", type: "complete" });
    // The same id may be used again once completed.
    raw.send({ id: "s", type: "subscribe", payload: { query: "{ me { id } }" } });
    await raw.next((m) => m.id === "s" && m.type === "complete");
    await server.ok(`mutation($c: ID!) { sendMessage(input: { channelId: $c, content: "two" }) { id } }`, { c: channelId }, alice.token);
    await new Promise((r) => setTimeout(r, 300));
    expect(raw.messages.some((m) => m.payload?.data?.channelEvents?.message?.content === "two")).toBe(false);
    expect(raw.messages.filter((m) => m.type === "complete")).toHaveLength(1);
    raw.socket.close();
  });

  it("closes with 4401 on subscribe before the acknowledgement", async () => {
    const raw = await connect(server);
    raw.send({ id: "1", type: "subscribe", payload: { query: "{ me { id } }" } });
    expect((await raw.closed).code).toBe(4401);
  });

  it("closes with 4429 on a second connection_init", async () => {
    const raw = await acknowledged(server, alice.token);
    raw.send({ type: "connection_init" });
    expect(await raw.closed).toEqual({ code: 4429, reason: "Too many initialisation requests" });
  });

  it("closes with 4409 when a live operation's id is used again", async () => {
    const raw = await acknowledged(server, alice.token);
    const subscription = { query: `subscription($c: ID!) { channelEvents(channelId: $c) { __typename } }`, variables: { c: channelId } };
    raw.send({ id: "dup", type: "subscribe", payload: subscription });
    await raw.next((m) => m.id === "dup");
    raw.send({ id: "dup", type: "subscribe", payload: subscription });
    expect(await raw.closed).toEqual({ code: 4409, reason: "Subscriber for dup already exists" });
  });

  it("closes with 4400 on a malformed message, an unknown type, or a message only servers send", async () => {
    for (const message of ["{not json", JSON.stringify({ type: "hello" }), JSON.stringify({ type: "next", id: "1", payload: {} })]) {
      const raw = await acknowledged(server, alice.token);
      raw.send(message);
      expect((await raw.closed).code, message).toBe(4400);
    }
  });

  it("closes with 4406 a socket that did not ask for graphql-transport-ws", async () => {
    // (A client asking for another subprotocol only would refuse the upgrade itself, seeing none selected.)
    const raw = await connect(server, null);
    expect(await raw.closed).toEqual({ code: 4406, reason: "Subprotocol not acceptable" });
  });

  it("closes with 4408 a socket whose connection_init does not come in time", async () => {
    const raw = await connect(server);
    const started = Date.now();
    expect(await raw.closed).toEqual({ code: 4408, reason: "Connection initialisation timeout" });
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
  });

  it("pings every socket and terminates one that stops answering pings", async () => {
    const raw = await acknowledged(server, alice.token);
    let pings = 0;
    raw.socket.on("ping", () => pings++);
    await new Promise((r) => setTimeout(r, 1_000));
    expect(pings).toBeGreaterThanOrEqual(1);
    // ws answers pings by itself; stop it from doing so, as a vanished client would.
    (raw.socket as unknown as { pong: () => void }).pong = () => {};
    (raw.socket as unknown as { _autoPong: boolean })._autoPong = false;
    expect((await raw.closed).code).toBe(1006);
  });
});
