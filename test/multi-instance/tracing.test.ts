import { randomBytes } from "node:crypto";
import { createClient, type Client } from "graphql-ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { eventually } from "../support/assertions.js";
import { createScratchDatabase } from "../support/databases.js";
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from "../support/otlp-receiver.js";
import { startConcord, type ConcordProcess } from "../support/processes.js";
import { dropClusterKeys } from "../support/redis-cluster.js";
import { dropRedisKeys } from "../support/redis-keys.js";
import { requireRedisCluster, requireService, TEST_POSTGRES_URL, TEST_REDIS_CLUSTER_NODES } from "../support/services.js";

/**
 * One trace across instances: two Concord processes (A and B) export spans over OTLP/HTTP to a
 * receiver in this test, a client subscribed on B hears a message sent through A, and the trace
 * of that sendMessage holds A's operation, store and publish spans and B's delivery span. A third
 * process (C) without any OTEL_* variable on the same Redis sends nothing. Runs on the shared
 * Redis and again on the Redis Cluster (sharded pub/sub carries the trace context too).
 */

const REDIS_URL = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";
const postgres = await requireService("Postgres", TEST_POSTGRES_URL);
const backends: { title: string; enabled: boolean; env: Record<string, string>; deleteKeys(prefix: string): Promise<void> }[] = [
  { title: "the shared Redis", enabled: postgres && (await requireService("Redis", REDIS_URL)), env: { REDIS_URL }, deleteKeys: (prefix) => dropRedisKeys(REDIS_URL, prefix) },
  { title: "the Redis Cluster", enabled: postgres && (await requireRedisCluster()), env: { REDIS_CLUSTER_NODES: TEST_REDIS_CLUSTER_NODES }, deleteKeys: dropClusterKeys },
];

const CHANNEL_EVENTS = `subscription($c: ID!) { channelEvents(channelId: $c) { __typename ... on MessageCreated { message { id } } } }`;
const SEND = `mutation SendMessage($c: ID!, $t: String!) { sendMessage(input: { channelId: $c, content: $t }) { id } }`;

/** The `service.instance.id` a process announced in its "tracing on" log line. */
function instanceIdOf(proc: ConcordProcess): string {
  const line = proc.logs.find((l) => l.includes('"message":"tracing on"'));
  if (!line) throw new Error(`${proc.name} logged no "tracing on" line:\n${proc.tail()}`);
  return JSON.parse(line).serviceInstanceId;
}

