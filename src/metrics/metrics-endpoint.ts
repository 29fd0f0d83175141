import { timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { registry, startDefaultMetrics } from "./metrics.js";

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * `GET /metrics` in Prometheus text format, on the main port, for scrapers that send
 * `Authorization: Bearer <token>`; without a token configured (METRICS_TOKEN unset) there is no
 * such route. Returns true when it answered the request.
 */
export function createMetricsHandler(token: string | undefined): (req: IncomingMessage, res: ServerResponse) => boolean {
  if (!token) return () => false;
  startDefaultMetrics();
  const expected = `Bearer ${token}`;
  return (req, res) => {
    // Every request passes here: anything else costs one prefix comparison, no allocation.
    if (!req.url?.startsWith("/metrics") || req.url.split("?", 1)[0] !== "/metrics") return false;
    if (!sameSecret(req.headers.authorization ?? "", expected)) {
      res.writeHead(401, { "www-authenticate": 'Bearer realm="metrics"' });
      res.end();
      return true;
    }
    registry.metrics().then(
      (text) => {
        res.writeHead(200, { "content-type": registry.contentType, "cache-control": "no-store" });
        res.end(text);
      },
      (error: unknown) => {
        res.writeHead(500, { "content-type": "text/plain" });
        res.end(String(error));
      },
    );
    return true;
  };
}
