/**
 * What one connect and one disconnect cost in Redis and in events, measured on a real Redis.
 *
 *   npx tsx bench/presence-cost.ts [--guilds 5] [--large 1] [--friends 3] [--redis redis://127.0.0.1:6379] [--storm 200]
 *
 * Starts Concord in-process (embedded PGlite, the given Redis under a fresh key prefix, a 10-minute
 * heartbeat so timers stay out of the measurement), creates one user who belongs to `--guilds`
 * small guilds and `--large` large ones and has `--friends` friends, then watches Redis with
 * MONITOR while that user's socket connects and disconnects. It counts, per step, the commands
 * Concord sent (round trips), the commands Lua scripts ran inside Redis, and the PUBLISHes
 * (events). With `--storm N`, it then connects N such users at once ("reconnect storm") and
 * reports the totals per user, which must not grow with guild sizes.
 * Prints a JSON summary and a Markdown table; writes bench/results/presence-cost-<ts>.json.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { Redis } from "ioredis";
import WebSocket from "ws";
import { createApp } from "../src/app.js";
import { loadConfig } from "../src/config.js";
import { createLogger } from "../src/logger.js";

const { values: argv } = parseArgs({
  options: {
    guilds: { type: "string", default: "5" },
    large: { type: "string", default: "1" },
    friends: { type: "string", default: "3" },
    storm: { type: "string", default: "200" },
    redis: { type: "string", default: process.env.BENCH_REDIS_URL ?? "redis://127.0.0.1:6379" },
    out: { type: "string", default: new URL("./results/", import.meta.url).pathname },
  },
});
const SMALL = Number(argv.guilds);
const LARGE = Number(argv.large);
const FRIENDS = Number(argv.friends);
const STORM = Number(argv.storm);
const prefix = `concord-bench-${Date.now().toString(36)}:`;

const app = await createApp(
  loadConfig({
    PORT: "0",
    HOST: "127.0.0.1",
    DATA_DIR: "memory://",
    REDIS_URL: argv.redis,
    REDIS_KEY_PREFIX: prefix,
    PASSWORD_HASH_COST: "10",
    PRESENCE_HEARTBEAT_MS: "600000",
    LARGE_GUILD_THRESHOLD: "3",
    ONLINE_COUNT_REFRESH_MS: "100",
    LOG_LEVEL: "error",
    // The setup creates a thousand guilds as one owner: a benchmark, not a client to limit.
    RATE_LIMITS: "off",
    MAX_GUILDS_PER_USER: "10000",
  }),
  { logger: createLogger("error") },
);
await app.start();
const url = `http://127.0.0.1:${app.port}/graphql`;
const gql = async (query: string, variables: Record<string, unknown>, token?: string) => {
  const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) }, body: JSON.stringify({ query, variables }) });
  const body = (await res.json()) as { data?: any; errors?: unknown };
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data;
};
let n = 0;
const signUp = async () => {
  const data = await gql(`mutation($u: String!) { register(input: { username: $u, password: "correct horse" }) { token user { id } } }`, { u: `bench_${++n}` });
  return { token: data.register.token as string, id: data.register.user.id as string };
};

/** A user in SMALL small guilds (2 members each), LARGE large guilds (shared, 3+ members), with FRIENDS friends. */
const owner = await signUp();
const largeGuilds: string[] = [];
for (let i = 0; i < LARGE; i++) {
  const g = await gql(`mutation { createGuild(input: { name: "Large ${i}" }) { id } }`, {}, owner.token);
  const code = (await gql(`mutation($g: ID!) { createInvite(input: { guildId: $g }) { code } }`, { g: g.createGuild.id }, owner.token)).createInvite.code;
  largeGuilds.push(code);
  for (let k = 0; k < 3; k++) await gql(`mutation($c: String!) { joinGuild(code: $c) { id } }`, { c: code }, (await signUp()).token);
}
async function makeSubject() {
  const user = await signUp();
  for (const code of largeGuilds) await gql(`mutation($c: String!) { joinGuild(code: $c) { id } }`, { c: code }, user.token);
  for (let i = 0; i < SMALL; i++) {
    const g = await gql(`mutation { createGuild(input: { name: "Small ${i}" }) { id } }`, {}, owner.token);
    const code = (await gql(`mutation($g: ID!) { createInvite(input: { guildId: $g }) { code } }`, { g: g.createGuild.id }, owner.token)).createInvite.code;
    await gql(`mutation($c: String!) { joinGuild(code: $c) { id } }`, { c: code }, user.token);
  }
  for (let i = 0; i < FRIENDS; i++) {
    const friend = await signUp();
    await gql(`mutation($u: ID!) { sendFriendRequest(userId: $u) { type } }`, { u: friend.id }, user.token);
    await gql(`mutation($u: ID!) { acceptFriendRequest(userId: $u) { type } }`, { u: user.id }, friend.token);
  }
  return user;
}

