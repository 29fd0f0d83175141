import type { IncomingMessage, ServerResponse } from "node:http";
import type { Readiness } from "./readiness.js";

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json", "cache-control": "no-store" });
  res.end(JSON.stringify(body));
}

/**
 * `GET /healthz` (liveness: the process answers, 200 `{"status":"ok"}`) and `GET /readyz`
 * (readiness: 200 when every backend answers and the instance is not draining, else 503 naming
 * what failed). Returns true when it answered the request.
 */
export function createHealthHandler(readiness: Readiness): (req: IncomingMessage, res: ServerResponse) => boolean {
  return (req, res) => {
    // Every request passes here first: anything else costs two prefix comparisons, no allocation.
    const url = req.url ?? "";
    if (!url.startsWith("/healthz") && !url.startsWith("/readyz")) return false;
    const path = url.split("?", 1)[0];
    if (path !== "/healthz" && path !== "/readyz") return false;
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { allow: "GET, HEAD" });
      res.end();
      return true;
    }
    if (path === "/healthz") {
      json(res, 200, { status: "ok" });
      return true;
    }
    readiness.report().then(
      (report) =>
        json(res, report.ready ? 200 : 503, {
          status: report.ready ? "ready" : report.draining ? "draining" : "unavailable",
          ...(report.failed.length > 0 ? { failed: report.failed } : {}),
          checks: report.checks,
        }),
      (error: unknown) => json(res, 503, { status: "unavailable", failed: ["readiness"], error: String(error) }),
    );
    return true;
  };
}
