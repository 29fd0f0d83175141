/**
 * Reads a child Node process's memory through the V8 inspector (the server runs with
 * `--inspect=127.0.0.1:0`; nothing is added to its code): a forced full GC, then what is live.
 * Also takes heap snapshots, to see what one connection keeps.
 */
import { createWriteStream } from "node:fs";
import { writeFile } from "node:fs/promises";
import WebSocket from "ws";

/** What is live after a full GC, in bytes (`process.memoryUsage()` of the server, read after `HeapProfiler.collectGarbage`). */
export interface LiveMemory {
  heapUsed: number;
  external: number;
  arrayBuffers: number;
  rss: number;
  /** heapUsed + external: the goal's "live memory". */
  live: number;
}

/** The `--inspect` port of 0 picks a free one; the process prints its URL on stderr. */
export const INSPECT_ARG = "--inspect=127.0.0.1:0";

/** The inspector's WebSocket URL from a process's output lines ("Debugger listening on ws://…"). */
export function inspectorUrl(lines: string[]): string | undefined {
  for (const line of lines) {
    const match = /Debugger listening on (ws:\/\/\S+)/.exec(line);
    if (match) return match[1];
  }
  return undefined;
}

/** A minimal Chrome DevTools Protocol session over the inspector's WebSocket. */
export class InspectorSession {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: any) => void; reject: (e: Error) => void }>();
  private readonly listeners = new Map<string, (params: any) => void>();

  private constructor(private readonly socket: WebSocket) {
    socket.on("message", (data) => {
      const message = JSON.parse(String(data)) as { id?: number; result?: unknown; error?: { message: string }; method?: string; params?: unknown };
      if (message.id !== undefined) {
        const waiter = this.pending.get(message.id);
        this.pending.delete(message.id);
        if (message.error) waiter?.reject(new Error(message.error.message));
        else waiter?.resolve(message.result);
      } else if (message.method) this.listeners.get(message.method)?.(message.params);
    });
    socket.on("close", () => {
      for (const waiter of this.pending.values()) waiter.reject(new Error("inspector closed"));
      this.pending.clear();
    });
  }

  /** Connects to the inspector URL (one session at a time per process). */
  static open(url: string): Promise<InspectorSession> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(url, { perMessageDeflate: false, maxPayload: 1 << 30 });
      socket.once("open", () => resolve(new InspectorSession(socket)));
      socket.once("error", reject);
    });
  }

  /** Sends one CDP command and resolves with its result. */
  call<T = unknown>(method: string, params: Record<string, unknown> = {}): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.socket.send(JSON.stringify({ id, method, params }));
    });
  }

  /** Two forced full GCs (the second collects what the first's finalizers released), then the process's memory. */
  async liveMemory(): Promise<LiveMemory> {
    await this.call("HeapProfiler.collectGarbage");
    await this.call("HeapProfiler.collectGarbage");
    const result = await this.call<{ result: { value: string } }>("Runtime.evaluate", {
      expression: "JSON.stringify(process.memoryUsage())",
      returnByValue: true,
    });
    const m = JSON.parse(result.result.value) as { heapUsed: number; external: number; arrayBuffers: number; rss: number };
    return { heapUsed: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers, rss: m.rss, live: m.heapUsed + m.external };
  }

  /** Writes a heap snapshot (after a GC) to `file`. */
  async heapSnapshot(file: string): Promise<void> {
    const out = createWriteStream(file);
    this.listeners.set("HeapProfiler.addHeapSnapshotChunk", (params: { chunk: string }) => out.write(params.chunk));
    await this.call("HeapProfiler.enable");
    await this.call("HeapProfiler.takeHeapSnapshot", { reportProgress: false, captureNumericValue: false });
    this.listeners.delete("HeapProfiler.addHeapSnapshotChunk");
    await this.call("HeapProfiler.disable");
    await new Promise<void>((resolve, reject) => out.end((error?: Error | null) => (error ? reject(error) : resolve())));
  }

  /** Starts V8's CPU profiler (sampling every `intervalUs`). */
  async startCpuProfile(intervalUs = 200): Promise<void> {
    await this.call("Profiler.enable");
    await this.call("Profiler.setSamplingInterval", { interval: intervalUs });
    await this.call("Profiler.start");
  }

  /** Stops the CPU profiler and writes its profile to `file` (open it in Chrome DevTools). */
  async stopCpuProfile(file: string): Promise<void> {
    const { profile } = await this.call<{ profile: unknown }>("Profiler.stop");
    await this.call("Profiler.disable");
    await writeFile(file, JSON.stringify(profile));
  }

  close(): void {
    this.socket.close();
  }
}