async function connect(token: string): Promise<WebSocket> {
  const socket = new WebSocket(url.replace("http", "ws"), "graphql-transport-ws");
  await new Promise<void>((resolve, reject) => {
    socket.once("open", () => socket.send(JSON.stringify({ type: "connection_init", payload: { authorization: `Bearer ${token}` } })));
    socket.on("message", (data) => JSON.parse(String(data)).type === "connection_ack" && resolve());
    socket.once("error", reject);
  });
  return socket;
}
const close = (socket: WebSocket) => new Promise<void>((resolve) => (socket.once("close", () => resolve()), socket.close()));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// MONITOR sees every command, including those run inside Lua scripts (source "lua").
const monitorClient = new Redis(argv.redis);
const monitor = await monitorClient.monitor();
let counting = false;
const counts = { roundTrips: 0, scriptCommands: 0, publishes: 0, byCommand: {} as Record<string, number> };
monitor.on("monitor", (_time: string, args: string[], source: string) => {
  if (!counting || !args.some((a) => a.startsWith(prefix) || a === `${prefix}presence:`)) return;
  const command = args[0]!.toUpperCase();
  if (source === "lua") counts.scriptCommands++;
  else {
    counts.roundTrips++;
    counts.byCommand[command] = (counts.byCommand[command] ?? 0) + 1;
  }
  if (command === "PUBLISH") counts.publishes++;
});
async function measure(step: () => Promise<void>) {
  Object.assign(counts, { roundTrips: 0, scriptCommands: 0, publishes: 0, byCommand: {} });
  counting = true;
  await step();
  await sleep(1_500); // coalescing window and online-count refresh
  counting = false;
  return JSON.parse(JSON.stringify(counts)) as typeof counts;
}

const subject = await makeSubject();
await sleep(500);
let socket!: WebSocket;
const connectCost = await measure(async () => void (socket = await connect(subject.token)));
const disconnectCost = await measure(() => close(socket));

const stormUsers: { token: string; id: string }[] = [];
for (let i = 0; i < STORM; i++) stormUsers.push(await makeSubject());
let stormSockets: WebSocket[] = [];
const started = Date.now();
const stormCost = await measure(async () => void (stormSockets = await Promise.all(stormUsers.map((u) => connect(u.token)))));
const stormMs = Date.now() - started - 1_500;
await Promise.all(stormSockets.map(close));

const result = {
  at: new Date().toISOString(),
  setup: { smallGuilds: SMALL, largeGuilds: LARGE, friends: FRIENDS, storm: STORM },
  connect: connectCost,
  disconnect: disconnectCost,
  storm: { ...stormCost, ms: stormMs, perUser: { roundTrips: stormCost.roundTrips / STORM, scriptCommands: stormCost.scriptCommands / STORM, publishes: stormCost.publishes / STORM } },
};
console.log(JSON.stringify(result, null, 2));
console.log(`\n| step | Redis round trips | commands inside scripts | events published |\n|---|---|---|---|`);
console.log(`| connect | ${connectCost.roundTrips} | ${connectCost.scriptCommands} | ${connectCost.publishes} |`);
console.log(`| disconnect | ${disconnectCost.roundTrips} | ${disconnectCost.scriptCommands} | ${disconnectCost.publishes} |`);
console.log(`| storm, per user (${STORM} at once, ${stormMs} ms) | ${result.storm.perUser.roundTrips} | ${result.storm.perUser.scriptCommands} | ${result.storm.perUser.publishes} |`);
await mkdir(argv.out, { recursive: true });
await writeFile(`${argv.out}/presence-cost-${Date.now()}.json`, JSON.stringify(result, null, 2));

monitorClient.disconnect();
await app.stop();
const cleanup = new Redis(argv.redis);
const keys = await cleanup.keys(`${prefix}*`);
if (keys.length > 0) await cleanup.unlink(...keys);
await cleanup.quit();
