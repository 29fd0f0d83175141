/**
 * Reads a V8 `.cpuprofile` (written by `node --cpu-prof`) and says where the CPU went: self time
 * per function and per module (a package under node_modules, a file of the server, node's
 * internals, native/V8), optionally only over given time windows.
 *
 * Profile format: `nodes` (id, callFrame {functionName, url, lineNumber (0-based)}), `samples`
 * (the node id on top of the stack at each tick), `timeDeltas` (µs since the previous tick; the
 * first since `startTime`), `startTime` / `endTime` (µs of the profiled process's monotonic
 * clock). On Linux that clock is CLOCK_MONOTONIC, the same as `process.hrtime()` of any process
 * on the host, so windows taken with `hrtimeUs()` in the bench process select the same moments.
 * Ranking and percentages are by sample count: a thread that waits for a CPU is not sampled
 * until it runs again (the pending signal is taken once), so counts follow CPU time, while the
 * gaps between samples (`selfMs`, a sample lasting until the next one) also hold the waiting:
 * on an overloaded machine they add up to more than the process's CPU time.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}

export interface CpuProfile {
  nodes: { id: number; callFrame: CallFrame }[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** A moment on the host's monotonic clock, in µs (comparable with a profile's timestamps). */
export const hrtimeUs = () => Number(process.hrtime.bigint() / 1000n);

export interface SelfTimeRow {
  /** Samples with this function (module) on top of the stack. */
  samples: number;
  /** Share of the busy samples (everything but (idle) and (program)), in %. */
  percent: number;
  /** Sum of those samples' intervals (wall time, see above). */
  selfMs: number;
  name: string;
  where: string;
}

export interface ProfileSummary {
  file: string;
  /** Whether only samples inside the windows were counted. */
  windowed: boolean;
  note?: string;
  sampledMs: number;
  idleMs: number;
  programMs: number;
  busyMs: number;
  samples: number;
  /** Samples other than (idle) and (program): what the percentages are of. */
  busySamples: number;
  topFunctions: SelfTimeRow[];
  topModules: SelfTimeRow[];
}

/** The main thread's profile of process `pid` in `dir` (CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile, thread 0), else the largest one. */
export function findMainThreadProfile(dir: string, pid: number): string | undefined {
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith(".cpuprofile"));
  } catch {
    return undefined;
  }
  const main = files.find((f) => f.includes(`.${pid}.0.`));
  if (main) return path.join(dir, main);
  const bySize = files.map((f) => path.join(dir, f)).sort((a, b) => statSync(b).size - statSync(a).size);
  return bySize[0];
}

const round = (v: number) => Math.round(v * 10) / 10;

/**
 * Where a frame's code lives, relative to `root` when under it: file:line:column, 1-based, of
 * the code V8 ran (minified bundles such as Prisma's runtime, and TypeScript as transformed by
 * tsx, which puts a module on few lines: there the column is what tells functions apart).
 */
function location(frame: CallFrame, root: string): { where: string; module: string } {
  const url = frame.url;
  if (!url) return { where: "(native)", module: "(native / V8)" };
  let file = url.startsWith("file://") ? decodeURIComponent(new URL(url).pathname) : url;
  if (file.startsWith(root + "/")) file = file.slice(root.length + 1);
  const where = `${file}:${frame.lineNumber + 1}:${frame.columnNumber + 1}`;
  const nm = file.lastIndexOf("node_modules/");
  if (nm >= 0) {
    const parts = file.slice(nm + "node_modules/".length).split("/");
    return { where: where.slice(nm), module: parts[0]!.startsWith("@") ? `${parts[0]}/${parts[1]}` : parts[0]! };
  }
  if (file.startsWith("node:")) return { where, module: "node (internal)" };
  return { where, module: file };
}

/**
 * Self time per function and per module, top `top` of each. With `windows` ([startUs, endUs]
 * pairs on the monotonic clock), only samples taken inside one of them count.
 */
