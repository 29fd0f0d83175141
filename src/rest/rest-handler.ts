import type { IncomingMessage, ServerResponse } from "node:http";
import { isInputObjectType, type GraphQLSchema } from "graphql";
import type { YogaServerInstance } from "graphql-yoga";
import { ConcordError } from "../errors.js";
import type { Logger } from "../logger.js";
import { bodyRefusal } from "../gateway/http-limits.js";
import type { InitialContext } from "../gateway/websocket-gateway.js";
import { OPENAPI_PATH, openApiDocument } from "./openapi.js";
import { sendError, sendJson, type RestError } from "./rest-errors.js";
import type { RestRequest, RestRoute } from "./route.js";

/** Response headers of the GraphQL answer that a REST answer passes on. */
const PASSED_HEADERS = ["retry-after", "x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset-after", "x-ratelimit-bucket", "x-ratelimit-scope"];
/** Request headers the GraphQL request is made with (the client hint and address come from the Node request itself). */
const FORWARDED_HEADERS = ["authorization", "x-audit-log-reason"];

interface CompiledRoute {
  route: RestRoute;
  pattern: RegExp;
  names: string[];
  /** The body's allowed fields (the input type's, less those the path supplies). */
  bodyFields: Set<string> | undefined;
}

interface GraphQLAnswer {
  data?: Record<string, unknown> | null;
  errors?: { message: string; extensions?: Record<string, unknown> }[];
}

const fail = (code: string, message: string, details: Record<string, unknown> = {}): RestError => ({ code, message, ...details });

function compile(schema: GraphQLSchema, route: RestRoute): CompiledRoute {
  const names: string[] = [];
  const source = route.path.split(/(\{\w+\})/).map((part) => {
    const name = /^\{(\w+)\}$/.exec(part)?.[1];
    if (!name) return part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    names.push(name);
    return "([^/]+)";
  });
  const input = route.body && schema.getType(route.body.inputType);
  if (route.body && !isInputObjectType(input)) throw new Error(`${route.operationId}: ${route.body.inputType} is not an input type`);
  const bodyFields = isInputObjectType(input) ? new Set(Object.keys(input.getFields()).filter((f) => !route.body!.fromPath.includes(f))) : undefined;
  return { route, pattern: new RegExp(`^${source.join("")}$`), names, bodyFields };
}

/** Reads a body whose length the headers already bounded. */
async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

/** The JSON object a body must be, with only the input type's fields; a RestError otherwise (nothing has run). */
function parseBody(text: string, fields: Set<string>, contentType: string | undefined): { body: Record<string, unknown> } | { error: RestError } {
  const refuse = (code: string, message: string, details?: Record<string, unknown>) => ({ error: fail(code, message, details) });
  if (!/^application\/json\s*(;|$)/i.test(contentType ?? "")) return refuse("UNSUPPORTED_MEDIA_TYPE", "Send the body as JSON, with Content-Type: application/json.");
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return refuse("BAD_USER_INPUT", "The body is not valid JSON.", { field: "body" });
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) return refuse("BAD_USER_INPUT", "The body must be a JSON object.", { field: "body" });
  const unknown = Object.keys(body).find((key) => !fields.has(key));
  if (unknown !== undefined) return refuse("BAD_USER_INPUT", `Unknown field ${JSON.stringify(unknown)}: the body takes ${[...fields].join(", ")}.`, { field: unknown });
  return { body: body as Record<string, unknown> };
}

/** The answer at the route's path in `data` (nodes newest first for edges); null when it is not there. */
function answerOf(route: RestRoute, data: Record<string, unknown> | null | undefined): unknown {
  let value: unknown = data;
  for (const key of route.answer!.path) value = value === null || value === undefined ? null : (value as Record<string, unknown>)[key];
  if (value === null || value === undefined) return null;
  return route.answer!.edges ? (value as { node: unknown }[]).map((edge) => edge.node).reverse() : value;
}

/**
 * The REST routes (routes.ts) and their OpenAPI document, answered before yoga's own listener.
 * Each route runs its GraphQL operation through `yoga.fetch`, so it goes through everything a
 * GraphQL request does: auth (the same Authorization header, bot tokens included), query limits,
 * the rate-limit plugin and the use cases' own budgets, error masking. Only the envelope differs:
 * the answer alone instead of `{ data }`, and the first error as `{ error: { code, message } }`
 * with its status (rest-errors.ts) and the rate-limit headers.
 *
 * Returns the listener: true when it took the request (any path under /v1/), false otherwise.
 */
