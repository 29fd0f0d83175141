/**
 * WebSocket load generator: N client sockets in this process, with as little work per socket
 * and per message as possible, so the client is not what gets measured.
 *
 * - Plain `ws` sockets (no graphql-ws client). In "graphql-ws" mode each socket speaks just
 *   enough of graphql-transport-ws: connection_init {authorization: "Bearer <token>"}, wait for
 *   connection_ack, one subscribe {id: "1"}, answer protocol pings. In "raw" mode a socket is
 *   ready once open (the plain broadcast server).
 * - `localAddress` rotates over 127.0.0.(offset+1) ... 127.0.0.(offset+k), k = ceil(N / 20,000)
 *   by default: each source address has its own ~28k ephemeral ports (net.ipv4.ip_local_port_range).
 * - At most `concurrency` handshakes (TCP + HTTP upgrade + init/ack + subscribe) in flight.
 * - Messages are not JSON-parsed on the hot path: a broadcast carries the marker "bench:<seq>:"
 *   (in the message content); the marker is found with Buffer.indexOf on the raw frame and the
 *   digits after it are read by hand. Only frames without the marker (acks, errors, complete,
 *   pings, other events) are decoded.
 * - Errors and closes are counted by code.
 *
 * Time stamps are performance.now() milliseconds of this process, taken first thing in the
 * message handler.
 */
import { performance } from "node:perf_hooks";
import WebSocket from "ws";
import { LatencyHistogram, type LatencySummary } from "./histogram.js";

export type WsLoadMode = "graphql-ws" | "raw";

export interface WsLoadOptions {
  /** ws://host:port/path */
  url: string;
  /** Socket i's URL when sockets are spread over several servers (default: `url` for all). */
  urlOf?: (i: number) => string;
  /** How many sockets. */
  count: number;
  mode: WsLoadMode;
  /** graphql-ws: the bearer token of socket i. */
  token?: (i: number) => string;
  /** graphql-ws: the one subscription each socket starts (id "1"). */
  subscription?: { query: string; variables: (i: number) => Record<string, unknown> };
  /** Source addresses: a count k (127.0.0.(offset+1) ... (offset+k)) or explicit addresses. Default ceil(count / 20,000). */
  addresses?: number | string[];
  /** With a count of addresses: start after 127.0.0.(offset). Default 0. */
  addressOffset?: number;
  /** Handshakes in flight (default 200). */
  concurrency?: number;
  /** Longest wait from socket creation to ready (default 30 s); then the socket is dropped as failed. */
  handshakeTimeoutMs?: number;
  /** Marker that precedes the broadcast number in the content (default "bench:"). */
  marker?: string;
  /** Called once per received marked frame (duplicates included: the receiver decides). */
  onReceipt: (socket: number, seq: number, atMs: number) => void;
  /** Called with every `next` frame without the marker (e.g. a subscription's `Subscribed`), decoded as text. */
  onOtherNext?: (socket: number, text: string, atMs: number) => void;
  /** Keep the last marked frame received by this socket (see {@link WsLoad.sample}). Default 0. */
  sampleSocket?: number;
  /** Checked between handshakes: stop opening sockets when it returns true. */
  shouldStop?: () => boolean;
  /** Progress callback, at most every `progressEveryMs` (default 5 s) during connectAll. */
  onProgress?: (progress: { started: number; ready: number; failed: number }) => void;
  progressEveryMs?: number;
}

export interface ConnectReport {
  requested: number;
  /** Sockets that completed the handshake (graphql-ws: ack received and subscribe sent). */
  ready: number;
  failed: number;
  /** From the first socket created until the last handshake ended (ready or failed). */
  ms: number;
  /** Per-socket handshake time, socket created → ready (graphql-ws: connection_ack received). */
  handshakeMs: LatencySummary;
  /** Failures by cause (error code, "close <code>", "handshake timeout", ...). */
  failures: Record<string, number>;
  addresses: string[];
  concurrency: number;
  stopped: boolean;
}

