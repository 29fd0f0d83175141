import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createApp, type App } from "../../src/app.js";
import { loadConfig } from "../../src/config.js";
import { createLogger } from "../../src/logger.js";

/** The zero-setup promise: with no environment but a data directory, data survives a restart. */
describe("embedded database on disk", () => {
  let dir: string;
  let app: App | undefined;
  afterAll(async () => {
    await app?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const start = async () => {
    const config = loadConfig({ PORT: "0", HOST: "127.0.0.1", DATA_DIR: dir, PASSWORD_HASH_COST: "10" });
    const started = await createApp(config, { logger: createLogger("error", () => {}) });
    await started.start();
    return started;
  };
  const gql = async (query: string, token?: string) => {
    const res = await fetch(app!.url.replace("localhost", "127.0.0.1"), {
      method: "POST",
      headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify({ query }),
    });
    return (await res.json()) as { data?: any; errors?: unknown[] };
  };

  it("keeps users, guilds, messages and sessions across a restart", async () => {
    dir = await mkdtemp(path.join(tmpdir(), "concord-data-"));
    app = await start();
    const reg = await gql(`mutation { register(input: { username: "persistent", password: "correct horse" }) { token } }`);
    const token = reg.data.register.token as string;
    const guild = await gql(`mutation { createGuild(input: { name: "Still here" }) { channels { id } } }`, token);
    const channelId = guild.data.createGuild.channels[0].id as string;
    const sent = await gql(`mutation { sendMessage(input: { channelId: "${channelId}", content: "remember me" }) { id } }`, token);
    // Sending acks the author's own message; acks are batched, and a graceful stop writes them.
    await app.stop();

    app = await start();
    // Guilds, then channels per guild: channels of every guild at once would cost too much (README, "Query cost").
    const me = await gql(`{ me { username guilds { name } } }`, token);
    expect(me.data.me).toEqual({ username: "persistent", guilds: [{ name: "Still here" }] });
    const history = await gql(`{ channel(id: "${channelId}") { messages { edges { node { content } } } } }`, token);
    expect(history.data.channel.messages.edges).toEqual([{ node: { content: "remember me" } }]);
    const read = await gql(`{ channel(id: "${channelId}") { readState { lastReadMessageId unreadCount } } }`, token);
    expect(read.data.channel.readState).toEqual({ lastReadMessageId: sent.data.sendMessage.id, unreadCount: 0 });
    const login = await gql(`mutation { login(input: { username: "persistent", password: "correct horse" }) { token } }`);
    expect(login.data.login.token).toMatch(/^cnc_/);
  }, 120_000);
});
