import type { ConcordProcess } from "./processes.js";

/**
 * A steady send load on one Concord instance, from a client that does what a well-behaved client
 * does: every send carries a nonce, and a failed send is repeated with the same nonce (after
 * 250 ms) until it is acknowledged (so an outage costs latency, never a duplicate).
 */

const SEND = `mutation($c: ID!, $t: String!, $n: String!) { sendMessage(input: { channelId: $c, content: $t, nonce: $n }) { id } }`;

/** One HTTP call of a send. */
export interface SendAttempt {
  /** The logical send's content (also its nonce). */
  content: string;
  /** When the call started and how long it took to answer, in ms (Date.now() clock). */
  startedAt: number;
  ms: number;
  /** The message id, when acknowledged. */
  id?: string;
  /** The error's extensions.code; "(none)" for an error without one, "(transport)" for no answer. */
  code?: string;
  message?: string;
}

export interface SendLoadOptions {
  /** Logical sends started per second (open loop: a slow answer does not slow the schedule). */
  perSecond: number;
  /** Label in every content, so two loads in one channel are told apart. */
  label: string;
  /** Longest wait for one HTTP answer before it counts as a hang (default 15 s). */
  attemptTimeoutMs?: number;
  /** A logical send still unacknowledged after this long is given up (default 120 s). */
  giveUpMs?: number;
}

/** What a load did: acknowledged sends, every attempt, and the sends given up. */
export interface SendLoadResult {
  /** content -> acknowledged message id. */
  acknowledged: Map<string, string>;
  attempts: SendAttempt[];
  /** Contents never acknowledged (given up). */
  givenUp: string[];
  /** Logical sends started. */
  started: number;
}

/** Wait between a failed attempt and the next try of the same send. */
const RETRY_DELAY_MS = 250;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Starts sending `perSecond` messages per second to `channelId` through `proc` as the holder of
 * `token`; `stop()` stops starting new ones and resolves once every started send was
 * acknowledged or given up.
 */
export function startSendLoad(proc: ConcordProcess, token: string, channelId: string, options: SendLoadOptions): { stop(): Promise<SendLoadResult> } {
  const result: SendLoadResult = { acknowledged: new Map(), attempts: [], givenUp: [], started: 0 };
  const attemptTimeoutMs = options.attemptTimeoutMs ?? 15_000;
  const giveUpMs = options.giveUpMs ?? 120_000;
  const inFlight = new Set<Promise<void>>();
  let running = true;

  const attempt = async (content: string): Promise<SendAttempt> => {
    const startedAt = Date.now();
    try {
      const res = await proc.gql<{ sendMessage: { id: string } }>(SEND, { c: channelId, t: content, n: content }, token, attemptTimeoutMs);
      const ms = Date.now() - startedAt;
      if (res.data?.sendMessage) return { content, startedAt, ms, id: res.data.sendMessage.id };
      const error = res.errors?.[0];
      return { content, startedAt, ms, code: error?.extensions?.code ?? "(none)", message: error?.message };
    } catch (error) {
      return { content, startedAt, ms: Date.now() - startedAt, code: "(transport)", message: (error as Error).message };
    }
  };

  const send = async (content: string) => {
    const deadline = Date.now() + giveUpMs;
    for (;;) {
      const outcome = await attempt(content);
      result.attempts.push(outcome);
      if (outcome.id !== undefined) {
        result.acknowledged.set(content, outcome.id);
        return;
      }
      if (Date.now() > deadline) {
        result.givenUp.push(content);
        return;
      }
      // Shorter than the server's retryAfterMs (1 s), so the error window is measured finely.
      await sleep(RETRY_DELAY_MS);
    }
  };

  const loop = (async () => {
    const interval = 1_000 / options.perSecond;
    const t0 = Date.now();
    for (let i = 0; running; i++) {
      const content = `${options.label}-${i}`;
      result.started++;
      const task = send(content).finally(() => inFlight.delete(task));
      inFlight.add(task);
      const next = t0 + (i + 1) * interval;
      await sleep(Math.max(0, next - Date.now()));
    }
  })();

  return {
    async stop() {
      running = false;
      await loop;
      while (inFlight.size > 0) await Promise.all([...inFlight]);
      return result;
    },
  };
}

/** Failed attempts, and the window from the first failure's start to the last failure's answer. */
export function failureWindow(attempts: SendAttempt[]): { failed: SendAttempt[]; firstAt: number | null; lastAt: number | null; windowMs: number } {
  const failed = attempts.filter((a) => a.id === undefined);
  if (failed.length === 0) return { failed, firstAt: null, lastAt: null, windowMs: 0 };
  const firstAt = Math.min(...failed.map((a) => a.startedAt));
  const lastAt = Math.max(...failed.map((a) => a.startedAt + a.ms));
  return { failed, firstAt, lastAt, windowMs: lastAt - firstAt };
}

/** Counts of `values` by value, e.g. { UNAVAILABLE: 3 }. */
export function countBy(values: (string | undefined)[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const value of values) counts[value ?? "(ok)"] = (counts[value ?? "(ok)"] ?? 0) + 1;
  return counts;
}
