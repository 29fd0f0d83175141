import { execFile } from "node:child_process";
import { access, readdir, stat } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { IN_CI } from "./services.js";

/** Where a Chromium may be: CHROMIUM_PATH first, then Debian's package and the usual names. */
const CANDIDATES = [process.env.CHROMIUM_PATH, "/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"];

/**
 * The Chromium the browser tests drive, or null (skip) locally when there is none; throws with
 * CI=true, as a missing backend service does (services.ts): CI must run the browser tests.
 */
export async function requireChromium(): Promise<string | null> {
  for (const candidate of CANDIDATES) {
    if (!candidate) continue;
    try {
      await access(candidate);
      return candidate;
    } catch {
      // Try the next one.
    }
  }
  const message = `no Chromium found (looked at ${CANDIDATES.filter(Boolean).join(", ")})`;
  if (IN_CI) throw new Error(`${message}: CI=true requires it (apt-get install chromium, or set CHROMIUM_PATH)`);
  console.warn(`skipping the browser tests: ${message}`);
  return null;
}

const REPO = new URL("../../", import.meta.url);

/** Newest modification time of the files under `dir` (0 for none). */
async function newestChange(dir: URL): Promise<number> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  const times = await Promise.all(entries.filter((e) => e.isFile()).map(async (e) => (await stat(path.join(e.parentPath, e.name))).mtimeMs));
  return Math.max(0, ...times);
}

/**
 * Builds the web client (as `npm run build:web` does) unless examples/web/dist holds a build newer than
 * every file of its source, so a test never drives a stale build.
 */
export async function ensureWebClientBuilt(): Promise<void> {
  const built = await stat(new URL("examples/web/dist/index.html", REPO)).then(
    (s) => s.mtimeMs,
    () => 0,
  );
  const source = Math.max(await newestChange(new URL("examples/web/src/", REPO)), (await stat(new URL("examples/web/index.html", REPO))).mtimeMs);
  if (built > source) return;
  // Vite alone: `npm run build:web` also typechecks, which `npm run typecheck` does already.
  await promisify(execFile)(process.execPath, ["node_modules/vite/bin/vite.js", "build", "--config", "examples/web/vite.config.ts", "--logLevel", "warn"], { cwd: REPO, timeout: 120_000 });
}
