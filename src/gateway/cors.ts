import type { IncomingMessage, ServerResponse } from "node:http";

/**
 * Request headers a cross-origin app may send. Concord authenticates with the Authorization
 * header, never with cookies, so this list (not credentials) is what browser apps need.
 * X-Audit-Log-Reason carries the reason for a governance action, as in Discord's API.
 */
const ALLOWED_HEADERS = "Authorization, Content-Type, Accept, X-Audit-Log-Reason";
const ALLOWED_METHODS = "GET, POST, PATCH, DELETE, OPTIONS";
/** Response headers a cross-origin app may read: without them it cannot honour a rate limit. */
const EXPOSED_HEADERS = "X-Request-Id, Retry-After, X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset-After, X-RateLimit-Bucket, X-RateLimit-Scope";
/** How long a browser may reuse a preflight answer (Chromium caps this at 2 h). */
const PREFLIGHT_MAX_AGE_S = "600";

/** Who may call Concord from a web page on another origin. */
export interface CorsPolicy {
  /**
   * Whether a request carrying this Origin header may be served: true without an Origin (not a
   * browser, or a same-origin GET), for a listed origin, and for the server's own origin (`host`
   * is the request's Host header: GraphiQL served here posts and opens its socket here).
   */
  originAllowed(origin: string | undefined, host?: string): boolean;
  /**
   * Adds the CORS headers to `res`, and answers a preflight (204) or refuses a disallowed origin
   * (403) itself. Returns true when it answered, false when the request goes on to GraphQL.
   */
  handle(req: IncomingMessage, res: ServerResponse): boolean;
}

/**
 * Parses CORS_ORIGINS: unset, empty or "*" means any origin (undefined); otherwise a
 * comma-separated list of origins (`https://app.example.com`, port included when not the
 * default). Returns the origins as browsers serialize them, or an error message.
 */
export function parseCorsOrigins(raw: string | undefined): { origins: string[] | undefined } | { error: string } {
  const items = (raw ?? "").split(",").map((item) => item.trim()).filter(Boolean);
  if (items.length === 0 || (items.length === 1 && items[0] === "*")) return { origins: undefined };
  const origins: string[] = [];
  for (const item of items) {
    let url: URL | undefined;
    try {
      url = new URL(item);
    } catch {
      url = undefined;
    }
    const bare =
      url &&
      (url.protocol === "http:" || url.protocol === "https:") &&
      // Patterns such as https://*.example.com parse as hosts but no browser sends them.
      /^([a-z0-9-]+\.)*[a-z0-9-]+$|^\[[0-9a-f:.]+\]$/.test(url.hostname) &&
      url.pathname === "/" &&
      !url.search &&
      !url.hash &&
      !url.username;
    if (!url || !bare || item.replace(/\/$/, "").toLowerCase() !== url.origin.toLowerCase()) {
      return { error: `${JSON.stringify(item)} is not an origin: expected scheme://host[:port] such as https://app.example.com, or * alone` };
    }
    origins.push(url.origin);
  }
  return { origins };
}

/**
 * The CORS policy for `origins` (undefined: any origin). Cross-origin calls never carry
 * credentials: the browser sends no cookies, and a page can only use a token it already holds.
 * With a list, requests from other browser origins are refused outright rather than merely left
 * unreadable, because a form-encoded POST needs no preflight and would otherwise still run.
 */
export function createCorsPolicy(origins: readonly string[] | undefined): CorsPolicy {
  const listed = origins ? new Set(origins) : undefined;
  const originAllowed = (origin: string | undefined, host?: string): boolean => {
    if (origin === undefined || !listed || listed.has(origin)) return true;
    return host !== undefined && sameHost(origin, host);
  };
  return {
    originAllowed,
    handle(req, res) {
      const origin = req.headers.origin;
      // The answer depends on Origin only when there is a list: tell caches so.
      if (listed) res.setHeader("Vary", "Origin");
      if (origin === undefined) return false;
      if (!originAllowed(origin, req.headers.host)) {
        res.writeHead(403, { "content-type": "application/json" });
        res.end(JSON.stringify({ errors: [{ message: `Origin ${origin} may not call this server (see CORS_ORIGINS).`, extensions: { code: "FORBIDDEN" } }] }));
        return true;
      }
      res.setHeader("Access-Control-Allow-Origin", listed ? origin : "*");
      if (req.method === "OPTIONS") {
        res.writeHead(204, {
          "Access-Control-Allow-Methods": ALLOWED_METHODS,
          "Access-Control-Allow-Headers": ALLOWED_HEADERS,
          "Access-Control-Max-Age": PREFLIGHT_MAX_AGE_S,
          // Safari waits for a body on a 204 without it.
          "Content-Length": "0",
        });
        res.end();
        return true;
      }
      res.setHeader("Access-Control-Expose-Headers", EXPOSED_HEADERS);
      return false;
    },
  };
}

function sameHost(origin: string, host: string): boolean {
  try {
    return new URL(origin).host === host.toLowerCase();
  } catch {
    return false;
  }
}
