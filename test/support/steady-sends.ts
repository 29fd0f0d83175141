import type { ConcordProcess, GqlResponse } from "./processes.js";

/**
 * Load for the fault tiers: messages sent at a steady rate through the public API, each one's
 * outcome recorded as a client sees it (an id, a coded GraphQL error, or no answer at all), and
 * the channel's history read back to check what was stored against what was acknowledged.
 */

const SEND = `mutation($c: ID!, $t: String!) { sendMessage(input: { channelId: $c, content: $t }) { id } }`;
const HISTORY = `query($c: ID!, $before: ID) { channel(id: $c) { messages(last: 100, before: $before) {
  pageInfo { hasPreviousPage startCursor } edges { node { id content } } } } }`;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** One send as the client saw it. */
export interface SendOutcome {
  content: string;
  /** When the request went out and when its answer came (ms since the epoch). */
  startedAt: number;
  settledAt: number;
  /** The message id: acknowledged. */
  id?: bigint;
  /** A GraphQL error's `extensions.code` (no id: the send failed, or its outcome is unknown). */
  code?: string;
  message?: string;
  /** No GraphQL answer: the request failed or timed out (a client cannot tell what happened). */
  transportError?: string;
}

/** Sends `content` once through `proc` as `token`; never throws. */
export async function sendOnce(proc: ConcordProcess, token: string, channelId: string, content: string, timeoutMs = 15_000): Promise<SendOutcome> {
  const startedAt = Date.now();
  try {
    const res = await proc.gql<{ sendMessage: { id: string } }>(SEND, { c: channelId, t: content }, token, timeoutMs);
    const settledAt = Date.now();
    if (res.data?.sendMessage) return { content, startedAt, settledAt, id: BigInt(res.data.sendMessage.id) };
    const error = res.errors?.[0];
    return { content, startedAt, settledAt, code: error?.extensions?.code ?? "(no code)", message: error?.message };
  } catch (error) {
    return { content, startedAt, settledAt: Date.now(), transportError: (error as Error).message };
  }
}

/**
 * Sends `<prefix><n>` every `intervalMs` (n = 0, 1, …) without waiting for answers, so a slow or
 * failing backend shows as slow or failed sends rather than as a lower rate, until `stop()`;
 * `stop` resolves with every outcome, in send order, once all have settled.
 */
export function steadySends(options: { proc: ConcordProcess; token: string; channelId: string; prefix: string; intervalMs: number; timeoutMs?: number }): {
  stop(): Promise<SendOutcome[]>;
  /** Outcomes settled so far. */
  settled(): SendOutcome[];
} {
  const inFlight: Promise<SendOutcome>[] = [];
  const done: SendOutcome[] = [];
  let running = true;
  const loop = (async () => {
    const started = Date.now();
    for (let n = 0; running; n++) {
      const outcome = sendOnce(options.proc, options.token, options.channelId, `${options.prefix}${n}`, options.timeoutMs);
      inFlight.push(outcome);
      void outcome.then((o) => done.push(o));
      // Against drift: the n-th send goes out at started + n * interval.
      await sleep(Math.max(0, started + (n + 1) * options.intervalMs - Date.now()));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return Promise.all(inFlight);
    },
    settled: () => done,
  };
}

/** Every message of a channel, oldest first, read back page by page through `proc`. */
export async function channelHistory(proc: ConcordProcess, token: string, channelId: string): Promise<{ id: bigint; content: string }[]> {
  const pages: { id: bigint; content: string }[][] = [];
  let before: string | null = null;
  for (let page = 0; page < 1_000; page++) {
    type Page = { channel: { messages: { pageInfo: { hasPreviousPage: boolean; startCursor: string | null }; edges: { node: { id: string; content: string } }[] } } };
    const res: GqlResponse<Page> = await proc.gql<Page>(HISTORY, { c: channelId, before }, token);
    const connection = res.data?.channel.messages;
    if (!connection) throw new Error(`history through ${proc.name} failed: ${JSON.stringify(res.errors)}\n${proc.tail(15)}`);
    pages.unshift(connection.edges.map((e) => ({ id: BigInt(e.node.id), content: e.node.content })));
    if (!connection.pageInfo.hasPreviousPage) return pages.flat();
    before = connection.pageInfo.startCursor;
  }
  throw new Error(`history through ${proc.name}: more than 1,000 pages`);
}

/** The longest quiet stretch between consecutive times (sorted), with where it starts and ends. */
export function longestGap(times: number[]): { ms: number; from: number; to: number } {
  const sorted = [...times].sort((a, b) => a - b);
  let best = { ms: 0, from: sorted[0] ?? 0, to: sorted[0] ?? 0 };
  for (let i = 1; i < sorted.length; i++) {
    const ms = sorted[i]! - sorted[i - 1]!;
    if (ms > best.ms) best = { ms, from: sorted[i - 1]!, to: sorted[i]! };
  }
  return best;
}
