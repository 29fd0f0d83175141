/**
 * What grew between two V8 heap snapshots, by constructor: count and self size, the largest
 * growth first. With the snapshots bench/connections.ts writes (--heap-snapshots DIR) before and
 * after N connections, dividing by N gives what one connection keeps, object by object.
 *
 *   npx tsx bench/heap-diff.ts before.heapsnapshot after.heapsnapshot [--per 10000] [--top 40]
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";

const { values: argv, positionals } = parseArgs({
  options: { per: { type: "string", default: "1" }, top: { type: "string", default: "40" } },
  allowPositionals: true,
});
if (positionals.length !== 2) {
  console.error("usage: npx tsx bench/heap-diff.ts before.heapsnapshot after.heapsnapshot [--per N] [--top 40]");
  process.exit(1);
}

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

/** Count and self size per "type:name" of every node in the snapshot. */
function tally(file: string): Map<string, { count: number; size: number }> {
  const snap = JSON.parse(readFileSync(file, "utf8")) as Snapshot;
  const fields = snap.snapshot.meta.node_fields;
  const width = fields.length;
  const typeAt = fields.indexOf("type");
  const nameAt = fields.indexOf("name");
  const sizeAt = fields.indexOf("self_size");
  const types = snap.snapshot.meta.node_types[0];
  const out = new Map<string, { count: number; size: number }>();
  for (let i = 0; i < snap.nodes.length; i += width) {
    const type = types[snap.nodes[i + typeAt]!]!;
    // Strings and code are grouped by type: their "names" are their contents.
    const name = type === "object" || type === "closure" || type === "native" ? snap.strings[snap.nodes[i + nameAt]!]! : "";
    const key = `${type}:${name.slice(0, 60)}`;
    const entry = out.get(key) ?? { count: 0, size: 0 };
    entry.count++;
    entry.size += snap.nodes[i + sizeAt]!;
    out.set(key, entry);
  }
  return out;
}

const before = tally(positionals[0]!);
const after = tally(positionals[1]!);
const per = Number(argv.per);
const rows = [...after].map(([key, a]) => {
  const b = before.get(key) ?? { count: 0, size: 0 };
  return { key, count: (a.count - b.count) / per, bytes: (a.size - b.size) / per };
});
rows.sort((x, y) => y.bytes - x.bytes);
const total = rows.reduce((sum, r) => sum + r.bytes, 0);
console.log(`self size grown${per > 1 ? ` per 1/${per}` : ""}: ${total.toFixed(0)} bytes\n`);
console.log("| type:constructor | count | bytes |\n|---|---|---|");
for (const r of rows.slice(0, Number(argv.top))) console.log(`| ${r.key} | ${r.count.toFixed(2)} | ${r.bytes.toFixed(0)} |`);