export function summarizeProfile(file: string, options: { root: string; windows?: [number, number][]; top?: number; note?: string }): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, "utf8")) as CpuProfile;
  const frames = new Map<number, CallFrame>();
  for (const node of profile.nodes) frames.set(node.id, node.callFrame);
  const windows = options.windows ?? [];
  const inWindow = (t: number) => windows.length === 0 || windows.some(([a, b]) => t >= a && t < b);

  const byFunction = new Map<string, { name: string; where: string; us: number; samples: number }>();
  const byModule = new Map<string, { us: number; samples: number }>();
  let sampledUs = 0;
  let idleUs = 0;
  let programUs = 0;
  let counted = 0;
  let busySamples = 0;
  let t = profile.startTime;
  const n = profile.samples.length;
  for (let i = 0; i < n; i++) {
    t += profile.timeDeltas[i] ?? 0;
    const next = i + 1 < n ? t + (profile.timeDeltas[i + 1] ?? 0) : profile.endTime;
    const us = Math.max(0, next - t);
    if (!inWindow(t)) continue;
    counted++;
    sampledUs += us;
    const frame = frames.get(profile.samples[i]!);
    if (!frame) continue;
    const name = frame.functionName || "(anonymous)";
    if (name === "(idle)") {
      idleUs += us;
      continue;
    }
    if (name === "(program)") {
      programUs += us;
      continue;
    }
    const { where, module } = location(frame, options.root);
    const key = `${name}\u0000${where}`;
    busySamples++;
    const entry = byFunction.get(key) ?? byFunction.set(key, { name, where, us: 0, samples: 0 }).get(key)!;
    entry.us += us;
    entry.samples++;
    const m = byModule.get(module) ?? byModule.set(module, { us: 0, samples: 0 }).get(module)!;
    m.us += us;
    m.samples++;
  }
  const busyUs = sampledUs - idleUs - programUs;
  const row = (name: string, where: string, e: { us: number; samples: number }): SelfTimeRow => ({
    samples: e.samples,
    percent: busySamples > 0 ? round((100 * e.samples) / busySamples) : 0,
    selfMs: round(e.us / 1000),
    name,
    where,
  });
  const top = options.top ?? 20;
  return {
    file,
    windowed: windows.length > 0,
    ...(options.note ? { note: options.note } : {}),
    sampledMs: round(sampledUs / 1000),
    idleMs: round(idleUs / 1000),
    programMs: round(programUs / 1000),
    busyMs: round(busyUs / 1000),
    samples: counted,
    busySamples,
    topFunctions: [...byFunction.values()]
      .sort((a, b) => b.samples - a.samples || b.us - a.us)
      .slice(0, top)
      .map((e) => row(e.name, e.where, e)),
    topModules: [...byModule.entries()]
      .sort((a, b) => b[1].samples - a[1].samples)
      .slice(0, Math.min(top, 12))
      .map(([module, e]) => row(module, "", e)),
  };
}

/** The summary as Markdown tables. */
export function formatProfileSummary(s: ProfileSummary): string {
  const lines = [
    `CPU profile ${s.file}${s.windowed ? " (measurement windows only)" : " (whole run)"}${s.note ? ` — ${s.note}` : ""}: ` +
      `${s.samples} samples over ${s.sampledMs} ms, ${s.busySamples} busy (not (idle) or (program)); % = share of the busy samples (self time); ` +
      `wall ms = the samples' intervals, which include waiting for a CPU.`,
    "",
    "| # | % | samples | wall ms | function | where |",
    "|---|---|---|---|---|---|",
    ...s.topFunctions.map((r, i) => `| ${i + 1} | ${r.percent} | ${r.samples} | ${r.selfMs} | \`${r.name}\` | ${r.where} |`),
    "",
    "| module | % | samples | wall ms |",
    "|---|---|---|---|",
    ...s.topModules.map((r) => `| ${r.name} | ${r.percent} | ${r.samples} | ${r.selfMs} |`),
  ];
  return lines.join("\n");
}
