import { execFile, spawnSync } from "node:child_process";
import { chown, mkdtemp, rm } from "node:fs/promises";
import { existsSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { IN_CI } from "./services.js";
import { freePort } from "./processes.js";

const run = promisify(execFile);

/** Where Debian keeps the Postgres server binaries (not on PATH); PG_BIN overrides. */
const PG_BIN = process.env.PG_BIN ?? "/usr/lib/postgresql/15/bin";
/** Postgres refuses to run as root: the server runs as this user (PG_USER overrides). */
const PG_USER = process.env.PG_USER ?? "postgres";

/** A Postgres server of a test's own, on a free loopback port, that it may stop and start. */
export interface PrivatePostgres {
  port: number;
  /** postgresql://postgres@127.0.0.1:<port>/postgres */
  url: string;
  /** `pg_ctl stop -m immediate`: a crash, no checkpoint, every connection cut. Resolves once it is down. */
  crash(): Promise<void>;
  /** `pg_ctl start` again on the same port and data (crash recovery replays the WAL); resolves once it accepts connections. */
  start(): Promise<void>;
  /** Stops it (immediate) and removes its data. Idempotent. */
  remove(): Promise<void>;
}

/**
 * Whether a suite that runs its own Postgres server can run: false (with a warning) locally
 * without the server binaries or the `postgres` user; under CI=true that is an error, not a skip.
 */
export function requirePostgresServer(suite: string): boolean {
  const problem = !existsSync(path.join(PG_BIN, "pg_ctl"))
    ? `no pg_ctl in ${PG_BIN} (set PG_BIN)`
    : spawnSync("id", ["-u", PG_USER]).status !== 0
      ? `no user ${PG_USER} to run it as (set PG_USER)`
      : null;
  if (problem === null) return true;
  const message = `${suite} runs a private Postgres server: ${problem}`;
  if (IN_CI) throw new Error(`${message}: CI=true requires it`);
  console.warn(`skipping ${suite}: ${message}`);
  return false;
}

/**
 * initdb into a temporary directory (trust authentication, loopback only, fsync on) and start
 * it. The server is stopped and its directory removed when this process exits, however the
 * test ends.
 */
export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const port = await freePort();
  const dir = await mkdtemp(path.join(os.tmpdir(), "concord-pg-"));
  const data = path.join(dir, "data");
  await chown(dir, uid(PG_USER), gid(PG_USER));
  const asPostgres = (binary: string, args: string[]) => run("runuser", ["-u", PG_USER, "--", path.join(PG_BIN, binary), ...args], { timeout: 120_000 });
  const pgCtl = (args: string[]) => asPostgres("pg_ctl", ["-D", data, ...args]);
  let removed = false;
  const stopNow = () => {
    if (removed) return;
    removed = true;
    spawnSync("runuser", ["-u", PG_USER, "--", path.join(PG_BIN, "pg_ctl"), "-D", data, "stop", "-m", "immediate"], { stdio: "ignore", timeout: 30_000 });
    spawnSync("rm", ["-rf", dir]);
  };
  process.once("exit", stopNow);
  const start = async () => {
    // -k: the Unix socket goes in the test's own directory, not /var/run/postgresql.
    await pgCtl(["start", "-w", "-t", "60", "-l", path.join(dir, "server.log"), "-o", `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1`]);
  };
  try {
    await asPostgres("initdb", ["-D", data, "-U", "postgres", "-A", "trust", "--no-instructions", "-E", "UTF8"]);
    await start();
  } catch (error) {
    stopNow();
    const failure = error as Error & { stderr?: string };
    throw new Error(`private Postgres on port ${port}: ${failure.stderr || failure.message}`);
  }
  return {
    port,
    url: `postgresql://postgres@127.0.0.1:${port}/postgres`,
    async crash() {
      await pgCtl(["stop", "-m", "immediate", "-w"]);
    },
    start,
    async remove() {
      if (removed) return;
      await pgCtl(["stop", "-m", "immediate", "-w"]).catch(() => {});
      removed = true;
      process.off("exit", stopNow);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

function uid(user: string): number {
  return Number(spawnSync("id", ["-u", user], { encoding: "utf8" }).stdout.trim());
}

function gid(user: string): number {
  return Number(spawnSync("id", ["-g", user], { encoding: "utf8" }).stdout.trim());
}
