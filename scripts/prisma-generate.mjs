// Runs `prisma generate` on install. Generation is WebAssembly and needs no native engine, but
// Prisma's CLI tries to download the schema engine first, which fails on machines without access
// to Prisma's servers; pointing it at a dummy binary skips that download.
import { spawnSync } from "node:child_process";

const env = { ...process.env };
if (!env.PRISMA_SCHEMA_ENGINE_BINARY) env.PRISMA_SCHEMA_ENGINE_BINARY = process.platform === "win32" ? "cmd.exe" : "/bin/false";
const result = spawnSync("npx", ["prisma", "generate"], { stdio: "inherit", env, shell: process.platform === "win32" });
process.exit(result.status ?? 1);
