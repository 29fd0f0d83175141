import http from "node:http";
import net from "node:net";
import { brotliDecompressSync, gunzipSync } from "node:zlib";
import * as bundle from "@graphql-yoga/render-graphiql/graphiql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { createCorsPolicy } from "../../src/gateway/cors.js";
import { limitConnections } from "../../src/gateway/http-limits.js";
import { EXAMPLE_OPERATIONS } from "../../src/gateway/graphiql-examples.js";
import { startTestServer, subscribe, waitForSubscribers, type TestServer } from "../support/server.js";

/**
 * The HTTP surface a browser or a hostile client meets: GraphiQL (compressed, cached, under a
 * CSP), CORS, request timeouts and the connection cap.
 */

interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** One request on its own connection, body bytes exactly as sent (no decompression). */
function request(url: string, options: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: options.method ?? "GET", headers: options.headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(options.body);
  });
}

const html = { accept: "text/html,application/xhtml+xml,*/*;q=0.8" };
const json = (query: string) => JSON.stringify({ query });

describe("GraphiQL", () => {
  let server: TestServer;
  let page: RawResponse;
  /** The page's asset URLs, by file name. */
  let assets: Map<string, string>;
  beforeAll(async () => {
    server = await startTestServer();
    page = await request(server.url, { headers: html });
    const urls = [...page.body.toString().matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    assets = new Map(urls.map((url) => [url.split("/").at(-1)!, url]));
  });
  afterAll(() => server?.close());
  const origin = () => new URL(server.url).origin;

  it("serves a small page that names its options and loads its assets from this server", async () => {
    expect(page.status).toBe(200);
    expect(page.headers["content-type"]).toBe("text/html; charset=utf-8");
    expect(page.body.length).toBeLessThan(10_000);
    const text = page.body.toString();
    expect(text).toContain("<title>Concord GraphiQL</title>");
    const options = JSON.parse(/<script type="application\/json" id="graphiql-options">([\s\S]*?)<\/script>/.exec(text)![1]!);
    expect(options).toEqual({ subscriptionsProtocol: "WS", title: "Concord GraphiQL", defaultQuery: EXAMPLE_OPERATIONS });
    expect([...assets.keys()].sort()).toEqual(["favicon.ico", "graphiql.css", "graphiql.js", "setup.js", "start.js"]);
    for (const url of assets.values()) expect(url).toMatch(/^\/graphql\/graphiql\/[\w-]+\/[\w.]+$/);
  });

  it("serves GraphiQL's own files, brotli- or gzip-compressed by Accept-Encoding or plain, cached for good", async () => {
    const expected: Record<string, Buffer> = {
      "graphiql.js": Buffer.from(bundle.js),
      "graphiql.css": Buffer.from(bundle.css),
      "favicon.ico": Buffer.from(bundle.favicon.split(",")[1]!, "base64"),
    };
    let compressed = 0;
    for (const [name, bytes] of Object.entries(expected)) {
      const url = origin() + assets.get(name)!;
      const br = await request(url, { headers: { "accept-encoding": "gzip, deflate, br, zstd" } });
      expect(br.status, name).toBe(200);
      expect(br.headers["content-encoding"], name).toBe("br");
      expect(br.headers["cache-control"], name).toBe("public, max-age=31536000, immutable");
      expect(br.headers["x-content-type-options"], name).toBe("nosniff");
      expect(br.headers.vary, name).toMatch(/Accept-Encoding/);
      expect(Number(br.headers["content-length"]), name).toBe(br.body.length);
      expect(brotliDecompressSync(br.body).equals(bytes), name).toBe(true);
      compressed += br.body.length;
      const gz = await request(url, { headers: { "accept-encoding": "gzip, br;q=0" } });
      expect(gz.headers["content-encoding"], name).toBe("gzip");
      expect(gunzipSync(gz.body).equals(bytes), name).toBe(true);
      for (const acceptEncoding of [undefined, "identity", "deflate"]) {
        const plain = await request(url, { headers: acceptEncoding ? { "accept-encoding": acceptEncoding } : {} });
        expect(plain.headers["content-encoding"], `${name} ${acceptEncoding}`).toBeUndefined();
        expect(plain.body.equals(bytes), `${name} ${acceptEncoding}`).toBe(true);
      }
    }
    // The 9 MB GraphiQL went over the wire whole on every visit before.
    expect(compressed).toBeLessThan(bundle.js.length / 2);
    expect((await request(origin() + assets.get("graphiql.js")!)).headers["content-type"]).toBe("text/javascript; charset=utf-8");
    expect((await request(origin() + assets.get("graphiql.css")!)).headers["content-type"]).toBe("text/css; charset=utf-8");
  });

  it("points Monaco at worker files that hold GraphiQL's workers", async () => {
    const setup = (await request(origin() + assets.get("setup.js")!)).body.toString();
    const workers = JSON.parse(/return (\{.*?\})\[label\]/.exec(setup)![1]!) as Record<string, string>;
    expect(Object.keys(workers).sort()).toEqual(["editorWorkerService", "graphql", "json"]);
    const expected = { editorWorkerService: bundle.editorWorkerService, json: bundle.jsonWorker, graphql: bundle.graphqlWorker };
    for (const [label, url] of Object.entries(workers)) {
      const res = await request(origin() + url, { headers: { "accept-encoding": "br" } });
      expect(res.headers["content-type"], label).toBe("text/javascript; charset=utf-8");
      expect(brotliDecompressSync(res.body).toString(), label).toBe(expected[label as keyof typeof expected]);
    }
  });

  it("answers a revalidation with 304 and no body when the ETag of that encoding matches", async () => {
    for (const url of [server.url, origin() + assets.get("graphiql.js")!]) {
      const first = await request(url, { headers: { ...html, "accept-encoding": "br" } });
      const etag = first.headers.etag!;
      expect(etag, url).toMatch(/^"[^"]+"$/);
      for (const ifNoneMatch of [etag, `W/${etag}`, `"other", ${etag}`, "*"]) {
        const again = await request(url, { headers: { ...html, "accept-encoding": "br", "if-none-match": ifNoneMatch } });
        expect(again.status, `${url} ${ifNoneMatch}`).toBe(304);
        expect(again.body.length).toBe(0);
        expect(again.headers.etag).toBe(etag);
      }
      // Another encoding is another representation, so another validator.
      const gz = await request(url, { headers: { ...html, "accept-encoding": "gzip", "if-none-match": etag } });
      expect(gz.status, url).toBe(200);
      expect(gz.headers.etag).not.toBe(etag);
      const stale = await request(url, { headers: { ...html, "accept-encoding": "br", "if-none-match": '"an-older-deploy"' } });
      expect(stale.status, url).toBe(200);
      expect(stale.body.length).toBe(first.body.length);
    }
    expect(page.headers["cache-control"]).toBe("no-cache");
  });

  it("sends a CSP that allows scripts and workers only from this server, no inline script, and refuses framing", async () => {
    const csp = String(page.headers["content-security-policy"]);
    const directives = new Map(csp.split(";").map((d) => d.trim().split(/\s+/)).map(([name, ...values]) => [name!, values]));
    const { host } = new URL(server.url);
    expect(directives.get("script-src")).toEqual(["'self'"]);
    expect(directives.get("worker-src")).toEqual(["'self'"]);
    // The only inline <script> is a JSON data block, which browsers never run.
    expect([...page.body.toString().matchAll(/<script(?![^>]*\bsrc=)([^>]*)>/g)].map((m) => m[1]!.trim())).toEqual(['type="application/json" id="graphiql-options"']);
    expect(directives.get("default-src")).toEqual(["'none'"]);
    expect(directives.get("frame-ancestors")).toEqual(["'none'"]);
    expect(directives.get("connect-src")).toEqual(["'self'", `ws://${host}`, `wss://${host}`]);
    expect(csp).not.toContain("unsafe-eval");
    expect(page.headers["x-frame-options"]).toBe("DENY");
    expect(page.headers["x-content-type-options"]).toBe("nosniff");
    expect(page.headers["referrer-policy"]).toBe("no-referrer");
    // A Host header that could smuggle in a directive is left out.
    const odd = await request(server.url, { headers: { ...html, host: "x; script-src *" } });
    expect(odd.headers["content-security-policy"]).toContain("connect-src 'self';");
    expect(odd.headers["content-security-policy"]).not.toContain("script-src *");
  });

  it("answers HEAD with the headers of GET and no body", async () => {
    for (const url of [server.url, origin() + assets.get("graphiql.css")!]) {
      const get = await request(url, { headers: { ...html, "accept-encoding": "br" } });
      const head = await request(url, { method: "HEAD", headers: { ...html, "accept-encoding": "br" } });
      expect(head.status, url).toBe(200);
      expect(head.body.length, url).toBe(0);
      for (const name of ["content-length", "content-encoding", "etag", "content-security-policy"]) expect(head.headers[name], `${url} ${name}`).toBe(get.headers[name]);
    }
  });

  it("answers 404 for another build's or an unknown asset", async () => {
    for (const path of ["/graphql/graphiql/0000000000000000/graphiql.js", assets.get("graphiql.js")!.replace("graphiql.js", "secret.txt")]) {
      const res = await request(origin() + path);
      expect(res.status, path).toBe(404);
    }
  });

  it("serves the page wherever yoga did (a trailing slash, a ?query= link) and leaves other requests to GraphQL", async () => {
    for (const url of [`${server.url}/`, `${server.url}?query=${encodeURIComponent("{ __typename }")}`]) {
      const res = await request(url, { headers: html });
      expect(res.status, url).toBe(200);
      expect(res.body.equals(page.body), url).toBe(true);
    }
    const query = await request(`${server.url}?query=${encodeURIComponent("{ __typename }")}`, { headers: { accept: "application/json" } });
    expect(JSON.parse(query.body.toString())).toEqual({ data: { __typename: "Query" } });
    const post = await request(server.url, { method: "POST", headers: { ...html, "content-type": "application/json" }, body: json("{ __typename }") });
    expect(post.headers["content-security-policy"]).toBeUndefined();
    expect(post.body.toString()).toContain('"__typename":"Query"');
    // Only /graphql: yoga's own matcher also rendered the 9 MB page at any path ending in it.
    const elsewhere = await request(server.url.replace("/graphql", "/x/graphql"), { headers: html });
    expect(elsewhere.headers["content-security-policy"]).toBeUndefined();
    expect(elsewhere.body.toString()).not.toContain("<title>Concord GraphiQL</title>");
  });
});

describe("CORS by default: any origin, never with credentials", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server?.close());

  it("lets a preflight from another origin send Authorization and Content-Type", async () => {
    const res = await request(server.url, {
      method: "OPTIONS",
      headers: { origin: "https://client.example", "access-control-request-method": "POST", "access-control-request-headers": "authorization,content-type" },
    });
    expect(res.status).toBe(204);
    expect(res.headers["access-control-allow-origin"]).toBe("*");
    expect(res.headers["access-control-allow-headers"]!.toLowerCase().split(/,\s*/)).toEqual(expect.arrayContaining(["authorization", "content-type"]));
    expect(res.headers["access-control-allow-methods"]).toContain("POST");
    expect(res.headers["access-control-allow-credentials"]).toBeUndefined();
  });

  it("answers another origin's request readable without credentials, rate-limit headers exposed", async () => {
    const res = await request(server.url, { method: "POST", headers: { origin: "https://client.example", "content-type": "application/json" }, body: json("{ __typename }") });
    expect(res.status).toBe(200);
    expect(res.headers["access-control-allow-origin"]).toBe("*");
    expect(res.headers["access-control-allow-credentials"]).toBeUndefined();
    expect(res.headers["access-control-expose-headers"]).toMatch(/Retry-After/);
    expect(res.headers["access-control-expose-headers"]).toMatch(/X-RateLimit-Remaining/);
  });

  it("adds no CORS headers for a client that sends no Origin", async () => {
    const res = await request(server.url, { method: "POST", headers: { "content-type": "application/json" }, body: json("{ __typename }") });
    expect(res.status).toBe(200);
    expect(res.headers["access-control-allow-origin"]).toBeUndefined();
  });
});

