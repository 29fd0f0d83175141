import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually } from "../support/assertions.js";
import { startTestServer, type TestServer } from "../support/server.js";

/** One Prometheus text-format sample: name, labels, value. */
interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses Prometheus text exposition (comments skipped; label values without escaped quotes, as ours are). */
function parsePrometheus(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) throw new Error(`not a Prometheus sample line: ${line}`);
    const labels = Object.fromEntries([...(match[2] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]));
    samples.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return samples;
}

const TOKEN = "scrape-token-for-tests";

describe("GET /metrics", () => {
  let server: TestServer;
  const metricsUrl = () => server.url.replace(/\/graphql$/, "/metrics");
  const scrape = async () => {
    const res = await fetch(metricsUrl(), { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/plain");
    return parsePrometheus(await res.text());
  };
  const value = (samples: Sample[], name: string, labels: Record<string, string> = {}) =>
    samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)).reduce((sum, s) => sum + s.value, 0);

  beforeAll(async () => {
    server = await startTestServer({ env: { METRICS_TOKEN: TOKEN } });
  }, 60_000);

  afterAll(async () => {
    await server?.close();
  });

  it("refuses scrapes without the token", async () => {
    expect((await fetch(metricsUrl())).status).toBe(401);
    expect((await fetch(metricsUrl(), { headers: { authorization: "Bearer wrong" } })).status).toBe(401);
  });

  it("reports sockets, subscriptions, events, delivery latency, operations and process series", async () => {
    const user = await server.signUp("metrics");
    const guild = await server.ok(`mutation { createGuild(input: { name: "Metered" }) { channels { id } } }`, {}, user.token);
    const channelId: string = guild.createGuild.channels[0].id;
    const received: unknown[] = [];
    const client = server.ws(user.token);
    client.subscribe({ query: `subscription($c: ID!) { channelEvents(channelId: $c) { __typename } }`, variables: { c: channelId } }, { next: (r) => received.push(r), error: () => {}, complete: () => {} });
    await eventually(async () => expect(value(await scrape(), "concord_subscriptions_active", { stream: "channelEvents" })).toBe(1), 10_000);
    for (let i = 0; i < 3; i++) await server.ok(`mutation($c: ID!) { sendMessage(input: { channelId: $c, content: "count me" }) { id } }`, { c: channelId }, user.token);
    await eventually(() => expect(received.length).toBeGreaterThanOrEqual(3), 10_000);
    const refused = await server.gql(`mutation { sendMessage(input: { channelId: "1", content: "nowhere" }) { id } }`, {}, user.token);
    expect(refused.errors?.[0]?.extensions?.code).toBeDefined();

    // Refused before execution: a parse error and a validation error count too.
    expect((await server.gql(`query { me { id `, {}, user.token)).errors?.length).toBe(1);
    expect((await server.gql(`query { me { noSuchField } }`, {}, user.token)).errors?.length).toBeGreaterThan(0);

    const samples = await scrape();
    expect(value(samples, "concord_graphql_errors_total", { operation_type: "unknown", code: "GRAPHQL_PARSE_FAILED" })).toBe(1);
    expect(value(samples, "concord_graphql_errors_total", { operation_type: "query", code: "GRAPHQL_VALIDATION_FAILED" })).toBeGreaterThanOrEqual(1);
    expect(value(samples, "concord_websockets_open")).toBe(1);
    expect(value(samples, "concord_events_published_total")).toBeGreaterThanOrEqual(3);
    expect(value(samples, "concord_events_delivered_total")).toBeGreaterThanOrEqual(3);
    // Sampled once per message: 3 messages, each well under a minute old when written.
    expect(value(samples, "concord_message_delivery_latency_seconds_count")).toBe(3);
    const latencySum = value(samples, "concord_message_delivery_latency_seconds_sum");
    expect(latencySum).toBeGreaterThanOrEqual(0);
    expect(latencySum).toBeLessThan(30);
    expect(value(samples, "concord_send_message_duration_seconds_count", { store: "postgres" })).toBe(4);
    expect(value(samples, "concord_graphql_operation_duration_seconds_count", { operation_type: "mutation" })).toBeGreaterThanOrEqual(6);
    expect(value(samples, "concord_graphql_errors_total", { operation_type: "mutation", code: refused.errors![0]!.extensions!.code! })).toBe(1);
    expect(samples.some((s) => s.name === "concord_rate_limit_refusals_total" || s.name === "concord_slow_consumer_closes_total")).toBe(true);
    expect(samples.some((s) => s.name === "nodejs_eventloop_lag_seconds")).toBe(true);
    expect(value(samples, "process_resident_memory_bytes")).toBeGreaterThan(0);
    // No ids as labels.
    for (const sample of samples) for (const label of Object.values(sample.labels)) expect(label).not.toMatch(/^\d{10,}$/);

    await client.dispose();
    await eventually(async () => {
      const after = await scrape();
      expect(value(after, "concord_websockets_open")).toBe(0);
      expect(value(after, "concord_subscriptions_active", { stream: "channelEvents" })).toBe(0);
    }, 10_000);
  }, 60_000);
});
