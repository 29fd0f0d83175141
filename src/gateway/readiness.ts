import { withTimeout } from "../redis/connection.js";

/** One dependency readiness asks about: resolves when it answers, rejects (or times out) when it does not. */
export interface ReadinessCheck {
  /** Named in /readyz's answer ("postgres", "redis", "cassandra", "migrations"). */
  name: string;
  check(): Promise<void>;
}

/** What /readyz answers: `ready` only when every check passed and the instance is not draining. */
export interface ReadinessReport {
  ready: boolean;
  draining: boolean;
  /** "ok", or why the check failed. */
  checks: Record<string, string>;
  /** The names of the checks that failed ("draining" when draining). */
  failed: string[];
}

/**
 * Whether this instance should get traffic: its backends answer a cheap ping within `timeoutMs`
 * and it is not draining. A report is reused for `cacheMs` (one round of pings per second
 * however many probes ask); draining is seen at once.
 */
export class Readiness {
  private cached: { at: number; report: Promise<ReadinessReport> } | undefined;
  private drainingSince: number | undefined;

  constructor(
    private readonly checks: readonly ReadinessCheck[],
    private readonly options: { timeoutMs: number; cacheMs: number; now?: () => number } = { timeoutMs: 1_000, cacheMs: 1_000 },
  ) {}

  /** True once {@link startDraining} ran: new sockets and streams are refused. */
  get draining(): boolean {
    return this.drainingSince !== undefined;
  }

  /** Readiness turns false for good (shutdown has begun). */
  startDraining(): void {
    this.drainingSince ??= this.now();
  }

  /** The current report (pings at most once per `cacheMs`). */
  async report(): Promise<ReadinessReport> {
    const now = this.now();
    if (!this.cached || now - this.cached.at >= this.options.cacheMs) this.cached = { at: now, report: this.probe() };
    const report = await this.cached.report;
    if (!this.draining) return report;
    return { ...report, ready: false, draining: true, failed: ["draining", ...report.failed] };
  }

  private async probe(): Promise<ReadinessReport> {
    const results = await Promise.all(
      this.checks.map(async ({ name, check }) => {
        try {
          await withTimeout(check(), this.options.timeoutMs, () => new Error(`no answer within ${this.options.timeoutMs} ms`));
          return [name, "ok"] as const;
        } catch (error) {
          return [name, (error as Error).message || String(error)] as const;
        }
      }),
    );
    const failed = results.filter(([, result]) => result !== "ok").map(([name]) => name);
    return { ready: failed.length === 0, draining: false, checks: Object.fromEntries(results), failed };
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }
}