for (const backend of backends)
  describe.runIf(backend.enabled)(`traces across instances on ${backend.title}`, () => {
    const suffix = randomBytes(5).toString("hex");
    const prefix = `concord-tracing-${suffix}:`;
    let database: Awaited<ReturnType<typeof createScratchDatabase>> | undefined;
    let receiver: OtlpReceiver;
    const procs: ConcordProcess[] = [];
    let A: ConcordProcess, B: ConcordProcess, C: ConcordProcess;
    let client: Client | undefined;

    const ok = async (proc: ConcordProcess, query: string, variables: Record<string, unknown>, token?: string) => {
      const res = await proc.gql(query, variables, token);
      if (res.errors) throw new Error(`${proc.name}: ${JSON.stringify(res.errors)}`);
      return res.data;
    };

    beforeAll(async () => {
      receiver = await startOtlpReceiver();
      database = await createScratchDatabase("concord_tracing");
      const env = (workerId: number) => ({ DATABASE_URL: database!.url, ...backend.env, REDIS_KEY_PREFIX: prefix, WORKER_ID: String(workerId), PASSWORD_HASH_COST: "10", GRAPHIQL: "false" });
      const traced = { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint, OTEL_EXPORTER_OTLP_PROTOCOL: "http/json", OTEL_BSP_SCHEDULE_DELAY: "100", OTEL_SERVICE_NAME: "concord-test" };
      // One first, so the others do not race on migrations.
      procs.push((A = await startConcord({ name: "A", env: { ...env(21), ...traced } })));
      [B, C] = await Promise.all([startConcord({ name: "B", env: { ...env(22), ...traced } }), startConcord({ name: "C", env: env(23) })]);
      procs.push(B, C);
    }, 120_000);

    afterAll(async () => {
      await client?.dispose();
      await Promise.allSettled(procs.map((p) => p.stop(5_000)));
      await receiver?.close();
      await backend.deleteKeys(prefix);
      await database?.drop().catch(() => {});
    }, 60_000);

    it("shows one sendMessage as one trace: A's operation, store and Redis publish spans, and B's delivery", async () => {
      const owner = (await ok(A, `mutation($u: String!) { register(input: { username: $u, password: "correct horse" }) { token } }`, { u: `tracer_${suffix}` })).register.token as string;
      const channelId = (await ok(A, `mutation { createGuild(input: { name: "Traced" }) { channels { id } } }`, {}, owner)).createGuild.channels[0].id as string;

      const received: string[] = [];
      client = createClient({ url: B.wsUrl, webSocketImpl: WebSocket, retryAttempts: 0, connectionParams: { authorization: `Bearer ${owner}` } });
      client.subscribe({ query: CHANNEL_EVENTS, variables: { c: channelId } }, { next: ({ data }) => received.push((data as any).channelEvents.__typename), error: () => {}, complete: () => {} });
      await eventually(() => expect(received).toContain("Subscribed"), 10_000);

      const messageId = (await ok(A, SEND, { c: channelId, t: "a traced hello" }, owner)).sendMessage.id as string;
      await eventually(() => expect(received).toContain("MessageCreated"), 10_000);

      const a = instanceIdOf(A);
      const b = instanceIdOf(B);
      expect(a).not.toBe(b);
      let trace: ReceivedSpan[] = [];
      await eventually(() => {
        const operation = receiver.spans.find((s) => s.name === "mutation SendMessage");
        expect(operation, "the sendMessage operation span").toBeDefined();
        trace = receiver.spans.filter((s) => s.traceId === operation!.traceId);
        expect(trace.some((s) => s.name.startsWith("deliver MessageCreated"))).toBe(true);
      }, 10_000);

      const operation = trace.find((s) => s.name === "mutation SendMessage")!;
      expect(operation.resource).toMatchObject({ "service.name": "concord-test", "service.instance.id": a });
      expect(operation.attributes).toMatchObject({ "graphql.operation.type": "mutation", "graphql.operation.name": "SendMessage" });

      const store = trace.find((s) => s.name === "messages.create");
      expect(store, "the message store write").toBeDefined();
      expect(store!.resource["service.instance.id"]).toBe(a);
      expect(store!.attributes).toMatchObject({ "db.system.name": "postgresql", "db.operation.name": "create" });

      const publish = trace.find((s) => s.name === "publish channel" && s.attributes["concord.event.type"] === "MessageCreated");
      expect(publish, "the Redis publish of MessageCreated").toBeDefined();
      expect(publish!.resource["service.instance.id"]).toBe(a);
      expect(publish!.attributes).toMatchObject({ "messaging.system": "redis", "db.system.name": "redis", "messaging.destination.name": `channel:${channelId}` });

      // B's delivery is the child of A's publish: the context rode inside the event through Redis.
      const deliveries = trace.filter((s) => s.name === "deliver MessageCreated");
      const onB = deliveries.filter((s) => s.resource["service.instance.id"] === b);
      expect(onB).toHaveLength(1);
      expect(onB[0]!.parentSpanId).toBe(publish!.spanId);
      expect(onB[0]!.kind).toBe(5);

      // The subscription over B's socket has a span for its start (not one per event).
      const starts = receiver.spans.filter((s) => s.attributes["graphql.operation.type"] === "subscription");
      expect(starts.map((s) => [s.name, s.resource["service.instance.id"]])).toEqual([["subscription", b]]);

      // Nothing in any span says what the message said.
      const everything = JSON.stringify(receiver.spans);
      expect(everything).not.toContain("a traced hello");
      expect(everything).not.toContain(owner);
      expect(messageId).toMatch(/^\d+$/);
    });

    it("traces queries and mutations sent over the WebSocket too", async () => {
      const token = (await ok(B, `mutation($u: String!) { register(input: { username: $u, password: "correct horse" }) { token } }`, { u: `socket_${suffix}` })).register.token as string;
      const socket = createClient({ url: B.wsUrl, webSocketImpl: WebSocket, retryAttempts: 0, connectionParams: { authorization: `Bearer ${token}` } });
      try {
        const answer = await new Promise((resolve, reject) =>
          socket.subscribe({ query: "query WhoAmI { me { id guilds { id } } }" }, { next: resolve, error: reject, complete: () => {} }),
        );
        expect(answer).toMatchObject({ data: { me: { id: expect.any(String) } } });
      } finally {
        await socket.dispose();
      }
      await eventually(() => {
        const span = receiver.spans.find((s) => s.name === "query WhoAmI");
        expect(span?.resource["service.instance.id"]).toBe(instanceIdOf(B));
        // Its store reads are its children.
        expect(receiver.spans.some((s) => s.traceId === span!.traceId && s.parentSpanId === span!.spanId && s.attributes["db.system.name"] === "postgresql")).toBe(true);
      }, 10_000);
    });

    it("gets nothing from a process without OTEL_* variables, although it serves requests on the same Redis", async () => {
      const token = (await ok(C, `mutation($u: String!) { register(input: { username: $u, password: "correct horse" }) { token } }`, { u: `untraced_${suffix}` })).register.token as string;
      await ok(C, `mutation { createGuild(input: { name: "Dark" }) { id } }`, {}, token);
      // Spans are sent every 100 ms by A and B: wait for a few rounds.
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      const senders = new Set(receiver.spans.map((s) => s.resource["service.instance.id"]));
      expect([...senders].sort()).toEqual([instanceIdOf(A), instanceIdOf(B)].sort());
      expect(C.logs.some((l) => l.includes("tracing on"))).toBe(false);
    });

    it("answers with the request id it was sent, or a new one when it had none or a malformed one", async () => {
      const post = (headers: Record<string, string>) =>
        fetch(A.url, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify({ query: "{ __typename }" }) });
      const given = `req-${suffix}`;
      const echoed = await post({ "x-request-id": given, origin: "https://app.example" });
      expect(echoed.headers.get("x-request-id")).toBe(given);
      // A browser app may read it, to put it in a bug report.
      expect(echoed.headers.get("access-control-expose-headers")).toMatch(/X-Request-Id/);
      const fresh = (await post({})).headers.get("x-request-id");
      expect(fresh).toMatch(/^[0-9a-f-]{36}$/);
      const refused = (await post({ "x-request-id": "x".repeat(200) })).headers.get("x-request-id");
      expect(refused).toMatch(/^[0-9a-f-]{36}$/);
      expect((await post({ "x-request-id": "bad id\twith spaces" })).headers.get("x-request-id")).not.toContain(" ");
    });
  });
