import { afterAll, beforeAll, describe, expect, it } from "vitest";
import pg from "pg";
import WebSocket from "ws";
import { createClient } from "graphql-ws";
import { eventually } from "../support/assertions.js";
import { createScratchDatabase } from "../support/databases.js";
import { startConcord, type ConcordProcess } from "../support/processes.js";
import { requireService, TEST_POSTGRES_URL } from "../support/services.js";

/**
 * SIGTERM drains a real process: readiness turns false at once, new upgrades and SSE streams are
 * refused, HTTP requests are still answered during DRAIN_DELAY_MS (while load balancers notice),
 * open sockets are told 1012 (reconnect elsewhere) and open SSE streams are ended within
 * DRAIN_DELAY_MS + DRAIN_WINDOW_MS, an ack still buffered (ACK_FLUSH_MS is a minute) is written,
 * and the process exits 0 within SHUTDOWN_TIMEOUT_MS.
 */
const DRAIN_DELAY_MS = 1_000;
const DRAIN_WINDOW_MS = 1_500;
const SHUTDOWN_TIMEOUT_MS = 15_000;

describe.runIf(await requireService("Postgres", TEST_POSTGRES_URL))("drain on SIGTERM", () => {
  let database: Awaited<ReturnType<typeof createScratchDatabase>>;
  let proc: ConcordProcess;

  beforeAll(async () => {
    database = await createScratchDatabase("concord_drain");
    proc = await startConcord({
      name: "D",
      env: {
        DATABASE_URL: database.url,
        PASSWORD_HASH_COST: "10",
        LOG_LEVEL: "warn",
        GRAPHIQL: "false",
        ACK_FLUSH_MS: "60000",
        DRAIN_WINDOW_MS: String(DRAIN_WINDOW_MS),
        DRAIN_DELAY_MS: String(DRAIN_DELAY_MS),
        SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS),
      },
    });
  }, 90_000);

  afterAll(async () => {
    await proc?.stop(2_000);
    await database?.drop().catch(() => {});
  }, 30_000);

  it("turns unready, refuses upgrades and SSE streams, still answers requests, closes sockets with 1012 and streams, flushes acks and exits 0", async () => {
    const ok = async (query: string, variables: Record<string, unknown>, token?: string) => {
      const res = await proc.gql(query, variables, token);
      if (res.errors) throw new Error(JSON.stringify(res.errors));
      return res.data;
    };
    const origin = `http://127.0.0.1:${proc.port}`;
    // The first round of pings of a cold process may take longer than the check's timeout.
    await eventually(async () => expect((await fetch(`${origin}/readyz`)).status).toBe(200), 10_000);
    const registered = (await ok(`mutation { register(input: { username: "drainer", password: "correct horse" }) { token user { id } } }`, {})).register;
    const user = { token: registered.token as string, id: registered.user.id as string };
    const guild = (await ok(`mutation { createGuild(input: { name: "Drain" }) { id channels { id } } }`, {}, user.token)).createGuild;
    const channelId: string = guild.channels[0].id;
    const messageId: string = (await ok(`mutation($c: ID!) { sendMessage(input: { channelId: $c, content: "last words" }) { id } }`, { c: channelId }, user.token)).sendMessage.id;

    // A live socket with a subscription, and the close code it gets.
    const closed = new Promise<{ code: number; at: number }>((resolve) => {
      const client = createClient({
        url: proc.wsUrl,
        webSocketImpl: WebSocket,
        lazy: false,
        retryAttempts: 0,
        connectionParams: { authorization: `Bearer ${user.token}` },
        onNonLazyError: () => {},
        on: { closed: (event) => resolve({ code: (event as { code: number }).code, at: Date.now() }) },
      });
      client.subscribe({ query: `subscription($c: ID!) { channelEvents(channelId: $c) { __typename } }`, variables: { c: channelId } }, { next: () => {}, error: () => {}, complete: () => {} });
    });
    const connected = async () => {
      for (let i = 0; i < 100; i++) {
        if ((await ok(`query($u: [ID!]!) { presence(userIds: $u) { status } }`, { u: [user.id] }, user.token)).presence[0]?.status === "ONLINE") return;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      throw new Error("the socket never came online");
    };
    await connected();
    // An SSE subscription open at SIGTERM: its response is ended by the drain.
    const sse = await fetch(`${origin}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "text/event-stream", authorization: `Bearer ${user.token}` },
      body: JSON.stringify({ query: `subscription($c: ID!) { channelEvents(channelId: $c) { __typename } }`, variables: { c: channelId } }),
    });
    expect(sse.status).toBe(200);
    const sseEnded = (async () => {
      const reader = sse.body!.getReader();
      try {
        while (!(await reader.read()).done);
      } catch {
        // A destroyed response is a dropped connection to the client: it ended.
      }
      return Date.now();
    })();
    await ok(`mutation($c: ID!, $m: ID!) { ackMessage(input: { channelId: $c, messageId: $m }) { lastReadMessageId } }`, { c: channelId, m: messageId }, user.token);

    const signalled = Date.now();
    proc.child.kill("SIGTERM");
    // Readiness turns false at once: as soon as the process has taken the signal (delivered
    // asynchronously: on a loaded box a request can get in first), within a second.
    let ready = await fetch(`${origin}/readyz`);
    for (let i = 0; i < 40 && ready.status !== 503; i++) {
      await new Promise((resolve) => setTimeout(resolve, 25));
      ready = await fetch(`${origin}/readyz`);
    }
    expect(ready.status).toBe(503);
    expect(((await ready.json()) as { failed: string[] }).failed).toContain("draining");
    // A new upgrade is refused.
    const refused = await new Promise<number>((resolve, reject) => {
      const socket = new WebSocket(proc.wsUrl, "graphql-transport-ws");
      socket.once("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0));
      socket.once("open", () => reject(new Error("upgrade accepted while draining")));
      socket.once("error", () => {});
    });
    expect(refused).toBe(503);
    // So is a new SSE stream, with a code.
    const refusedStream = await fetch(`${origin}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "text/event-stream", authorization: `Bearer ${user.token}` },
      body: JSON.stringify({ query: `subscription($c: ID!) { channelEvents(channelId: $c) { __typename } }`, variables: { c: channelId } }),
    });
    expect(refusedStream.status).toBe(503);
    expect(((await refusedStream.json()) as { errors: { extensions: { code: string } }[] }).errors[0]!.extensions.code).toBe("UNAVAILABLE");
    // Requests still in reach of this instance while load balancers notice are answered.
    // (A write that leaves the read state alone: a send would mark the sender's own message read.)
    const duringDrain = await ok(`mutation($g: ID!) { createChannel(input: { guildId: $g, name: "made-while-draining" }) { id } }`, { g: guild.id }, user.token);
    // The open socket is told to reconnect elsewhere, and the SSE stream is ended, within the window.
    const close = await closed;
    expect(close.code).toBe(1012);
    expect(close.at - signalled).toBeLessThan(DRAIN_DELAY_MS + DRAIN_WINDOW_MS + 1_000);
    expect((await sseEnded) - signalled).toBeLessThan(DRAIN_DELAY_MS + DRAIN_WINDOW_MS + 1_000);
    // The process exits 0 within the bound.
    const exit = await proc.exited;
    expect(exit).toEqual({ code: 0, signal: null });
    expect(Date.now() - signalled).toBeLessThan(SHUTDOWN_TIMEOUT_MS);
    expect(proc.logsAt("error")).toEqual([]);
    // The ack still buffered at SIGTERM was written.
    const db = new pg.Client({ connectionString: database.url });
    await db.connect();
    try {
      const rows = await db.query(`SELECT last_read_message_id::text AS id FROM read_states WHERE user_id = $1 AND channel_id = $2`, [user.id, channelId]);
      expect(rows.rows).toEqual([{ id: messageId }]);
      const made = await db.query(`SELECT name FROM channels WHERE id = $1`, [duringDrain.createChannel.id]);
      expect(made.rows).toEqual([{ name: "made-while-draining" }]);
    } finally {
      await db.end();
    }
  }, 60_000);
});
