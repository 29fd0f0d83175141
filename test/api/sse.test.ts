import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, strip, withTypename, type TestServer } from "../support/server.js";

/**
 * Subscriptions over HTTP (Server-Sent Events, yoga's default for a subscription POSTed with
 * Accept: text/event-stream). Their context lives as long as the stream, like a WebSocket
 * subscription's, so its loaders must not cache: an event must show the guild's name as it is
 * when the event happens, not as it was when the stream first read it.
 */

/** Opens an SSE subscription and collects the `next` payloads as they arrive. */
async function sse(server: TestServer, token: string, query: string, variables: Record<string, unknown>) {
  const abort = new AbortController();
  const res = await fetch(server.url, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "text/event-stream", authorization: `Bearer ${token}` },
    body: JSON.stringify({ query: withTypename(query), variables }),
    signal: abort.signal,
  });
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toMatch(/text\/event-stream/);
  const events: any[] = [];
  const reading = (async () => {
    const decoder = new TextDecoder();
    let buffer = "";
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        let end;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = block.split("\n").filter((l) => l.startsWith("data:")).map((l) => l.slice(5).trim()).join("\n");
          if (!data) continue;
          const event = JSON.parse(data);
          // Subscribed (the first event of every subscription) is not what these tests look at.
          if (strip(event).type !== "Subscribed") events.push(event);
        }
      }
    } catch {
      // aborted
    }
  })();
  return {
    events,
    async waitFor(count: number, timeoutMs = 5_000) {
      const deadline = Date.now() + timeoutMs;
      while (events.length < count) {
        if (Date.now() > deadline) throw new Error(`waited for ${count} events, got ${JSON.stringify(events)}`);
        await new Promise((r) => setTimeout(r, 20));
      }
      return events;
    },
    async close() {
      abort.abort();
      await reading;
    },
  };
}

describe("subscriptions over SSE", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ warmUp: true });
  }, 60_000);
  afterAll(() => server?.close());

  it("reads fresh data for every event (no loader cache kept for the stream's lifetime)", async () => {
    const ada = await server.signUp("ada");
    const created = await server.ok(`mutation { createGuild(input: { name: "Old Name" }) { id channels { id } } }`, {}, ada.token);
    const guildId = created.createGuild.id;
    const channelId = created.createGuild.channels[0].id;
    const stream = await sse(server, ada.token, `subscription($g: ID!) { guildEvents(guildId: $g) { __typename ... on ChannelUpdated { channel { name guild { name } } } } }`, { g: guildId });
    try {
      // The stream is live once a first event gets through: retry the first rename until one arrives.
      for (let i = 0; stream.events.length === 0 && i < 50; i++) {
        await server.ok(`mutation($c: ID!, $n: String!) { updateChannel(input: { channelId: $c, name: $n }) { id } }`, { c: channelId, n: `first-${i}` }, ada.token);
        await new Promise((r) => setTimeout(r, 50));
      }
      await stream.waitFor(1);
      expect(stream.events[0].data.guildEvents.channel.guild.name).toBe("Old Name");
      await server.ok(`mutation($g: ID!) { updateGuild(input: { guildId: $g, name: "New Name" }) { id } }`, { g: guildId }, ada.token);
      await server.ok(`mutation($c: ID!) { updateChannel(input: { channelId: $c, name: "second" }) { id } }`, { c: channelId }, ada.token);
      const events = await stream.waitFor(3);
      const last = events.at(-1).data.guildEvents;
      expect(last.channel.name).toBe("second");
      expect(last.channel.guild.name).toBe("New Name");
    } finally {
      await stream.close();
    }
  });
});

describe("SSE streams count as connections", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ env: { MAX_SOCKETS_PER_USER: "2" } });
  }, 60_000);
  afterAll(() => server?.close());

  it("refuses a user's third stream with LIMIT_EXCEEDED and gives the place back when one ends", async () => {
    const ada = await server.signUp("ada");
    const USER_EVENTS = `subscription { userEvents { __typename } }`;
    const first = await sse(server, ada.token, USER_EVENTS, {});
    const second = await sse(server, ada.token, USER_EVENTS, {});
    const third = await sse(server, ada.token, USER_EVENTS, {});
    const refused = await third.waitFor(1);
    expect(refused[0].errors[0].extensions).toMatchObject({ code: "LIMIT_EXCEEDED", setting: "MAX_SOCKETS_PER_USER" });
    await third.close();
    await first.close();
    // The server notices the closed stream when it next writes or the socket closes: retry briefly.
    let fourth;
    for (let i = 0; i < 50; i++) {
      fourth = await sse(server, ada.token, USER_EVENTS, {});
      await new Promise((r) => setTimeout(r, 100));
      if (fourth.events.length === 0) break;
      await fourth.close();
    }
    expect(fourth!.events).toEqual([]);
    await fourth!.close();
    await second.close();
  });
});
