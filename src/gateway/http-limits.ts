import type { IncomingMessage, Server, ServerOptions } from "node:http";

/** How long a client may take to send a request, and how many sockets the server holds. */
export interface HttpLimits {
  /** A request whose headers have not all arrived after this long is answered 408 and closed. */
  headersTimeoutMs: number;
  /** A request (headers and body) not fully received after this long is answered 408 and closed. */
  requestTimeoutMs: number;
  /** An idle keep-alive connection is closed after this long. */
  keepAliveTimeoutMs: number;
  /** Open sockets at most, upgraded WebSockets included; more are closed as soon as accepted. */
  maxConnections: number;
}

/**
 * Options for `http.createServer` that enforce the timeouts. Node checks them on a timer
 * (30 s by default, so a 10 s limit could hold a socket for 40 s); the timer here runs at most
 * a second apart. The timeouts cover receiving a request only: responses that stream (SSE) and
 * upgraded WebSockets are not cut.
 */
export function httpServerOptions(limits: HttpLimits): ServerOptions {
  return {
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    connectionsCheckingInterval: Math.max(50, Math.min(1_000, Math.floor(limits.headersTimeoutMs / 2))),
  };
}

/**
 * Sets the keep-alive timeout and the connection cap on `server`. Refused connections are
 * reported through `onDropped` at most once per `reportEveryMs`, with how many there were,
 * so a flood does not also flood the log.
 */
export function limitConnections(server: Server, limits: HttpLimits, onDropped: (refused: number) => void, reportEveryMs = 10_000): void {
  server.keepAliveTimeout = limits.keepAliveTimeoutMs;
  server.maxConnections = limits.maxConnections;
  let refused = 0;
  let timer: NodeJS.Timeout | undefined;
  server.on("drop", () => {
    refused++;
    timer ??= setTimeout(() => {
      onDropped(refused);
      refused = 0;
      timer = undefined;
    }, reportEveryMs).unref();
  });
}

/** Why a request's body is refused before it is read: its status, a code and a message. */
export interface BodyRefusal {
  status: 411 | 413;
  code: "LENGTH_REQUIRED" | "PAYLOAD_TOO_LARGE";
  message: string;
}

/**
 * Refuses, by its headers alone, a body over `maxBytes` (413) and a POST or PATCH without a
 * Content-Length (411: a chunked body's size is only known after reading it all). Null when the
 * body may be read. GraphQL and REST requests share it, so both have the same limits.
 */
export function bodyRefusal(req: IncomingMessage, maxBytes: number): BodyRefusal | null {
  const declared = req.headers["content-length"];
  if (Number(declared ?? 0) > maxBytes) return { status: 413, code: "PAYLOAD_TOO_LARGE", message: `Request body too large: at most ${maxBytes} bytes.` };
  if ((req.method === "POST" || req.method === "PATCH") && declared === undefined) return { status: 411, code: "LENGTH_REQUIRED", message: "Send a Content-Length header." };
  return null;
}
