import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, request } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createWebClientHandler } from "../../src/gateway/web-client.js";
import { startTestServer, type TestServer } from "../support/server.js";

/** A GET with the path sent exactly as written (fetch would normalise `..` away). */
function rawGet(port: number, rawPath: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path: rawPath, headers }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (body += chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

const INDEX = "<!doctype html><title>Concord</title><script type=module src=/app/assets/index-abc123.js></script>";
const SCRIPT = "console.log('the web client');";
const SECRET = "a file next to the build that must never be served";

describe("the web client at /app", () => {
  let dir: string;
  let server: TestServer;
  let off: TestServer;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "concord-web-"));
    const build = path.join(dir, "dist");
    await mkdir(path.join(build, "assets"), { recursive: true });
    await writeFile(path.join(build, "index.html"), INDEX);
    await writeFile(path.join(build, "assets", "index-abc123.js"), SCRIPT);
    await writeFile(path.join(dir, "secret.txt"), SECRET);
    [server, off] = await Promise.all([
      startTestServer({ env: { WEB_CLIENT_DIR: build } }),
      startTestServer({ env: { WEB_CLIENT_DIR: build, WEB_CLIENT: "off" } }),
    ]);
  });

  afterAll(async () => {
    await Promise.all([server?.close(), off?.close()]);
    await rm(dir, { recursive: true, force: true });
  });

  it("serves index.html revalidated, with a CSP, and hashed assets immutable with their type", async () => {
    const page = await rawGet(server.app.port, "/app/");
    expect(page.status).toBe(200);
    expect(page.body).toBe(INDEX);
    expect(page.headers["content-type"]).toBe("text/html; charset=utf-8");
    expect(page.headers["cache-control"]).toBe("no-cache");
    expect(page.headers["content-security-policy"]).toContain("script-src 'self'");
    expect(page.headers["x-content-type-options"]).toBe("nosniff");

    const script = await rawGet(server.app.port, "/app/assets/index-abc123.js", { "accept-encoding": "br" });
    expect(script.status).toBe(200);
    expect(script.headers["content-type"]).toBe("text/javascript; charset=utf-8");
    expect(script.headers["cache-control"]).toBe("public, max-age=31536000, immutable");
    expect(script.headers["content-encoding"]).toBe("br");

    const again = await rawGet(server.app.port, "/app/assets/index-abc123.js", { "accept-encoding": "br", "if-none-match": String(script.headers.etag) });
    expect(again.status).toBe(304);
  });

  it("redirects /app to /app/ and answers the client's own routes with index.html", async () => {
    const bare = await rawGet(server.app.port, "/app?x=1");
    expect(bare.status).toBe(308);
    expect(bare.headers.location).toBe("/app/");
    for (const route of ["/app/channels/123/456", "/app/channels/123", "/app/index.html"]) {
      const page = await rawGet(server.app.port, route);
      expect(page.status, route).toBe(200);
      expect(page.body, route).toBe(INDEX);
    }
    // A missing file is a 404, not the page (a stale script URL must not get HTML).
    const missing = await rawGet(server.app.port, "/app/assets/index-old999.js");
    expect(missing.status).toBe(404);
    expect(missing.headers["cache-control"]).toBe("no-store");
  });

  it("refuses paths that climb out of the build, however they are spelled", async () => {
    for (const attempt of ["/app/../secret.txt", "/app/assets/../../secret.txt", "/app/%2e%2e/secret.txt", "/app/..%2fsecret.txt", "/app/..%5csecret.txt", "/app/assets%2f..%2f..%2fsecret.txt", "/app/%00", "/app/%E0%A4%A"]) {
      const res = await rawGet(server.app.port, attempt);
      expect(res.status, attempt).toBe(400);
      expect(res.body, attempt).not.toContain(SECRET);
    }
  });

  it("serves nothing at /app with WEB_CLIENT=off, and the API still works", async () => {
    const page = await rawGet(off.app.port, "/app/");
    expect(page.status).toBe(404);
    expect(page.body).not.toContain("Concord</title>");
    const res = await off.gql("{ __typename }");
    expect(res.data).toEqual({ __typename: "Query" });
  });

  it("says how to build the client until it is built, then serves the build without a restart", async () => {
    const later = path.join(dir, "later");
    const handler = createWebClientHandler(later, (error) => expect.fail(String(error)));
    const bare = createServer((req, res) => void (handler(req, res) || res.writeHead(418).end()));
    await new Promise<void>((resolve) => bare.listen(0, "127.0.0.1", resolve));
    try {
      const port = (bare.address() as AddressInfo).port;
      const before = await rawGet(port, "/app/");
      expect(before.status).toBe(404);
      expect(before.body).toContain("npm run build:web");
      await mkdir(later);
      await writeFile(path.join(later, "index.html"), INDEX);
      expect((await rawGet(port, "/app/")).body).toBe(INDEX);
      expect((await rawGet(port, "/graphql")).status).toBe(418);
    } finally {
      await new Promise((resolve) => bare.close(resolve));
    }
  });
});
