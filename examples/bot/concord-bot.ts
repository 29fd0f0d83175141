import { createClient, type Client } from "graphql-ws";
import WebSocket from "ws";
import { handle, type HeardMessage } from "./commands.js";
import { request } from "./graphql-http.js";

/**
 * A Concord bot on one `messageEvents` subscription (docs/LIVE.md §2.5): it hears every channel
 * it can read, keeps the last cursor of each, and after a disconnect subscribes again with those
 * cursors, so each channel replays exactly what it missed: no command is lost or handled twice.
 * Commands run one at a time, in the order they were heard.
 */

export interface BotOptions {
  /** The HTTP endpoint, e.g. http://localhost:4000/graphql (the WebSocket one is derived from it). */
  url: string;
  /** The bot's token (from createBot or resetBotToken). */
  token: string;
  /** Wait before reconnecting after the socket dropped (doubles up to 30 s while it keeps failing). */
  reconnectDelayMs?: number;
  /** The WebSocket class (tests pass one they can close). */
  webSocketImpl?: unknown;
  log?: (line: string) => void;
}

/** A running bot. */
export interface RunningBot {
  /** The bot's user id, once known. */
  readonly id: Promise<string>;
  /** The last cursor of every channel the bot follows, by channel id. */
  readonly cursors: ReadonlyMap<string, string>;
  /** How many times it subscribed again after losing the stream. */
  readonly reconnects: number;
  /** Ends the subscription and closes the socket; resolves once queued commands are done. */
  stop(): Promise<void>;
}

const EVENTS = `subscription($resume: [ChannelResumeCursor!]) { messageEvents(resume: $resume) {
  __typename
  ... on ChannelWatched { channelId cursor }
  ... on ChannelUnwatched { channelId cause }
  ... on ChannelResyncRequired { channelId cursor reason }
  ... on MessageCreated { channelId cursor message { id content author { id } } }
  ... on MessageUpdated { channelId cursor }
  ... on MessageDeleted { channelId cursor }
} }`;

type StreamEvent = {
  __typename: string;
  channelId?: string;
  cursor?: string;
  cause?: string;
  reason?: string;
  message?: { id: string; content: string; author: { id: string } };
};

/** Starts the bot; it runs until `stop()`. */
export function startBot(options: BotOptions): RunningBot {
  return new Bot(options);
}

class Bot implements RunningBot {
  readonly cursors = new Map<string, string>();
  reconnects = 0;
  readonly id: Promise<string>;
  private client: Client | null = null;
  private unsubscribe: (() => void) | null = null;
  private stopped = false;
  private failures = 0;
  /** Commands run in order; the chain is awaited by stop(). */
  private work: Promise<void> = Promise.resolve();
  private readonly log: (line: string) => void;

  constructor(private readonly options: BotOptions) {
    this.log = options.log ?? ((line) => console.log(line));
    this.id = request<{ me: { id: string } }>(options.url, options.token, `{ me { id } }`).then((data) => data.me.id);
    this.id.then(
      () => this.connect(),
      (error: unknown) => this.log(`cannot sign in: ${String(error)}`),
    );
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    await this.client?.dispose();
    await this.work;
  }

  /** One socket, one subscription, resuming every channel it has a cursor for. */
  private connect(): void {
    if (this.stopped) return;
    const client = createClient({
      url: this.options.url.replace(/^http/, "ws"),
      webSocketImpl: this.options.webSocketImpl ?? WebSocket,
      connectionParams: { authorization: `Bearer ${this.options.token}`, client: "Concord example bot" },
      // We resubscribe ourselves, with fresh cursors: graphql-ws's retry would reuse the old ones.
      retryAttempts: 0,
      lazy: false,
      onNonLazyError: () => {},
    });
    this.client = client;
    const resume = [...this.cursors].map(([channelId, after]) => ({ channelId, after }));
    this.unsubscribe = client.subscribe<{ messageEvents: StreamEvent }>(
      { query: EVENTS, variables: { resume } },
      {
        next: (result) => {
          if (result.errors?.length) return this.log(`stream error: ${result.errors[0]!.message}`);
          this.failures = 0;
          if (result.data) this.onEvent(result.data.messageEvents);
        },
        error: (error) => this.lost(client, error),
        complete: () => this.lost(client, "completed"),
      },
    );
  }

  /** The stream is gone (socket closed, server ended it): subscribe again after a pause. */
  private lost(client: Client, why: unknown): void {
    if (this.stopped || client !== this.client) return;
    this.client = null;
    void client.dispose();
    const delay = Math.min(30_000, (this.options.reconnectDelayMs ?? 1_000) * 2 ** this.failures++);
    this.log(`stream lost (${describe(why)}); resuming ${this.cursors.size} channels in ${delay} ms`);
    setTimeout(() => {
      if (this.stopped) return;
      this.reconnects++;
      this.connect();
    }, delay);
  }

  private onEvent(event: StreamEvent): void {
    const channelId = event.channelId;
    if (channelId === undefined) return; // Subscribed
    if (event.__typename === "ChannelUnwatched") return void this.cursors.delete(channelId);
    if (event.cursor) this.cursors.set(channelId, event.cursor);
    if (event.__typename === "ChannelResyncRequired") this.log(`events of ${channelId} were lost (${event.reason}); commands in that gap are skipped`);
    const message = event.message;
    if (event.__typename !== "MessageCreated" || !message) return;
    const heard: HeardMessage = { id: message.id, channelId, content: message.content, authorId: message.author.id };
    this.work = this.work.then(async () => {
      try {
        await handle({ url: this.options.url, token: this.options.token, botId: await this.id, log: this.log }, heard);
      } catch (error) {
        this.log(`command ${heard.id} failed: ${String(error)}`);
      }
    });
  }
}

function describe(why: unknown): string {
  if (why && typeof why === "object" && "code" in why) return `close ${(why as { code: number }).code}`;
  return String(why);
}
