import { createHash } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { GraphiQLOptions } from "graphql-yoga";
import { connectSources } from "./content-security-policy.js";
import { createStaticFile, sendStaticFile, type StaticFile } from "./static-file.js";

/**
 * Assets never change under their URL (it names their hash): browsers keep them for a year and
 * do not ask again.
 */
const IMMUTABLE = "public, max-age=31536000, immutable";
/**
 * The page itself is revalidated on every visit (it names the current assets). Browsers drop it
 * from their cache anyway whenever GraphiQL POSTs to the same URL, so it is kept small.
 */
const REVALIDATE = "no-cache";

/** Runs before GraphiQL's bundle, as yoga's page does: Monaco finds its workers by label. */
const setupScript = (workers: Record<string, string>) =>
  `self.MonacoEnvironment = { globalAPI: false, getWorkerUrl: function (moduleId, label) { return ${JSON.stringify(workers)}[label]; } };\n`;
/** Runs after it: the options are a JSON data block in the page, which no CSP treats as a script. */
const START_SCRIPT = `YogaGraphiQL.renderYogaGraphiQL(document.querySelector("#root"), JSON.parse(document.getElementById("graphiql-options").textContent));\n`;

/** GraphiQL as served: the small page and the assets it loads, each compressed once. */
interface BuiltGraphiQL {
  page: StaticFile;
  /** URL path prefix of this build's assets, ending in "/". */
  assetPrefix: string;
  assets: Map<string, StaticFile>;
}

/** One build per process and options: test servers in one process share it. */
const builds = new Map<string, Promise<BuiltGraphiQL>>();

const escapeHtml = (text: string) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