export interface WsLoadStats {
  /** Marked frames (broadcasts) received, all sockets. */
  marked: number;
  /** Frames of type "next" without the marker (other events, or a payload with errors). */
  otherNext: number;
  /** Protocol "error" frames (an operation refused). */
  errorFrames: number;
  /** "complete" frames: the server ended a subscription. */
  completeFrames: number;
  /** graphql-ws pings answered. */
  pings: number;
  /** Frames that did not parse or had an unexpected type. */
  unexpectedFrames: number;
  /** Sockets that closed while not expected to (after `expectClose()` closes are counted under `expectedCloses`), by close code. */
  closes: Record<string, number>;
  expectedCloses: Record<string, number>;
  /** Socket errors after the handshake, by code. */
  errors: Record<string, number>;
  /** Up to 5 frames worth seeing (errors, completes, unmarked next), truncated. */
  samples: string[];
}

const READY = 2;
const OPENING = 1;
const CLOSED = 3;

const bump = (map: Record<string, number>, key: string) => void (map[key] = (map[key] ?? 0) + 1);

/** Default number of source addresses for `count` sockets. */
export function defaultAddressCount(count: number): number {
  return Math.max(1, Math.ceil(count / 20_000));
}

/** 127.0.0.(offset+1) ... 127.0.0.(offset+k), wrapping within 1..254. */
export function loopbackAddresses(k: number, offset = 0): string[] {
  return Array.from({ length: k }, (_, i) => `127.0.0.${((offset + i) % 254) + 1}`);
}

export class WsLoad {
  readonly count: number;
  /** Per socket: 0 not started, 1 opening, 2 ready, 3 closed/failed. */
  readonly state: Uint8Array;
  readonly stats: WsLoadStats = { marked: 0, otherNext: 0, errorFrames: 0, completeFrames: 0, pings: 0, unexpectedFrames: 0, closes: {}, expectedCloses: {}, errors: {}, samples: [] };
  /** Sockets ready and not closed right now. */
  openNow = 0;
  private readonly sockets: (WebSocket | null)[];
  private readonly markerBytes: Buffer;
  private readonly addresses: string[];
  private readonly sampleSocket: number;
  private sampleFrame: Buffer | undefined;
  private closingExpected = false;
  private readonly subscribeFrames: ((i: number) => string) | null;

  constructor(private readonly options: WsLoadOptions) {
    this.count = options.count;
    this.state = new Uint8Array(options.count);
    this.sockets = new Array<WebSocket | null>(options.count).fill(null);
    this.markerBytes = Buffer.from(options.marker ?? "bench:");
    const a = options.addresses ?? defaultAddressCount(options.count);
    this.addresses = typeof a === "number" ? loopbackAddresses(a, options.addressOffset ?? 0) : a;
    this.sampleSocket = options.sampleSocket ?? 0;
    if (options.mode === "graphql-ws") {
      if (!options.token || !options.subscription) throw new Error("graphql-ws mode needs token and subscription");
      const { query, variables } = options.subscription;
      this.subscribeFrames = (i) => JSON.stringify({ id: "1", type: "subscribe", payload: { query, variables: variables(i) } });
    } else {
      this.subscribeFrames = null;
    }
  }

  /** The last marked frame received by the sample socket, as text. */
  sample(): string | undefined {
    return this.sampleFrame?.toString("utf8");
  }

  /** Whether socket i is ready and open. */
  isOpen(i: number): boolean {
    return this.state[i] === READY;
  }

