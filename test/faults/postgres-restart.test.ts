import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually } from "../support/assertions.js";
import { startConcord, type ConcordProcess } from "../support/processes.js";
import { requirePostgresServer, startPrivatePostgres, type PrivatePostgres } from "../support/private-postgres.js";
import { notReadyWindow, watchReadiness } from "../support/readiness-watch.js";
import { channelHistory, sendOnce, steadySends } from "../support/steady-sends.js";

/**
 * Fault tier: one Concord process on a Postgres server of the test's own (initdb in a temporary
 * directory, run as the postgres user), Postgres message store, no Redis: every send touches
 * Postgres only. 20 sends a second; the server is stopped with `pg_ctl stop -m immediate` (a
 * crash: connections cut, no checkpoint) and started again 5 s later. Measured and asserted:
 * sends fail with UNAVAILABLE, fast, while it is down, and succeed again within seconds
 * of its restart; nothing half-written (every acknowledged message is in history, and every
 * message in history was acknowledged or failed with UNAVAILABLE, which says the outcome
 * is unknown); reads recover; /readyz is 503 during the outage and 200 after.
 */

const RATE_PER_SECOND = 20;
const BEFORE_CRASH_MS = 2_000;
const DOWN_MS = 5_000;
const AFTER_RESTART_MS = 6_000;
/** A send must settle within this while the database is down: a client is told, not left waiting. */
const SEND_BOUND_MS = 5_000;
/** Sends must succeed again within this after the server accepts connections again. */
const RECOVERY_BOUND_MS = 5_000;

const log = (...parts: unknown[]) => console.log("[postgres-restart]", ...parts);
const enabled = requirePostgresServer("the Postgres restart fault tier");

