/**
 * One GraphQL request over HTTP keep-alive, for the closed-loop benches (write-path.ts,
 * history-api.ts): `node:http` with a shared Agent, so C workers hold C connections and the
 * numbers do not include TCP handshakes.
 */
import http from "node:http";

/** The whole response body, or why there is none (a transport error or a timeout). */
export type PostResult = { status: number; text: string } | { error: string; detail: string };

/**
 * POSTs `payload` (a JSON GraphQL request) to /graphql on 127.0.0.1:`port` with a bearer token,
 * over `agent`'s sockets; counts new connections in `opened`. Never throws: a request without an
 * answer after `timeoutMs` is the error `timeout`, a socket error `transport <code>`.
 */
export function postGraphql(agent: http.Agent, port: number, payload: string, token: string, timeoutMs: number, opened: { count: number }): Promise<PostResult> {
  return new Promise((resolve) => {
    const req = http.request(
      {
        host: "127.0.0.1",
        port,
        path: "/graphql",
        method: "POST",
        agent,
        headers: { "content-type": "application/json", "content-length": Buffer.byteLength(payload), authorization: `Bearer ${token}` },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("error", (error) => resolve({ error: "transport", detail: error.message }));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") }));
      },
    );
    req.on("socket", () => {
      if (!req.reusedSocket) opened.count++;
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`timeout: no answer within ${timeoutMs} ms`)));
    req.on("error", (error: NodeJS.ErrnoException) => resolve({ error: error.message.startsWith("timeout") ? "timeout" : `transport ${error.code ?? ""}`.trim(), detail: error.message }));
    req.end(payload);
  });
}