export function createRestHandler(deps: {
  yoga: YogaServerInstance<InitialContext, {}>;
  schema: GraphQLSchema;
  routes: readonly RestRoute[];
  graphqlPath: string;
  maxRequestBytes: number;
  logger: Logger;
}): (req: IncomingMessage, res: ServerResponse) => boolean {
  const { yoga, schema, routes, maxRequestBytes, logger } = deps;
  const compiled = routes.map((route) => compile(schema, route));
  let openApi: string | undefined;

  async function run(req: IncomingMessage, res: ServerResponse, match: CompiledRoute, url: URL, params: Record<string, string>): Promise<void> {
    const { route, bodyFields } = match;
    const refusal = bodyRefusal(req, maxRequestBytes);
    if (refusal) return sendError(res, fail(refusal.code, refusal.message));
    let body: Record<string, unknown> | undefined;
    if (bodyFields) {
      const parsed = parseBody(await readBody(req), bodyFields, req.headers["content-type"]);
      if ("error" in parsed) return sendError(res, parsed.error);
      body = parsed.body;
    }
    let variables: Record<string, unknown>;
    try {
      variables = route.variables({ params, query: url.searchParams, body } satisfies RestRequest);
    } catch (error) {
      if (!(error instanceof ConcordError)) throw error;
      return sendError(res, fail(String(error.extensions.code), error.message, { ...error.extensions }));
    }
    const headers: Record<string, string> = { "content-type": "application/json", accept: "application/json" };
    for (const name of FORWARDED_HEADERS) {
      const value = req.headers[name];
      if (typeof value === "string") headers[name] = value;
    }
    // `restRoute` rides in the server context, which no client can set: the document is the
    // server's own, so the trusted-documents-only mode lets it run (persisted-queries-plugin.ts).
    const response = await yoga.fetch(`http://rest.local${deps.graphqlPath}`, { method: "POST", headers, body: JSON.stringify({ query: route.document, variables }) }, { req, restRoute: true });
    const passed: Record<string, string> = {};
    for (const name of PASSED_HEADERS) {
      const value = response.headers.get(name);
      if (value !== null) passed[name] = value;
    }
    const answer = (await response.json()) as GraphQLAnswer;
    const error = answer.errors?.[0];
    if (error) {
      const { code, ...details } = error.extensions ?? {};
      // A backend outage: 503 with Retry-After, as HTTP clients and proxies expect.
      if (code === "UNAVAILABLE" && typeof details.retryAfterMs === "number") passed["Retry-After"] = String(Math.max(1, Math.ceil(details.retryAfterMs / 1000)));
      return sendError(res, { ...details, code: typeof code === "string" ? code : "INTERNAL_SERVER_ERROR", message: error.message }, passed);
    }
    if (!route.answer) return sendJson(res, 204, undefined, passed);
    const value = answerOf(route, answer.data);
    if (value === null) return sendError(res, fail("NOT_FOUND", "Not found."), passed);
    sendJson(res, 200, value, passed);
  }

  return (req, res) => {
    // Every request passes here first: GraphQL's cost one string comparison.
    if (!req.url?.startsWith("/v1/")) return false;
    const url = new URL(req.url, "http://rest.local");
    if (url.pathname === OPENAPI_PATH && (req.method === "GET" || req.method === "HEAD")) {
      openApi ??= JSON.stringify(openApiDocument(schema, routes));
      res.writeHead(200, { "content-type": "application/json; charset=utf-8", "cache-control": "no-cache" });
      res.end(req.method === "HEAD" ? undefined : openApi);
      return true;
    }
    const onPath = compiled.filter((c) => c.pattern.test(url.pathname));
    const match = onPath.find((c) => c.route.method === req.method);
    if (!match) {
      if (onPath.length === 0) sendError(res, fail("NOT_FOUND", `No route ${req.method} ${url.pathname}; see ${OPENAPI_PATH}.`));
      else sendError(res, fail("METHOD_NOT_ALLOWED", `${url.pathname} takes ${onPath.map((c) => c.route.method).join(", ")}.`), { allow: onPath.map((c) => c.route.method).join(", ") });
      return true;
    }
    const values = match.pattern.exec(url.pathname)!.slice(1);
    const params = Object.fromEntries(match.names.map((name, i) => [name, safeDecode(values[i]!)]));
    run(req, res, match, url, params).catch((error: unknown) => {
      logger.error("a REST request failed", { error, route: match.route.operationId });
      if (!res.headersSent) sendError(res, fail("INTERNAL_SERVER_ERROR", "Something went wrong on our side; it was logged. Try again later."));
      else res.destroy();
    });
    return true;
  };
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}