  /** Opens every socket, `concurrency` handshakes at a time. Never rejects: failures are counted. */
  async connectAll(): Promise<ConnectReport> {
    const concurrency = Math.max(1, Math.min(this.options.concurrency ?? 200, this.count));
    const hist = new LatencyHistogram();
    const failures: Record<string, number> = {};
    let next = 0;
    let ready = 0;
    let failed = 0;
    let stopped = false;
    const started = performance.now();
    let lastProgress = started;
    const every = this.options.progressEveryMs ?? 5_000;
    const worker = async () => {
      for (;;) {
        if (this.options.shouldStop?.()) {
          stopped = true;
          return;
        }
        const i = next++;
        if (i >= this.count) return;
        const t0 = process.hrtime.bigint();
        const failure = await this.open(i);
        if (failure === null) {
          hist.recordNs(process.hrtime.bigint() - t0);
          ready++;
        } else {
          failed++;
          bump(failures, failure);
        }
        if (this.options.onProgress && performance.now() - lastProgress >= every) {
          lastProgress = performance.now();
          this.options.onProgress({ started: Math.min(next, this.count), ready, failed });
        }
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    const ms = performance.now() - started;
    const report: ConnectReport = { requested: this.count, ready, failed, ms: Math.round(ms * 10) / 10, handshakeMs: hist.summary(), failures, addresses: this.addresses, concurrency, stopped };
    hist.destroy();
    return report;
  }

  /** Opens socket i; resolves with null when ready, or the failure cause. */
  private open(i: number): Promise<string | null> {
    const { options } = this;
    const graphqlWs = options.mode === "graphql-ws";
    return new Promise((resolve) => {
      let settled = false;
      const settle = (failure: string | null) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (failure !== null) {
          this.state[i] = CLOSED;
          this.sockets[i] = null;
          socket.terminate();
        }
        resolve(failure);
      };
      let socket: WebSocket;
      try {
        socket = new WebSocket(options.urlOf?.(i) ?? options.url, graphqlWs ? "graphql-transport-ws" : undefined, {
          localAddress: this.addresses[i % this.addresses.length],
          perMessageDeflate: false,
          skipUTF8Validation: true,
          handshakeTimeout: options.handshakeTimeoutMs ?? 30_000,
        });
      } catch (error) {
        this.state[i] = CLOSED;
        resolve(`constructor: ${(error as Error).message.slice(0, 60)}`);
        return;
      }
      const timer = setTimeout(() => settle("handshake timeout"), options.handshakeTimeoutMs ?? 30_000);
      this.sockets[i] = socket;
      this.state[i] = OPENING;
      const becomeReady = () => {
        this.state[i] = READY;
        this.openNow++;
        settle(null);
      };
      socket.on("open", () => {
        if (graphqlWs) socket.send(JSON.stringify({ type: "connection_init", payload: { authorization: `Bearer ${options.token!(i)}` } }));
        else becomeReady();
      });
      socket.on("message", (data: Buffer) => {
        const at = performance.now();
        if (this.state[i] === READY) {
          const m = data.indexOf(this.markerBytes);
          if (m >= 0) {
            let seq = 0;
            let p = m + this.markerBytes.length;
            let c = data[p];
            while (c !== undefined && c >= 48 && c <= 57) {
              seq = seq * 10 + (c - 48);
              c = data[++p];
            }
            this.stats.marked++;
            if (i === this.sampleSocket) this.sampleFrame = data;
            options.onReceipt(i, seq, at);
            return;
          }
        }
        this.control(i, socket, data, becomeReady, at);
      });
      socket.on("error", (error: NodeJS.ErrnoException) => {
        const code = error.code ?? error.message.replace(/\d{2,}/g, "N").slice(0, 60);
        if (!settled) settle(code);
        else if (!this.closingExpected) bump(this.stats.errors, code);
      });
      socket.on("close", (code: number) => {
        const wasReady = this.state[i] === READY;
        this.state[i] = CLOSED;
        this.sockets[i] = null;
        if (wasReady) {
          this.openNow--;
          bump(this.closingExpected ? this.stats.expectedCloses : this.stats.closes, String(code));
        }
        if (!settled) settle(`close ${code}`);
      });
    });
  }

  /** Frames without the marker: the protocol, and anything unexpected. */
  private control(i: number, socket: WebSocket, data: Buffer, becomeReady: () => void, at: number): void {
    const text = data.toString("utf8");
    let message: { type?: string; payload?: unknown };
    try {
      message = JSON.parse(text) as { type?: string };
    } catch {
      this.stats.unexpectedFrames++;
      this.keep(i, text);
      return;
    }
    switch (message.type) {
      case "connection_ack":
        if (this.state[i] === OPENING && this.subscribeFrames) {
          socket.send(this.subscribeFrames(i));
          becomeReady();
        }
        return;
      case "ping":
        this.stats.pings++;
        socket.send('{"type":"pong"}');
        return;
      case "pong":
        return;
      case "next":
        this.stats.otherNext++;
        this.options.onOtherNext?.(i, text, at);
        if (text.includes('"errors"')) this.keep(i, text);
        return;
      case "error":
        this.stats.errorFrames++;
        this.keep(i, text);
        return;
      case "complete":
        this.stats.completeFrames++;
        this.keep(i, text);
        return;
      default:
        this.stats.unexpectedFrames++;
        this.keep(i, text);
    }
  }

  private keep(i: number, text: string): void {
    if (this.stats.samples.length < 5) this.stats.samples.push(`socket ${i}: ${text.slice(0, 300)}`);
  }

  /** From now on, closes are expected (the server is being stopped): counted apart, not as errors. */
  expectClose(): void {
    this.closingExpected = true;
  }

  /**
   * Closes every socket still open: waits up to `graceMs` for closes already under way (e.g. the
   * server is stopping), then terminates the rest. Resolves when all are closed.
   */
  async closeAll(graceMs = 5_000): Promise<void> {
    this.expectClose();
    const deadline = performance.now() + graceMs;
    while (this.anyOpen() && performance.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    for (const socket of this.sockets) socket?.terminate();
    const end = performance.now() + 5_000;
    while (this.anyOpen() && performance.now() < end) await new Promise((r) => setTimeout(r, 20));
  }

  private anyOpen(): boolean {
    for (const socket of this.sockets) if (socket) return true;
    return false;
  }
}

/**
 * First-receipt times per (broadcast seq, socket), in a flat Float64Array (NaN: not received),
 * with per-seq counts and a waiter for "every expected socket has seq k". Memory: 8 bytes per
 * socket per slot.
 */
export class ReceiptTable {
  readonly times: Float64Array;
  readonly counts: Uint32Array;
  duplicates = 0;
  outOfRange = 0;
  private waiter: { seq: number; target: number; resolve: () => void } | null = null;

  constructor(
    readonly sockets: number,
    readonly slots: number,
  ) {
    this.times = new Float64Array(sockets * slots).fill(NaN);
    this.counts = new Uint32Array(slots);
  }

  /** Records a receipt; false for a duplicate or an unknown seq. */
  record(socket: number, seq: number, atMs: number): boolean {
    if (seq < 0 || seq >= this.slots) {
      this.outOfRange++;
      return false;
    }
    const k = seq * this.sockets + socket;
    if (this.times[k] === this.times[k]) {
      this.duplicates++;
      return false;
    }
    this.times[k] = atMs;
    const n = ++this.counts[seq]!;
    const w = this.waiter;
    if (w && w.seq === seq && n >= w.target) w.resolve();
    return true;
  }

  /** When `socket` received `seq` (NaN if not). */
  time(socket: number, seq: number): number {
    return this.times[seq * this.sockets + socket]!;
  }

  /**
   * Waits until `target()` sockets received `seq`, or `timeoutMs` passes, or `stop()` says so.
   * The target is re-read every 100 ms (sockets that close lower it).
   */
  waitFor(seq: number, target: () => number, timeoutMs: number, stop?: () => boolean): Promise<"complete" | "timeout" | "stopped"> {
    return new Promise((resolve) => {
      const deadline = performance.now() + timeoutMs;
      let done = false;
      const finish = (how: "complete" | "timeout" | "stopped") => {
        if (done) return;
        done = true;
        clearInterval(poll);
        this.waiter = null;
        resolve(how);
      };
      const check = () => {
        const t = target();
        if (this.counts[seq]! >= t) return finish("complete");
        if (this.waiter) this.waiter.target = t;
        if (stop?.()) return finish("stopped");
        if (performance.now() >= deadline) finish("timeout");
      };
      this.waiter = { seq, target: target(), resolve: () => finish("complete") };
      const poll = setInterval(check, 100);
      check();
    });
  }
}
