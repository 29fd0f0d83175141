import type { ConcordProcess } from "./processes.js";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** One `/readyz` answer: its status (0: no answer) and which checks failed. */
export interface ReadinessSample {
  at: number;
  status: number;
  failed: string[];
}

/**
 * Polls `GET /readyz` of `proc` every `intervalMs` until `stop()`, which resolves with every
 * answer in order: what a load balancer's health check would have seen.
 */
export function watchReadiness(proc: ConcordProcess, intervalMs = 200): { stop(): Promise<ReadinessSample[]> } {
  const samples: ReadinessSample[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const at = Date.now();
      try {
        const res = await fetch(`http://127.0.0.1:${proc.port}/readyz`, { signal: AbortSignal.timeout(3_000) });
        const body = (await res.json().catch(() => ({}))) as { failed?: string[] };
        samples.push({ at, status: res.status, failed: body.failed ?? [] });
      } catch {
        samples.push({ at, status: 0, failed: [] });
      }
      await sleep(Math.max(0, at + intervalMs - Date.now()));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return samples;
    },
  };
}

/** From the first sample that is not 200 to the first 200 after it (undefined if always 200). */
export function notReadyWindow(samples: ReadinessSample[]): { from: number; to: number | undefined; failed: string[] } | undefined {
  const first = samples.findIndex((s) => s.status !== 200);
  if (first < 0) return undefined;
  const back = samples.slice(first).find((s) => s.status === 200);
  const failed = [...new Set(samples.slice(first).filter((s) => s.status !== 200).flatMap((s) => s.failed))];
  return { from: samples[first]!.at, to: back?.at, failed };
}