describe("CORS_ORIGINS set: only those origins (and the server's own)", () => {
  let server: TestServer;
  const app = "https://app.example.com";
  beforeAll(async () => {
    server = await startTestServer({ env: { CORS_ORIGINS: `${app}, http://localhost:5173`, GRAPHIQL: "false" } });
  });
  afterAll(() => server?.close());

  it("lets a listed origin through, named in the answer, without credentials", async () => {
    const preflight = await request(server.url, {
      method: "OPTIONS",
      headers: { origin: app, "access-control-request-method": "POST", "access-control-request-headers": "authorization, content-type" },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers["access-control-allow-origin"]).toBe(app);
    expect(preflight.headers.vary).toMatch(/Origin/);
    expect(preflight.headers["access-control-allow-credentials"]).toBeUndefined();
    const res = await request(server.url, { method: "POST", headers: { origin: app, "content-type": "application/json" }, body: json("{ __typename }") });
    expect(res.status).toBe(200);
    expect(res.headers["access-control-allow-origin"]).toBe(app);
    expect(res.headers.vary).toMatch(/Origin/);
  });

  it("refuses another origin's preflight and its form POST, which writes nothing", async () => {
    const preflight = await request(server.url, { method: "OPTIONS", headers: { origin: "https://evil.example", "access-control-request-method": "POST" } });
    expect(preflight.status).toBe(403);
    expect(preflight.headers["access-control-allow-origin"]).toBeUndefined();
    // A form-encoded POST is a "simple" request: browsers send it without asking first.
    const username = `cors_${process.pid}_${Date.now() % 100_000}`;
    const mutation = `mutation { register(input: { username: "${username}", password: "plausible zebra lantern 42" }) { token } }`;
    const res = await request(server.url, {
      method: "POST",
      headers: { origin: "https://evil.example", "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ query: mutation }).toString(),
    });
    expect(res.status).toBe(403);
    expect(JSON.parse(res.body.toString()).errors[0].extensions.code).toBe("FORBIDDEN");
    // The username is still free: the refused call registered nothing.
    const registered = await server.gql(mutation);
    expect(registered.errors).toBeUndefined();
    expect(registered.data.register.token).toEqual(expect.any(String));
  });

  it("refuses a multipart (file upload) POST with a clear error, and runs nothing: the schema takes no uploads", async () => {
    const username = `multipart_${process.pid}_${Date.now() % 100_000}`;
    const mutation = `mutation { register(input: { username: "${username}", password: "plausible zebra lantern 42" }) { token } }`;
    const boundary = "concordboundary";
    const body = [`--${boundary}`, 'Content-Disposition: form-data; name="operations"', "", JSON.stringify({ query: mutation }), `--${boundary}`, 'Content-Disposition: form-data; name="map"', "", "{}", `--${boundary}--`, ""].join("\r\n");
    const res = await request(server.url, { method: "POST", headers: { "content-type": `multipart/form-data; boundary=${boundary}` }, body });
    expect(res.status).toBe(415);
    expect(JSON.parse(res.body.toString()).errors).toEqual([{ message: expect.stringContaining("not supported"), extensions: { code: "BAD_USER_INPUT" } }]);
    // The username is still free: the refused call registered nothing.
    const registered = await server.gql(mutation);
    expect(registered.errors).toBeUndefined();
  });

  it("serves the server's own origin (its GraphiQL) and clients that send no Origin", async () => {
    const own = new URL(server.url).origin;
    const res = await request(server.url, { method: "POST", headers: { origin: own, "content-type": "application/json" }, body: json("{ __typename }") });
    expect(res.status).toBe(200);
    const plain = await request(server.url, { method: "POST", headers: { "content-type": "application/json" }, body: json("{ __typename }") });
    expect(plain.status).toBe(200);
  });

  it("does not serve GraphiQL when GRAPHIQL=false", async () => {
    const res = await request(server.url, { headers: html });
    expect(res.headers["content-security-policy"]).toBeUndefined();
    expect(res.body.toString()).not.toContain("<title>Concord GraphiQL</title>");
  });
});

describe("originAllowed (for WebSocket upgrades)", () => {
  it("allows every origin by default and only listed ones, the server's own, or none otherwise", () => {
    const any = createCorsPolicy(undefined);
    expect(any.originAllowed("https://anywhere.example")).toBe(true);
    expect(any.originAllowed(undefined)).toBe(true);
    const listed = createCorsPolicy(["https://app.example.com"]);
    expect(listed.originAllowed("https://app.example.com")).toBe(true);
    expect(listed.originAllowed("https://app.example.com.evil.example")).toBe(false);
    expect(listed.originAllowed("http://app.example.com")).toBe(false);
    expect(listed.originAllowed("null")).toBe(false);
    expect(listed.originAllowed(undefined)).toBe(true);
    expect(listed.originAllowed("http://chat.internal:4000", "chat.internal:4000")).toBe(true);
    expect(listed.originAllowed("http://evil.example", "chat.internal:4000")).toBe(false);
  });
});

describe("HTTP timeouts", () => {
  let server: TestServer;
  const requestTimeoutMs = 1_500;
  beforeAll(async () => {
    server = await startTestServer({ env: { HTTP_HEADERS_TIMEOUT_MS: "1000", HTTP_REQUEST_TIMEOUT_MS: String(requestTimeoutMs) } });
  });
  afterAll(() => server?.close());

  /** Opens a raw connection, writes `head`, then one byte of `trickle` every `everyMs`; resolves when the server closes it. */
  function dribble(head: string, trickle: string, everyMs: number): Promise<{ afterMs: number; reply: string; bytesSent: number }> {
    const { port } = new URL(server.url);
    return new Promise((resolve, reject) => {
      const socket = net.connect(Number(port), "127.0.0.1");
      const started = Date.now();
      let reply = "";
      let sent = 0;
      let timer: NodeJS.Timeout | undefined;
      socket.on("connect", () => {
        socket.write(head);
        timer = setInterval(() => {
          if (sent < trickle.length && !socket.destroyed) socket.write(trickle[sent++]!);
        }, everyMs);
      });
      socket.on("data", (chunk) => (reply += chunk.toString()));
      socket.on("error", () => {});
      socket.on("close", () => {
        clearInterval(timer);
        resolve({ afterMs: Date.now() - started, reply, bytesSent: sent });
      });
      setTimeout(() => (socket.destroy(), reject(new Error("the server kept a slow request open for 15 s"))), 15_000).unref();
    });
  }

  it("cuts off a body sent one byte at a time once the request timeout has passed", async () => {
    const body = json("{ __typename }");
    const head = `POST /graphql HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`;
    const result = await dribble(head, body, 250);
    expect(result.reply).toMatch(/^HTTP\/1\.1 408/);
    expect(result.bytesSent).toBeLessThan(body.length);
    expect(result.afterMs).toBeGreaterThanOrEqual(requestTimeoutMs - 50);
    expect(result.afterMs).toBeLessThan(requestTimeoutMs + 2_000);
  });

  it("cuts off headers sent one byte at a time once the headers timeout has passed", async () => {
    const result = await dribble("GET /graphql HTTP/1.1\r\nHost: localhost\r\n", "X-Slow: " + "a".repeat(200), 100);
    expect(result.reply).toMatch(/^HTTP\/1\.1 408/);
    expect(result.afterMs).toBeLessThan(1_000 + 2_000);
  });

  it("still answers a normal request", async () => {
    expect(await server.gql("{ __typename }")).toEqual({ data: { __typename: "Query" } });
  });

  it("keeps a WebSocket and an SSE stream open while idle for longer than the request timeout", async () => {
    const ada = await server.signUp("idle");
    const created = await server.ok(`mutation { createGuild(input: { name: "Idle" }) { channels { id } } }`, {}, ada.token);
    const channelId = created.createGuild.channels[0].id;
    const query = `subscription($c: ID!) { channelEvents(channelId: $c) { ... on MessageCreated { message { content } } } }`;
    const socket = subscribe(server.ws(ada.token), query, { c: channelId });
    const sse = await fetch(server.url, {
      method: "POST",
      headers: { accept: "text/event-stream", "content-type": "application/json", authorization: `Bearer ${ada.token}` },
      body: JSON.stringify({ query, variables: { c: channelId } }),
    });
    expect(sse.status).toBe(200);
    const reader = sse.body!.getReader();
    let streamed = "";
    const sseGot = (async () => {
      while (!streamed.includes("after the wait")) {
        const { value, done } = await reader.read();
        if (done) return false;
        streamed += new TextDecoder().decode(value);
      }
      return true;
    })();
    await waitForSubscribers(server, `channel:${channelId}`, 2);
    // Longer than the request timeout plus Node's check interval.
    await new Promise((resolve) => setTimeout(resolve, requestTimeoutMs + 1_500));
    await server.ok(`mutation($c: ID!) { sendMessage(input: { channelId: $c, content: "after the wait" }) { id } }`, { c: channelId }, ada.token);
    expect((await socket.waitFor(1)).at(-1)!.data.channelEvents).toEqual({ message: { content: "after the wait" } });
    expect(await sseGot).toBe(true);
    await reader.cancel();
  });
});

describe("MAX_CONNECTIONS", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ env: { MAX_CONNECTIONS: "3" } });
  });
  afterAll(() => server?.close());

  const openSocket = (url: string) =>
    new Promise<WebSocket>((resolve, reject) => {
      const ws = new WebSocket(url, "graphql-transport-ws");
      ws.once("open", () => resolve(ws));
      ws.once("error", reject);
    });

  /** Connects and waits to see whether the server keeps the connection (true) or drops it at once (false). */
  const held = (port: number) =>
    new Promise<boolean>((resolve) => {
      const socket = net.connect(port, "127.0.0.1");
      socket.on("error", () => {});
      socket.once("close", () => resolve(false));
      socket.once("connect", () => setTimeout(() => (socket.destroy(), resolve(true)), 300));
    });

  it("counts upgraded WebSockets, closes connections over the cap, and accepts again when one ends", async () => {
    const port = Number(new URL(server.url).port);
    const sockets = [await openSocket(server.wsUrl), await openSocket(server.wsUrl), await openSocket(server.wsUrl)];
    expect(await held(port)).toBe(false);
    await expect(request(server.url, { method: "POST", headers: { "content-type": "application/json" }, body: json("{ __typename }") })).rejects.toThrow();
    const closed = new Promise((resolve) => sockets[0]!.once("close", resolve));
    sockets[0]!.close();
    await closed;
    // The server notices the close a moment after the client.
    await new Promise((resolve) => setTimeout(resolve, 100));
    const res = await request(server.url, { method: "POST", headers: { "content-type": "application/json" }, body: json("{ __typename }") });
    expect(JSON.parse(res.body.toString())).toEqual({ data: { __typename: "Query" } });
    for (const socket of sockets.slice(1)) socket.close();
  });

  it("reports refused connections once per interval, with their number", async () => {
    const plain = http.createServer((_req, res) => res.end());
    const reports: number[] = [];
    limitConnections(plain, { headersTimeoutMs: 1_000, requestTimeoutMs: 1_000, keepAliveTimeoutMs: 1_000, maxConnections: 1 }, (refused) => reports.push(refused), 200);
    await new Promise<void>((resolve) => plain.listen(0, "127.0.0.1", resolve));
    const port = (plain.address() as net.AddressInfo).port;
    const kept = net.connect(port, "127.0.0.1");
    await new Promise((resolve) => kept.once("connect", resolve));
    expect(await Promise.all([held(port), held(port), held(port)])).toEqual([false, false, false]);
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(reports).toEqual([3]);
    kept.destroy();
    await new Promise((resolve) => plain.close(resolve));
  });
});
