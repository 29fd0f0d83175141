import { build, type Histogram } from "hdr-histogram-js";

/** Latency percentiles of one series, in milliseconds (3 significant digits). */
export interface LatencySummary {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  mean: number;
}

/** Values are recorded in microseconds; one hour is the largest value tracked exactly. */
const HIGHEST_US = 3_600_000_000;

const round3 = (ms: number) => Math.round(ms * 1000) / 1000;

/**
 * Latency recorder: an HdrHistogram (hdr-histogram-js, 3 significant digits, microsecond
 * resolution), so percentiles are within 0.1 % of the exact value whatever the number of samples.
 * Values above one hour are clamped to one hour (and still counted).
 */
export class LatencyHistogram {
  private readonly histogram: Histogram = build({
    bitBucketSize: "packed",
    numberOfSignificantValueDigits: 3,
    lowestDiscernibleValue: 1,
    highestTrackableValue: HIGHEST_US,
    autoResize: false,
  });
  /** Exact maximum (the histogram's is rounded to its bucket). */
  private maxNs = 0n;

  /** Records one duration given in nanoseconds (as from process.hrtime.bigint()). */
  recordNs(ns: bigint): void {
    if (ns < 0n) throw new RangeError(`negative duration ${ns} ns`);
    if (ns > this.maxNs) this.maxNs = ns;
    const us = Number(ns / 1_000n);
    this.histogram.recordValue(Math.min(Math.max(us, 1), HIGHEST_US));
  }

  /** Records one duration given in milliseconds. */
  recordMs(ms: number): void {
    this.recordNs(BigInt(Math.round(ms * 1e6)));
  }

  /** Times `fn` and records its duration, also when it throws. */
  async time<T>(fn: () => Promise<T>): Promise<T> {
    const start = process.hrtime.bigint();
    try {
      return await fn();
    } finally {
      this.recordNs(process.hrtime.bigint() - start);
    }
  }

  get count(): number {
    return this.histogram.totalCount;
  }

  /** Percentiles in milliseconds; all zero when nothing was recorded. */
  summary(): LatencySummary {
    const count = this.histogram.totalCount;
    if (count === 0) return { count: 0, p50: 0, p90: 0, p99: 0, p999: 0, max: 0, mean: 0 };
    const maxMs = Number(this.maxNs) / 1e6;
    // The histogram answers with the top of a value's bucket, which can lie above the exact max.
    const at = (percentile: number) => round3(Math.min(this.histogram.getValueAtPercentile(percentile) / 1000, maxMs));
    return {
      count,
      p50: at(50),
      p90: at(90),
      p99: at(99),
      p999: at(99.9),
      max: round3(maxMs),
      mean: round3(this.histogram.mean / 1000),
    };
  }

  /** Frees the histogram's buffers (only matters for the WebAssembly variant; harmless here). */
  destroy(): void {
    this.histogram.destroy();
  }
}