describe.runIf(enabled)("Postgres stopped (immediate) and restarted under load", () => {
  const suffix = randomBytes(4).toString("hex");
  let pg: PrivatePostgres | undefined;
  let A: ConcordProcess | undefined;
  let token = "";
  let channelId = "";

  const ok = async (query: string, variables: Record<string, unknown> = {}) => {
    const res = await A!.gql(query, variables, token);
    if (!res.data || res.errors) throw new Error(`${JSON.stringify(res.errors)}\n${A!.tail(15)}`);
    return res.data;
  };

  beforeAll(async () => {
    const started = Date.now();
    pg = await startPrivatePostgres();
    A = await startConcord({
      name: "A",
      env: { DATABASE_URL: pg.url, MESSAGE_STORE: "postgres", WORKER_ID: "31", PASSWORD_HASH_COST: "10", LOG_LEVEL: "warn", GRAPHIQL: "false" },
    });
    log(`private Postgres on ${pg.port}, Concord (migrated at start) up after ${Date.now() - started} ms`);
    const registered = await A.gql(`mutation($u: String!) { register(input: { username: $u, password: "correct horse" }) { token } }`, { u: `ada_${suffix}` });
    token = registered.data.register.token;
    channelId = (await ok(`mutation { createGuild(input: { name: "Restart" }) { channels { id } } }`)).createGuild.channels[0].id;
  });

  afterAll(async () => {
    await A?.stop(5_000);
    await pg?.remove();
  });

  it(`stopped during ${RATE_PER_SECOND} sends a second: sends fail with UNAVAILABLE while it is down, succeed after, nothing half-written`, async () => {
    expect((await sendOnce(A!, token, channelId, "before")).id).toBeDefined();
    const readiness = watchReadiness(A!);
    const load = steadySends({ proc: A!, token, channelId, prefix: "load:", intervalMs: 1_000 / RATE_PER_SECOND });
    await new Promise((resolve) => setTimeout(resolve, BEFORE_CRASH_MS));
    await pg!.crash();
    const crashedAt = Date.now();
    await new Promise((resolve) => setTimeout(resolve, DOWN_MS));
    await pg!.start();
    const restartedAt = Date.now();
    await new Promise((resolve) => setTimeout(resolve, AFTER_RESTART_MS));
    const outcomes = await load.stop();
    const samples = await readiness.stop();

    const history = await channelHistory(A!, token, channelId);
    const acked = outcomes.filter((o) => o.id !== undefined);
    const failed = outcomes.filter((o) => o.id === undefined);
    const byCode = new Map<string, number>();
    for (const o of failed) byCode.set(o.code ?? `transport: ${o.transportError}`, (byCode.get(o.code ?? `transport: ${o.transportError}`) ?? 0) + 1);
    const stored = new Map(history.map((m) => [m.content, m.id]));
    const lost = acked.filter((o) => stored.get(o.content) !== o.id);
    const storedUnacknowledged = failed.filter((o) => stored.has(o.content));
    const slowestFailure = Math.max(0, ...failed.map((o) => o.settledAt - o.startedAt));
    const firstFailure = failed[0];
    const lastFailure = failed.at(-1);
    const firstSuccessAfter = acked.find((o) => o.startedAt > (lastFailure?.startedAt ?? crashedAt));
    const notReady = notReadyWindow(samples);
    log(
      [
        `Postgres down from 0 to ${restartedAt - crashedAt} ms (accepting connections again), relative to the stop`,
        `sends: ${outcomes.length} at ${RATE_PER_SECOND}/s, ${acked.length} acknowledged, ${failed.length} failed (${[...byCode].map(([code, n]) => `${n}x ${code}`).join(", ") || "none"}); slowest failure ${slowestFailure} ms`,
        `error window: first failed send started ${firstFailure ? firstFailure.startedAt - crashedAt : "-"} ms, last ${lastFailure ? lastFailure.startedAt - crashedAt : "-"} ms; first success after it started ${firstSuccessAfter ? firstSuccessAfter.startedAt - crashedAt : "-"} ms (${firstSuccessAfter ? firstSuccessAfter.startedAt - restartedAt : "-"} ms after the restart)`,
        `history: ${history.filter((m) => m.content.startsWith("load:")).length} load messages; acknowledged lost ${lost.length}; stored although the send failed ${storedUnacknowledged.length} (${storedUnacknowledged.map((o) => `${o.content}: ${o.code}`).join(", ") || "none"})`,
        `/readyz: ${notReady ? `503 from ${notReady.from - crashedAt} ms to ${notReady.to === undefined ? "the end" : `${notReady.to - crashedAt} ms`} (${notReady.failed.join(", ")})` : "200 throughout"}`,
        `errors logged: ${[...new Set(A!.logsAt("error").map((l) => { try { const j = JSON.parse(l); return `${j.message}: ${j.error?.message ?? j.error ?? ""}`.slice(0, 160); } catch { return l.slice(0, 160); } }))].slice(0, 6).join(" | ") || "none"}`,
      ].join("\n  "),
    );

    // While it was down: every send was answered fast, with UNAVAILABLE.
    expect(failed.length, "sends failed while Postgres was down").toBeGreaterThan(0);
    for (const o of outcomes) {
      expect(o.transportError, `${o.content}: an answer, not a dropped request`).toBeUndefined();
      expect(o.settledAt - o.startedAt, `${o.content} settled within ${SEND_BOUND_MS} ms`).toBeLessThan(SEND_BOUND_MS);
    }
    expect([...byCode.keys()], "the code of every failed send").toEqual(["UNAVAILABLE"]);
    // After: sends succeed again within seconds, and every later one too.
    expect(firstSuccessAfter, "a send succeeded after the restart").toBeDefined();
    expect(firstSuccessAfter!.startedAt - restartedAt, "sends succeed again").toBeLessThan(RECOVERY_BOUND_MS);
    for (const o of outcomes.filter((o) => o.startedAt > restartedAt + RECOVERY_BOUND_MS)) expect(o.id, `${o.content} after recovery: ${o.code}`).toBeDefined();
    // Nothing half-written.
    expect(lost.map((o) => o.content), "acknowledged messages missing from history").toEqual([]);
    for (const o of storedUnacknowledged) expect(o.code, `${o.content} is stored: its failure must say the outcome was unknown`).toBe("UNAVAILABLE");
    for (const m of history) expect(m.content === "before" || outcomes.some((o) => o.content === m.content), `${m.content} was sent by this test`).toBe(true);
    expect(new Set(history.map((m) => m.id)).size, "no duplicates in history").toBe(history.length);
    // Readiness followed the database.
    expect(notReady?.failed, "/readyz named the failed check").toContain("postgres");
    expect(notReady!.from - crashedAt, "/readyz turned 503 within 2 s").toBeLessThan(2_000);
    expect(samples.at(-1)?.status, "/readyz is 200 again").toBe(200);
  });

  it("reads recover: me, history and a new session", async () => {
    await eventually(async () => expect((await ok(`{ me { username } }`)).me.username).toBe(`ada_${suffix}`), 5_000);
    const login = await A!.gql(`mutation($u: String!) { login(input: { username: $u, password: "correct horse" }) { token } }`, { u: `ada_${suffix}` });
    expect(login.errors).toBeUndefined();
    expect((await channelHistory(A!, login.data.login.token, channelId)).length).toBeGreaterThan(0);
  });
});
