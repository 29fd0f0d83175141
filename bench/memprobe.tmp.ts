import { writeHeapSnapshot } from "node:v8";
import WebSocket from "ws";
import { createApp } from "../src/app.js";
import { loadConfig } from "../src/config.js";
import { createLogger } from "../src/logger.js";

const N = Number(process.env.N ?? 2000);
const app = await createApp(loadConfig({ PORT: "0", HOST: "127.0.0.1", DATA_DIR: "memory://", PASSWORD_HASH_COST: "10", LOG_LEVEL: "error" }), { logger: createLogger("error") });
await app.start();
const url = `http://127.0.0.1:${app.port}/graphql`;
const gql = async (query: string, variables: Record<string, unknown>, token?: string) => {
  const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) }, body: JSON.stringify({ query, variables }) });
  const body = (await res.json()) as any;
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data;
};
const reg = await gql(`mutation { register(input: { username: "owner", password: "correct horse" }) { token } }`, {});
const token = reg.register.token;
const g = await gql(`mutation { createGuild(input: { name: "Mem" }) { id channels { id } } }`, {}, token);
const channelId = g.createGuild.channels[0].id;
const gc = (globalThis as any).gc as () => void;
const mem = () => { gc(); gc(); const m = process.memoryUsage(); return { rss: m.rss, heap: m.heapUsed, ext: m.external + m.arrayBuffers }; };
const mode = process.env.MODE ?? "subscribe";
const sockets: WebSocket[] = [];
const before = mem();
for (let i = 0; i < N; i++) {
  const s = new WebSocket(url.replace("http", "ws"), "graphql-transport-ws");
  await new Promise<void>((resolve) => {
    s.once("open", () => s.send(JSON.stringify({ type: "connection_init", payload: mode === "anon" ? {} : { authorization: `Bearer ${token}` } })));
    s.on("message", (d) => {
      const t = JSON.parse(String(d)).type;
      if (t === "connection_ack") {
        if (mode === "subscribe") s.send(JSON.stringify({ id: "1", type: "subscribe", payload: { query: `subscription($c: ID!) { channelEvents(channelId: $c) { __typename } }`, variables: { c: channelId } } }));
        resolve();
      }
    });
  });
  sockets.push(s);
}
await new Promise((r) => setTimeout(r, 3000));
const after = mem();
console.log(JSON.stringify({ mode, N, perConnKB: { rss: (after.rss - before.rss) / N / 1024, heap: (after.heap - before.heap) / N / 1024, external: (after.ext - before.ext) / N / 1024 } }));
if (process.env.SNAP) writeHeapSnapshot(process.env.SNAP);
process.exit(0);
