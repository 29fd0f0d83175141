// Starts the production build (`node dist/main.js`, after `npm run build`) on embedded defaults
// and walks register → createGuild → sendMessage → history through it; exits 1 on any failure.
// Run by .ci/run, so the compiled server the Dockerfile ships is exercised in CI.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import os from "node:os";
import path from "node:path";

const port = await new Promise((resolve) => {
  const probe = createServer().listen(0, "127.0.0.1", () => {
    const { port } = probe.address();
    probe.close(() => resolve(port));
  });
});
const dataDir = mkdtempSync(path.join(os.tmpdir(), "concord-smoke-"));
const child = spawn(process.execPath, ["dist/main.js"], {
  env: { ...process.env, PORT: String(port), HOST: "127.0.0.1", DATA_DIR: dataDir, DATABASE_URL: "", REDIS_URL: "", MESSAGE_STORE: "" },
  stdio: ["ignore", "inherit", "inherit"],
});
const url = `http://127.0.0.1:${port}/graphql`;

async function gql(query, variables = {}, token) {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  const body = await response.json();
  if (body.errors) throw new Error(`${query.slice(0, 40)}…: ${JSON.stringify(body.errors)}`);
  return body.data;
}

try {
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`dist/main.js exited with ${child.exitCode}`);
    const ok = await fetch(`http://127.0.0.1:${port}/health`).then((r) => r.ok, () => false);
    if (ok) break;
    if (Date.now() > deadline) throw new Error("dist/main.js did not answer /health within 60 s");
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  const { register } = await gql(`mutation { register(input: {username: "smoke", password: "correct horse battery"}) { token } }`);
  const { createGuild } = await gql(`mutation { createGuild(input: {name: "Smoke"}) { channels { id } } }`, {}, register.token);
  const channelId = createGuild.channels[0].id;
  await gql(`mutation($c: ID!) { sendMessage(input: {channelId: $c, content: "compiled"}) { id } }`, { c: channelId }, register.token);
  const { channel } = await gql(`query($c: ID!) { channel(id: $c) { messages(last: 5) { edges { node { content author { username } } } } } }`, { c: channelId }, register.token);
  const nodes = channel.messages.edges.map((e) => e.node);
  if (JSON.stringify(nodes) !== JSON.stringify([{ content: "compiled", author: { username: "smoke" } }])) throw new Error(`unexpected history ${JSON.stringify(nodes)}`);
  console.log("== smoke: the production build served register, createGuild, sendMessage and history");
} catch (error) {
  console.error(`== smoke failed: ${error.message}`);
  process.exitCode = 1;
} finally {
  child.kill("SIGTERM");
  await new Promise((resolve) => child.once("exit", resolve));
  rmSync(dataDir, { recursive: true, force: true });
}
