import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually } from "../support/assertions.js";
import { requireRedisServer, startPrivateRedis, type PrivateRedis } from "../support/processes.js";
import { startTestServer, type TestServer } from "../support/server.js";

/**
 * GET /healthz and /readyz on a server whose Redis is a private redis-server the test stops and
 * restarts: readiness names Redis while it is away and recovers by itself when it is back.
 */
describe.runIf(requireRedisServer("the health tests"))("health and readiness", () => {
  let redis: PrivateRedis;
  let server: TestServer;
  const origin = () => server.url.replace(/\/graphql$/, "");
  const readyz = async () => {
    const res = await fetch(`${origin()}/readyz`);
    return { status: res.status, body: (await res.json()) as { status: string; failed?: string[]; checks: Record<string, string> } };
  };

  beforeAll(async () => {
    redis = await startPrivateRedis();
    server = await startTestServer({ env: { REDIS_URL: redis.url, REDIS_KEY_PREFIX: "concord-health:" } });
  }, 60_000);

  afterAll(async () => {
    // Not server.close(): it fails on any error logged, and the Redis outage is logged on purpose.
    await server?.app.stop();
    await redis?.stop();
  }, 30_000);

  it("answers /healthz with 200 and a small JSON body", async () => {
    const res = await fetch(`${origin()}/healthz`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("application/json");
    expect(await res.json()).toEqual({ status: "ok" });
  });

  it("answers /readyz with 200 when Postgres, migrations and Redis answer", async () => {
    const { status, body } = await readyz();
    expect(status).toBe(200);
    expect(body).toEqual({ status: "ready", checks: { postgres: "ok", migrations: "ok", redis: "ok" } });
  });

  it("answers 503 naming Redis while Redis is down, and 200 again once it is back", async () => {
    await redis.kill();
    await eventually(async () => {
      const { status, body } = await readyz();
      expect(status).toBe(503);
      expect(body.failed).toEqual(["redis"]);
      expect(body.checks.postgres).toBe("ok");
    }, 10_000);
    await redis.restart();
    await eventually(async () => expect((await readyz()).status).toBe(200), 15_000);
  }, 40_000);

  it("reuses one readiness report for a burst of probes", async () => {
    const reports = await Promise.all(Array.from({ length: 50 }, () => server.app.readiness.report()));
    expect(new Set(reports.map((r) => JSON.stringify(r))).size).toBe(1);
  });
});
