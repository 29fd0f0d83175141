/**
 * The physical-limit baseline for fan-out: a bare `ws` server with nothing in front of the
 * socket writes. Run as its own process by bench/fanout.ts:
 *
 *   node --import tsx bench/lib/plain-broadcast-server.ts [--port 0] [--host 127.0.0.1]
 *
 * - Accepts any number of WebSocket connections on the port (any path, no subprotocol needed,
 *   no compression, exactly like Concord's WebSocketServer defaults).
 * - POST /broadcast with a body: sends that exact text to every open socket
 *   (`for (const s of wss.clients) s.send(text)`) and, when the loop ends, answers
 *   {"clients": n, "loopMs": t} (t = time spent in the loop, process.hrtime).
 * - GET /stats: {"clients": n}.
 * Prints one JSON line {"port": p, "pid": ...} on stdout once listening. Exits on SIGTERM/SIGINT.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { parseArgs } from "node:util";
import { WebSocketServer } from "ws";

const { values: argv } = parseArgs({
  options: {
    port: { type: "string", default: "0" },
    host: { type: "string", default: "127.0.0.1" },
  },
  strict: true,
});

const server = createServer((req, res) => {
  if (req.method === "POST" && req.url === "/broadcast") {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const text = Buffer.concat(chunks).toString("utf8");
      const t0 = process.hrtime.bigint();
      let clients = 0;
      for (const s of wss.clients) {
        s.send(text);
        clients++;
      }
      const loopMs = Number(process.hrtime.bigint() - t0) / 1e6;
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ clients, loopMs }));
    });
    return;
  }
  if (req.method === "GET" && req.url === "/stats") {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ clients: wss.clients.size }));
    return;
  }
  res.writeHead(404).end();
});

const wss = new WebSocketServer({ server });
wss.on("connection", (socket) => socket.on("error", () => {}));

server.listen(Number(argv.port), argv.host, () => {
  const { port } = server.address() as AddressInfo;
  process.stdout.write(JSON.stringify({ port, pid: process.pid }) + "\n");
});

const stop = () => {
  for (const s of wss.clients) s.terminate();
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 2_000).unref();
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
