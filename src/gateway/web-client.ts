import type { Dirent } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import path from "node:path";
import { connectSources } from "./content-security-policy.js";
import { createStaticFile, sendStaticFile, type StaticFile } from "./static-file.js";

/** Where the web client is served: `/app`, `/app/` and everything under it. */
export const WEB_CLIENT_PATH = "/app";

/** Vite names every file under assets/ by its content hash: it never changes under its URL. */
const IMMUTABLE = "public, max-age=31536000, immutable";
/** index.html (and anything else not hashed) names the current assets: revalidated on every visit. */
const REVALIDATE = "no-cache";

const CONTENT_TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".map": "application/json",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".webp": "image/webp",
  ".woff2": "font/woff2",
  ".txt": "text/plain; charset=utf-8",
  ".webmanifest": "application/manifest+json",
};

/** The built client, read once: URL path below /app/ (e.g. "assets/index-3f2a.js") -> file. */
type Build = Map<string, StaticFile>;

/** Regular files under `dir`, relative paths with "/" separators; symbolic links are not followed. */
async function listFiles(dir: string, prefix = ""): Promise<string[]> {
  const entries: Dirent[] = await readdir(path.join(dir, prefix), { withFileTypes: true });
  const files: string[] = [];
  for (const entry of entries) {
    const relative = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) files.push(...(await listFiles(dir, relative)));
    else if (entry.isFile()) files.push(relative);
  }
  return files;
}

/** Reads the build into memory; null when `dir` has no index.html (not built yet). */
async function readBuild(dir: string): Promise<Build | null> {
  let files: string[];
  try {
    files = await listFiles(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw error;
  }
  if (!files.includes("index.html")) return null;
  const build: Build = new Map();
  for (const file of files) {
    const type = CONTENT_TYPES[path.extname(file).toLowerCase()] ?? "application/octet-stream";
    build.set(file, createStaticFile(await readFile(path.join(dir, file)), type, file.startsWith("assets/") ? IMMUTABLE : REVALIDATE));
  }
  return build;
}

/**
 * The file a request path names below /app/, or why not: "refused" for anything that is not a
 * plain relative path once decoded (`..` or `.` segments, backslashes, NUL, a bad %-escape), so
 * no request can name a file outside the build whatever the lookup does with it.
 */
function webClientFile(pathname: string): string | "refused" {
  const rest = pathname === WEB_CLIENT_PATH ? "" : pathname.slice(WEB_CLIENT_PATH.length + 1);
  let decoded: string;
  try {
    decoded = decodeURIComponent(rest);
  } catch {
    return "refused";
  }
  if (/[\\\0]/.test(decoded) || decoded.split("/").some((segment) => segment === ".." || segment === ".")) return "refused";
  return decoded;
}

/** A path whose last segment has an extension names a file: a miss is a 404, not the app's page. */
const looksLikeFile = (file: string) => /\.[A-Za-z0-9]+$/.test(file.slice(file.lastIndexOf("/") + 1));

/**
 * The page's Content-Security-Policy: the client's own scripts and styles only, no inline script,
 * API calls and the WebSocket to this server, no framing.
 */
function contentSecurityPolicy(host: string | undefined): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    `connect-src ${connectSources(host)}`,
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join("; ");
}

function notFound(res: ServerResponse, message: string): void {
  res.writeHead(404, { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store", "x-content-type-options": "nosniff" });
  res.end(message);
}

/**
 * Serves the reference web client (examples/web, built by `npm run build:web`) from `dir` at
 * GET and HEAD /app: files from memory, read on the first request (and looked for again on the
 * next one while the build is missing), compressed once (br or gzip, ETag and 304); hashed
 * assets cached for a year, index.html revalidated; every other path under /app without a file
 * extension answered with index.html, so the client's own routes survive a reload. Returns a
 * handler that answers those requests and returns true, or returns false for everything else.
 */
export function createWebClientHandler(dir: string, onError: (error: unknown) => void): (req: IncomingMessage, res: ServerResponse) => boolean {
  let loading: Promise<Build | null> | undefined;
  const load = () => {
    loading ??= readBuild(dir).then((build) => {
      // Not built yet (or failed to read): look again on the next request.
      if (!build) loading = undefined;
      return build;
    });
    loading.catch(() => (loading = undefined));
    return loading;
  };

  async function serve(req: IncomingMessage, res: ServerResponse, pathname: string): Promise<void> {
    if (pathname === WEB_CLIENT_PATH) {
      // Relative URLs in the page resolve against /app/, not /.
      res.writeHead(308, { location: `${WEB_CLIENT_PATH}/`, "cache-control": "no-cache" });
      res.end();
      return;
    }
    const file = webClientFile(pathname);
    if (file === "refused") {
      res.writeHead(400, { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store" });
      res.end("Bad path.");
      return;
    }
    const build = await load();
    if (!build) return notFound(res, "The web client is not built: run `npm run build:web`, then reload.");
    const found = build.get(file);
    if (found && file !== "index.html") return sendStaticFile(req, res, found);
    if (!found && looksLikeFile(file)) return notFound(res, "Not found: reload the web client.");
    return sendStaticFile(req, res, build.get("index.html")!, {
      "Content-Security-Policy": contentSecurityPolicy(req.headers.host),
      "X-Frame-Options": "DENY",
      "Referrer-Policy": "no-referrer",
    });
  }

  return (req, res) => {
    if (req.method !== "GET" && req.method !== "HEAD") return false;
    const pathname = (req.url ?? "").split("?")[0]!;
    if (pathname !== WEB_CLIENT_PATH && !pathname.startsWith(`${WEB_CLIENT_PATH}/`)) return false;
    void serve(req, res, pathname).catch((error: unknown) => {
      onError(error);
      if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain" });
      res.end("The web client is unavailable.");
    });
    return true;
  };
}
