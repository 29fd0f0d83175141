import { request } from "./graphql-http.js";
import { startBot } from "./concord-bot.js";

/**
 * Runs the example bot: `CONCORD_BOT_TOKEN=cnc_… npx tsx examples/bot/main.ts`. Without a bot
 * token, `CONCORD_OWNER_TOKEN` (a person's token) creates a bot named `BOT_NAME` first and prints
 * its token (shown once: keep it).
 */

const url = process.env.CONCORD_URL ?? "http://localhost:4000/graphql";
let token = process.env.CONCORD_BOT_TOKEN;
if (!token) {
  const owner = process.env.CONCORD_OWNER_TOKEN;
  if (!owner) {
    console.error("Set CONCORD_BOT_TOKEN, or CONCORD_OWNER_TOKEN to create a bot.");
    process.exit(1);
  }
  const created = await request<{ createBot: { token: string; user: { id: string; username: string } } }>(
    url,
    owner,
    `mutation($u: String!) { createBot(input: { username: $u }) { token user { id username } } }`,
    { u: process.env.BOT_NAME ?? "example_bot" },
  );
  token = created.createBot.token;
  console.log(`Created bot ${created.createBot.user.username} (${created.createBot.user.id}). Its token, shown once: ${token}`);
  console.log("Invite it to a guild with an invite code (joinGuild, with its token), then talk to it: !ping, !purge 5.");
}

const bot = startBot({ url, token });
console.log(`Listening on ${url} as bot ${await bot.id}. Ctrl-C to stop.`);
process.on("SIGINT", () => void bot.stop().then(() => process.exit(0)));
