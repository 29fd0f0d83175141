import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase } from "../../src/stores/prisma/database.js";
import { createScratchDatabase } from "../support/databases.js";
import type { ScratchDatabase } from "../support/scratch-database.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { requireService, TEST_POSTGRES_URL } from "../support/services.js";
import { DEFAULT_LIMITS_ENV, firstError, freshAddress, post, signUpFrom } from "./hostile-client.js";

/**
 * Two instances on one Postgres and one Redis: a client that spreads its calls over both still
 * has one budget, because the limits are counted in Redis.
 */

const REDIS_URL = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";
const SEND = `mutation($c: ID!, $t: String!) { sendMessage(input: { channelId: $c, content: $t }) { id } }`;
const LOGIN = `mutation($u: String!, $p: String!) { login(input: { username: $u, password: $p }) { token } }`;

describe("rate limits on a fleet (Redis)", () => {
  let scratch: ScratchDatabase | undefined;
  const servers: TestServer[] = [];
  let available = false;

  beforeAll(async () => {
    available = (await requireService("Postgres", TEST_POSTGRES_URL)) && (await requireService("Redis", REDIS_URL));
    if (!available) return;
    scratch = await createScratchDatabase("concord_fleet_limits");
    const env = { ...DEFAULT_LIMITS_ENV, REDIS_URL, REDIS_KEY_PREFIX: `concord-test:${process.pid}-${Date.now().toString(36)}:`, LOG_LEVEL: "error" };
    // One after the other: the first applies the migrations.
    for (const workerId of ["1", "2"]) {
      const database = await openDatabase({ kind: "postgres", url: scratch.url, poolSize: 3 });
      servers.push(await startTestServer({ database, env: { ...env, WORKER_ID: workerId } }));
    }
  }, 60_000);
  afterAll(async () => {
    for (const server of servers) await server.close();
    await scratch?.drop();
  });

  it("shares one sendMessage budget between instances", async (ctx) => {
    if (!available) return ctx.skip();
    const [a, b] = servers as [TestServer, TestServer];
    const ada = await signUpFrom(a, "fleet");
    const guild = await post(a, `mutation { createGuild(input: { name: "Fleet" }) { channels { id } } }`, {}, ada);
    const channelId = guild.body.data.createGuild.channels[0].id;
    const answers = [];
    for (let i = 0; i < 6; i++) answers.push(await post(i % 2 === 0 ? a : b, SEND, { c: channelId, t: `m${i}` }, ada));
    expect(answers.slice(0, 5).map((r) => r.body.errors)).toEqual([undefined, undefined, undefined, undefined, undefined]);
    expect(firstError(answers[5]!.body).extensions).toMatchObject({ code: "RATE_LIMITED", bucket: "message.send.channel", scope: "USER" });
    expect(answers[5]!.status).toBe(429);
  });

  it("counts failed logins against one username across instances", async (ctx) => {
    if (!available) return ctx.skip();
    const [a, b] = servers as [TestServer, TestServer];
    const victim = await signUpFrom(a, "target");
    const address = freshAddress();
    const codes = [];
    for (let i = 0; i < 8; i++) codes.push(firstError((await post(i % 2 === 0 ? a : b, LOGIN, { u: victim.username, p: `guess ${i}` }, { address })).body).extensions!.code);
    // Five free failures plus the one that starts the back-off, whichever instance checked them.
    expect(codes.filter((c) => c === "UNAUTHENTICATED")).toHaveLength(6);
    expect(codes.slice(6)).toEqual(["RATE_LIMITED", "RATE_LIMITED"]);
  });
});