async function build(path: string, options: GraphiQLOptions): Promise<BuiltGraphiQL> {
  // Imported here, not at the top: the 9 MB module takes ~100 ms and ~90 MB to load, which a
  // server nobody opens GraphiQL on should not pay at start-up.
  const bundle = await import("@graphql-yoga/render-graphiql/graphiql");
  const [faviconType = "image/x-icon", faviconBase64 = ""] = /^data:([^;,]+);base64,(.*)$/s.exec(bundle.favicon)?.slice(1) ?? [];
  const upstream: [name: string, type: string, bytes: Buffer][] = [
    ["graphiql.js", "text/javascript; charset=utf-8", Buffer.from(bundle.js)],
    ["graphiql.css", "text/css; charset=utf-8", Buffer.from(bundle.css)],
    ["editor.worker.js", "text/javascript; charset=utf-8", Buffer.from(bundle.editorWorkerService)],
    ["json.worker.js", "text/javascript; charset=utf-8", Buffer.from(bundle.jsonWorker)],
    ["graphql.worker.js", "text/javascript; charset=utf-8", Buffer.from(bundle.graphqlWorker)],
    ["favicon.ico", faviconType, Buffer.from(faviconBase64, "base64")],
  ];
  const version = createHash("sha256");
  for (const [name, , bytes] of upstream) version.update(name).update(bytes);
  const assetPrefix = `${path}/graphiql/${version.update(setupScript({})).update(START_SCRIPT).digest("base64url").slice(0, 16)}/`;
  const setup = setupScript({
    editorWorkerService: `${assetPrefix}editor.worker.js`,
    json: `${assetPrefix}json.worker.js`,
    graphql: `${assetPrefix}graphql.worker.js`,
  });
  const files: [string, string, Buffer][] = [
    ...upstream,
    ["setup.js", "text/javascript; charset=utf-8", Buffer.from(setup)],
    ["start.js", "text/javascript; charset=utf-8", Buffer.from(START_SCRIPT)],
  ];
  const assets = new Map(files.map(([name, type, bytes]) => [name, createStaticFile(bytes, type, IMMUTABLE)]));
  // "<" escaped so that no value can close the data block.
  const optionsJson = JSON.stringify(options).replace(/</g, "\\u003c");
  const html = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <title>${escapeHtml(options.title ?? "GraphiQL")}</title>
    <link rel="icon" href="${assetPrefix}favicon.ico" />
    <link rel="stylesheet" href="${assetPrefix}graphiql.css" />
  </head>
  <body id="body" class="no-focus-outline">
    <noscript>You need to enable JavaScript to run this app.</noscript>
    <div id="root"></div>
    <script type="application/json" id="graphiql-options">${optionsJson}</script>
    <script src="${assetPrefix}setup.js"></script>
    <script src="${assetPrefix}graphiql.js"></script>
    <script src="${assetPrefix}start.js"></script>
  </body>
</html>
`;
  return { page: createStaticFile(Buffer.from(html), "text/html; charset=utf-8", REVALIDATE), assetPrefix, assets };
}

function built(path: string, options: GraphiQLOptions): Promise<BuiltGraphiQL> {
  const key = JSON.stringify([path, options]);
  let pending = builds.get(key);
  if (!pending) {
    pending = build(path, options);
    // A failed build is retried by the next request rather than remembered.
    pending.catch(() => builds.delete(key));
    builds.set(key, pending);
  }
  return pending;
}

/**
 * The page's Content-Security-Policy for a request to `host`: scripts, workers, styles and the
 * icon only from this server (no inline script), connections only to it, no framing. Sources
 * stay 'self' rather than naming the asset folder by host, because a proxy may pass a Host
 * header without the port the browser used, and the page would then block its own scripts.
 */
function contentSecurityPolicy(host: string | undefined): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    // Monaco runs its language services in workers.
    "worker-src 'self'",
    // Monaco adds <style> elements and style attributes at run time, which no hash or source can
    // name (without 'unsafe-inline': 145 violations, no syntax colours, lines drawn over each
    // other); styles cannot run code.
    "style-src 'self' 'unsafe-inline'",
    // Icons and fonts inside the stylesheet are data: URLs.
    "img-src 'self' data:",
    "font-src data:",
    `connect-src ${connectSources(host)}`,
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join("; ");
}

/**
 * Serves GraphiQL: the page at GET and HEAD `path` to browsers (an Accept header with
 * text/html, as yoga decides), and its assets under `path`/graphiql/<version>/, all rendered and
 * compressed once per process (br or gzip by Accept-Encoding, ETag and 304). The assets are
 * separate files so that browsers cache them across visits: GraphiQL's POSTs to `path` evict
 * the page itself from a browser's cache. Returns a handler that answers those requests and
 * returns true, or returns false for everything else.
 */
export function createGraphiQLHandler(
  path: string,
  options: GraphiQLOptions,
  onError: (error: unknown) => void,
): (req: IncomingMessage, res: ServerResponse) => boolean {
  const assetsPath = `${path}/graphiql/`;
  return (req, res) => {
    if (req.method !== "GET" && req.method !== "HEAD") return false;
    const pathname = (req.url ?? "").split("?")[0]!;
    const isPage = (pathname === path || pathname === `${path}/`) && req.headers.accept?.includes("text/html") === true;
    if (!isPage && !pathname.startsWith(assetsPath)) return false;
    void serve(req, res, pathname, isPage).catch((error: unknown) => {
      onError(error);
      if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain" });
      res.end("GraphiQL is unavailable.");
    });
    return true;
  };

  async function serve(req: IncomingMessage, res: ServerResponse, pathname: string, isPage: boolean): Promise<void> {
    const graphiql = await built(path, options);
    if (isPage) {
      return sendStaticFile(req, res, graphiql.page, {
        "Content-Security-Policy": contentSecurityPolicy(req.headers.host),
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "no-referrer",
      });
    }
    const asset = pathname.startsWith(graphiql.assetPrefix) ? graphiql.assets.get(pathname.slice(graphiql.assetPrefix.length)) : undefined;
    if (!asset) {
      // Another version's asset (from before a deploy) or no asset at all.
      res.writeHead(404, { "content-type": "text/plain", "cache-control": "no-store" });
      res.end("Not found: reload GraphiQL.");
      return;
    }
    return sendStaticFile(req, res, asset);
  }
}
