import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../support/server.js";
import { DEFAULT_LIMITS_ENV, freshAddress, post, signUpFrom } from "./hostile-client.js";

/**
 * Password guessing against one account. A refused attempt is answered before the password is
 * hashed, so the number of UNAUTHENTICATED answers is the number of password checks made.
 */

const LOGIN = `mutation($u: String!, $p: String!) { login(input: { username: $u, password: $p }) { token } }`;

const codeOf = (body: any): string | undefined => body.errors?.[0]?.extensions?.code;

describe("login brute force on the default limits", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ env: DEFAULT_LIMITS_ENV });
  }, 60_000);
  afterAll(() => server?.close());

  it("300 guesses from one address get a handful of password checks, then RATE_LIMITED with a usable retryAfterMs", async () => {
    const victim = await signUpFrom(server, "victim");
    const attacker = freshAddress();
    const answers = [];
    for (let i = 0; i < 300; i++) answers.push(await post(server, LOGIN, { u: victim.username, p: `guess number ${i}` }, { address: attacker }));
    const checks = answers.filter((a) => codeOf(a.body) === "UNAUTHENTICATED").length;
    const limited = answers.filter((a) => codeOf(a.body) === "RATE_LIMITED");
    expect(checks).toBeLessThanOrEqual(6);
    expect(checks + limited.length).toBe(300);
    for (const answer of limited) {
      const extensions = answer.body.errors![0]!.extensions!;
      expect(answer.status).toBe(429);
      // The pair's back-off, the address's login budget, or its global budget (50 operations a second).
      expect(["login.failures", "login.ip", "global"]).toContain(extensions.bucket);
      expect(extensions.retryAfterMs as number).toBeGreaterThan(0);
      expect(extensions.retryAfterMs as number).toBeLessThanOrEqual(60_000);
      expect(answer.headers.get("retry-after")).toBe(String(Math.ceil((extensions.retryAfterMs as number) / 1000)));
    }
    // Past the first seconds the per-address login budget refuses: wait out its minute, not forever.
    const byAddress = limited.filter((a) => a.body.errors![0]!.extensions!.bucket === "login.ip").map((a) => a.body.errors![0]!.extensions!);
    expect(byAddress.length).toBeGreaterThan(10);
    for (const e of byAddress) expect(e).toMatchObject({ scope: "IP", limit: 20, remaining: 0 });
    expect(byAddress.at(-1)!.retryAfterMs as number).toBeGreaterThan(50_000);
    expect(byAddress.at(-1)!.retryAfterMs as number).toBeLessThanOrEqual(byAddress[0]!.retryAfterMs as number);

    // The owner, from their own address, signs in at once: the guesses did not lock them out.
    const owner = await post(server, LOGIN, { u: victim.username, p: "correct horse battery" }, { address: freshAddress() });
    expect(owner.body.errors).toBeUndefined();
    expect(owner.body.data.login.token).toMatch(/^cnc_/);
  }, 60_000);

  it("a guess spread over many addresses is slowed per username", async () => {
    const victim = await signUpFrom(server, "spread");
    const answers = [];
    // 40 addresses, one guess each: the username's budget (30 failures an hour) runs out.
    for (let i = 0; i < 40; i++) answers.push(await post(server, LOGIN, { u: victim.username, p: `guess ${i}` }, { address: freshAddress() }));
    expect(answers.filter((a) => codeOf(a.body) === "UNAUTHENTICATED")).toHaveLength(30);
    const refused = answers.slice(30);
    for (const a of refused) expect(a.body.errors![0]!.extensions).toMatchObject({ code: "RATE_LIMITED", bucket: "login.username", scope: "USER" });
  }, 60_000);
});

describe("login back-off after failures", () => {
  let server: TestServer;
  beforeAll(async () => {
    // A roomy per-address budget, so only the failure back-off is in play.
    server = await startTestServer({ env: { ...DEFAULT_LIMITS_ENV, RATE_LIMIT_LOGIN_IP: "1000/1m" } });
  }, 60_000);
  afterAll(() => server?.close());

  it("allows 5 free failures, then blocks the username from that address for 5 s, then 10 s; a right password afterwards resets it", async () => {
    const user = await signUpFrom(server, "typo");
    const address = freshAddress();
    const attempt = (p: string) => post(server, LOGIN, { u: user.username, p }, { address });
    for (let i = 0; i < 6; i++) expect(codeOf((await attempt(`wrong ${i}`)).body)).toBe("UNAUTHENTICATED");
    const blocked = await attempt("wrong again");
    expect(blocked.body.errors![0]!.extensions).toMatchObject({ code: "RATE_LIMITED", bucket: "login.failures", scope: "IP" });
    const firstWait = blocked.body.errors![0]!.extensions!.retryAfterMs as number;
    expect(firstWait).toBeGreaterThan(3_000);
    expect(firstWait).toBeLessThanOrEqual(5_000);
    // Even the right password waits: the block is on the pair, before any check.
    expect(codeOf((await attempt("correct horse battery")).body)).toBe("RATE_LIMITED");

    await sleep(firstWait + 100);
    expect(codeOf((await attempt("wrong 7")).body)).toBe("UNAUTHENTICATED");
    const longer = await attempt("wrong 8");
    const secondWait = longer.body.errors![0]!.extensions!.retryAfterMs as number;
    expect(secondWait).toBeGreaterThan(8_000);
    expect(secondWait).toBeLessThanOrEqual(10_000);

    // From elsewhere the owner gets in, and a success forgives that pair's failures: after 4
    // failures and a success, 5 more failures are all still free (no block after the 6th overall).
    const elsewhere = freshAddress();
    const from = (p: string) => post(server, LOGIN, { u: user.username, p }, { address: elsewhere });
    for (let i = 0; i < 4; i++) expect(codeOf((await from(`typo ${i}`)).body)).toBe("UNAUTHENTICATED");
    expect((await from("correct horse battery")).body.errors).toBeUndefined();
    for (let i = 0; i < 5; i++) expect(codeOf((await from(`x${i}`)).body)).toBe("UNAUTHENTICATED");
  }, 30_000);
});
