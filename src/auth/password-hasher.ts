import { randomBytes } from "node:crypto";
import { ConcordError } from "../errors.js";
import { ConcurrencySlots } from "../limits/concurrency-slots.js";
import { hashPassword, verifyPassword } from "./password.js";

export interface PasswordHasherOptions {
  /** log2 of scrypt's N for new hashes (PASSWORD_HASH_COST); each one needs 128 * 2^cost * 8 bytes. */
  cost: number;
  /** Hashes and verifications running at once in this process (PASSWORD_HASH_CONCURRENCY). */
  concurrency: number;
  /** Calls that may wait for a free slot (PASSWORD_HASH_QUEUE); more are refused with RATE_LIMITED. */
  queueSize: number;
}

/** Guess of one hash's duration before any was measured, for the first retryAfterMs. */
const FIRST_GUESS_MS = 100;

/**
 * Password hashing and verification for one process, bounded: at cost 17 one scrypt call holds
 * 128 MiB and a libuv thread for a few hundred ms, so unbounded concurrent logins would exhaust
 * memory and starve file and DNS work sharing the thread pool. At most `concurrency` calls run,
 * at most `queueSize` wait in arrival order, and a call arriving at a full queue fails at once
 * with RATE_LIMITED (scope GLOBAL, bucket "password-hashing") and a retryAfterMs estimated from
 * the measured duration of recent hashes.
 */
export class PasswordHasher {
  readonly cost: number;
  private readonly concurrency: number;
  private readonly queueSize: number;
  private readonly slots: ConcurrencySlots;
  /** Moving average of one call's duration. */
  private averageMs: number | undefined;
  /** The hash unknown usernames are checked against, made on first need at this hasher's cost. */
  private decoy: Promise<string> | undefined;

  constructor(options: PasswordHasherOptions) {
    this.cost = options.cost;
    this.concurrency = options.concurrency;
    this.queueSize = options.queueSize;
    this.slots = new ConcurrencySlots(options.concurrency, options.queueSize);
  }

  /** Calls running now and waiting now. */
  get load(): { running: number; waiting: number } {
    return { running: this.slots.active, waiting: this.slots.queued };
  }

  /** Hashes a new password at this hasher's cost. RATE_LIMITED when the queue is full. */
  hash(password: string): Promise<string> {
    return this.run(() => hashPassword(password, this.cost));
  }

  /**
   * Checks a password against a stored hash. With no hash (unknown user, or an account without
   * a password), checks it against a decoy hash and answers false, so the answer takes as long as
   * a wrong password and does not tell which usernames exist. RATE_LIMITED when the queue is full.
   */
  async verify(password: string, stored: string | null): Promise<boolean> {
    if (stored !== null) return this.run(() => verifyPassword(password, stored));
    await this.run(async () => verifyPassword(password, await this.decoyHash()));
    return false;
  }

  /** Made inside a slot already held, so it does not queue behind itself. */
  private decoyHash(): Promise<string> {
    this.decoy ??= hashPassword(randomBytes(16).toString("base64url"), this.cost).catch((error: unknown) => {
      this.decoy = undefined;
      throw error;
    });
    return this.decoy;
  }

  private run<T>(task: () => Promise<T>): Promise<T> {
    const running = this.slots.run(async () => {
      const started = performance.now();
      try {
        return await task();
      } finally {
        const took = performance.now() - started;
        this.averageMs = this.averageMs === undefined ? took : this.averageMs * 0.8 + took * 0.2;
      }
    });
    return running ?? Promise.reject(this.busy());
  }

  /** The refusal: retry once everything running and waiting now should be done. */
  private busy(): ConcordError {
    const perCall = this.averageMs ?? FIRST_GUESS_MS;
    const retryAfterMs = Math.max(1, Math.ceil((perCall * (this.slots.active + this.slots.queued)) / this.concurrency));
    return new ConcordError("RATE_LIMITED", "Too many sign-ins and sign-ups are being checked on this server right now; try again in a moment.", {
      retryAfterMs,
      bucket: "password-hashing",
      limit: this.concurrency + this.queueSize,
      remaining: 0,
      resetAfterMs: retryAfterMs,
      scope: "GLOBAL",
    });
  }
}
