/**
 * How much CPU time a fixed piece of work takes on this machine right now, back to back and
 * with idle gaps between pieces: the scale for reading CPU-time figures of different runs.
 *
 * On the 2-vCPU VM of bench/README.md the same work costs up to ~1.6× the CPU time when the
 * thread sleeps 2 ms between pieces (a server at concurrency 1 waiting on its database and its
 * client) than back to back (a busy server), and both move with the host's load: a CPU ms per
 * request is only comparable with one measured under the same probe figures, e.g. in one run.
 */
import { setTimeout as sleep } from "node:timers/promises";

/** A page-like object: 50 messages with authors, about 12 KB of JSON. */
const PAGE = {
  data: {
    channel: {
      messages: {
        edges: Array.from({ length: 50 }, (_, i) => ({
          node: { id: String(255_000_000_000_000_000n + BigInt(i)), content: "probe ".repeat(25), createdAt: new Date(0).toISOString(), editedAt: null, author: { id: String(i % 20), username: `bench_${i % 20}` } },
        })),
      },
    },
  },
};
const unit = () => {
  for (let k = 0; k < 5; k++) JSON.parse(JSON.stringify(PAGE));
};

export interface CpuProbe {
  /** CPU µs per unit of work, run back to back. */
  backToBackUs: number;
  /** CPU µs per unit of work with 2 ms of sleep after each. */
  withIdleGapsUs: number;
}

/** Times `units` pieces of work each way (after a warm-up); about 3 s in all. */
export async function probeCpu(units = 600): Promise<CpuProbe> {
  for (let i = 0; i < 500; i++) unit();
  const perUnit = async (gapMs: number) => {
    const start = process.cpuUsage();
    for (let i = 0; i < units; i++) {
      unit();
      if (gapMs > 0) await sleep(gapMs);
    }
    const used = process.cpuUsage(start);
    return Math.round((used.user + used.system) / units);
  };
  const backToBackUs = await perUnit(0);
  const withIdleGapsUs = await perUnit(2);
  return { backToBackUs, withIdleGapsUs };
}
