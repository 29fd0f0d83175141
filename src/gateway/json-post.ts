import type { IncomingMessage, ServerResponse } from "node:http";
import { getOperationAST, parse, type DocumentNode, type ExecutionResult } from "graphql";
import { processRegularResult, type GraphQLParams, type YogaServerInstance } from "graphql-yoga";
import type { Logger } from "../logger.js";
import type { InitialContext } from "./websocket-gateway.js";
import type { PersistedQueries } from "./persisted-queries.js";
import { usesIncrementalDelivery } from "./incremental-delivery.js";
import { MAX_DOCUMENT_TOKENS } from "./limits.js";

/** The operation parameters of a JSON body, as yoga's own check (useCheckGraphQLQueryParams) accepts them. */
interface JsonParams {
  /** Absent when a persisted query names its document by hash. */
  query?: string;
  variables?: Record<string, unknown> | null;
  operationName?: string | null;
  extensions?: Record<string, unknown> | null;
}

/** The JSON media types yoga answers a single result with, in the order its negotiation tries them. */
const REGULAR_MEDIA_TYPES = ["application/graphql-response+json", "application/json"] as const;
const PARAM_NAMES = new Set(["query", "variables", "operationName", "extensions"]);
/** Distinct Accept headers remembered; clients send few (more are recomputed). */
const MAX_REMEMBERED = 512;

/**
 * The answer's media type for an Accept header, as yoga's result-processor negotiation picks it
 * for a single (not streamed) result: the first accepted type, with a UTF-8 charset or none,
 * that matches application/graphql-response+json or application/json (application/json when it
 * matches both, as with `*` + `/*`); null when none does (yoga then answers 406, or streams).
 */
export function regularMediaTypeFor(accept: string | undefined): string | null {
  const types = (accept || "*/*").replace(/\s/g, "").toLowerCase().split(",");
  let chosen: string | null = null;
  for (let i = types.length - 1; i >= 0; i--) {
    const [mediaType, ...params] = types[i]!.split(";");
    const charset = params.find((param) => param.includes("charset=")) ?? "charset=utf-8";
    if (charset !== "charset=utf-8") continue;
    const [type, subtype] = mediaType!.split("/");
    for (const candidate of REGULAR_MEDIA_TYPES) {
      const [candidateType, candidateSubtype] = candidate.split("/");
      if ((type === "*" || type === candidateType) && (subtype === "*" || subtype === candidateSubtype)) chosen = candidate;
    }
  }
  return chosen;
}

/** A body yoga's parameter check would pass unchanged: an object with only the four known fields, each of its type (the query a string, or absent). */
function plainParams(body: unknown): JsonParams | null {
  if (typeof body !== "object" || body === null || Array.isArray(body)) return null;
  const params = body as Record<string, unknown>;
  for (const key in params) if (!PARAM_NAMES.has(key)) return null;
  const { query, variables, operationName, extensions } = params;
  if (query !== undefined && typeof query !== "string") return null;
  if (variables != null && (typeof variables !== "object" || Array.isArray(variables))) return null;
  if (operationName != null && typeof operationName !== "string") return null;
  if (extensions != null && (typeof extensions !== "object" || Array.isArray(extensions))) return null;
  return params as unknown as JsonParams;
}

/** A small memo: cleared when full, which costs a recomputation per entry and nothing else. */
class Memo<V> {
  private readonly entries = new Map<string, V>();
  get(key: string, compute: (key: string) => V): V {
    let value = this.entries.get(key);
    if (value === undefined) {
      value = compute(key);
      if (this.entries.size >= MAX_REMEMBERED) this.entries.clear();
      this.entries.set(key, value);
    }
    return value;
  }
}

/** yoga's parsed-document cache, keyed by the query text (server.ts hands the same one to yoga). */
export interface DocumentCache {
  get(query: string): DocumentNode | undefined;
  set(query: string, document: DocumentNode): unknown;
}

/** True for a document whose chosen operation is a query or mutation answered in one piece (no subscription, no `@defer` / `@stream`). */
function answeredInOnePiece(document: DocumentNode, incremental: boolean, operationName: string | null | undefined): boolean {
  if (incremental) return false;
  const operation = getOperationAST(document, operationName);
  return operation != null && operation.operation !== "subscription";
}

/** The body, read in full (the listener refused it beforehand unless it has a Content-Length within the limit); null if the client went away first. */
function readText(req: IncomingMessage): Promise<string | null> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.once("end", () => resolve(chunks.length === 1 ? chunks[0]!.toString("utf8") : Buffer.concat(chunks).toString("utf8")));
    // An abort or a request timeout destroys the request: 'close' without 'end' (after 'end' this resolves nothing more).
    req.once("close", () => resolve(null));
  });
}

/** `result` as yoga writes it: without the `http` extension (status and headers), which it turns into the response. */
function withoutHttpExtension(result: ExecutionResult): ExecutionResult {
  if (!result.extensions || !("http" in result.extensions)) return result;
  const { http: _http, ...extensions } = result.extensions;
  return { ...result, extensions: Object.keys(extensions).length > 0 ? extensions : undefined };
}

/** The yoga and @whatwg-node hooks this shortcut does not run (it calls yoga from its parameters on). */
const SKIPPED_HOOKS = ["onRequest", "onRequestParse", "onResultProcess", "onResponse"] as const;
/** The same for instrumentation: envelop's (parse, validate, context, execute, subscribe) runs; these wrap the HTTP request around it. */
const SKIPPED_INSTRUMENTATION = ["request", "requestParse", "operation", "resultProcess"] as const;

/**
 * Throws when a plugin has a hook the shortcut would skip: such a plugin needs the shortcut
 * taught about it (or the request left to yoga), else JSON POSTs would silently go without it.
 */
export function assertShortcutRunsEveryHook(plugins: readonly object[]): void {
  for (const plugin of plugins) {
    const instrumentation = (plugin as { instrumentation?: object }).instrumentation ?? {};
    const skipped = SKIPPED_HOOKS.find((hook) => hook in plugin) ?? SKIPPED_INSTRUMENTATION.map((hook) => `instrumentation.${hook}`).find((hook) => hook.slice(16) in instrumentation);
    if (skipped) throw new Error(`A yoga plugin has an ${skipped} hook, which json-post.ts does not run for POST /graphql with a JSON body.`);
  }
}

interface HttpExtension {
  status?: number;
  headers?: Record<string, string>;
}

/**
 * GraphQL's most common request, served without @whatwg-node's Fetch emulation: a POST to the
 * GraphQL path with a JSON body (`{query, variables, operationName, extensions}`) whose operation
 * is a query or mutation, asking for a JSON answer. The operation itself still goes through
 * yoga's `getResultForParams`, so every envelop and yoga plugin (the parameter check, persisted
 * queries, parse and validation caches, limits, rate limits, context, compiled execution, error
 * masking) runs exactly as for any request; what is skipped is the per-request machinery around
 * it: a Fetch Request over the Node request with its body stream and AbortController, the
 * request-parser and result-processor hooks, and a Fetch Response written back to Node. That was
 * about a fifth of a `sendMessage`'s CPU (bench S4).
 *
 * Everything else goes to yoga, with the body already read handed over as Express body parsers
 * do (`req.body`, which @whatwg-node reads instead of the stream): other methods and content
 * types, a body that is not plain operation parameters (invalid JSON, a batch, an unknown field,
 * a wrongly typed one), a persisted query the store refuses or one sent to be registered (a
 * persisted query or trusted document found by its hash is served here), a document that does not parse
 * or names no operation, subscriptions and `@defer` / `@stream` (answered as streams), and an
 * Accept header no JSON type satisfies. An answer with errors is built by yoga's own
 * `processRegularResult` (status by the spec's rules, `extensions.http`); one without is written
 * directly, with the same status, headers and body.
 *
 * Returns the listener: true when it took the request.
 */
export function createJsonPostHandler(deps: {
  yoga: YogaServerInstance<InitialContext, {}>;
  path: string;
  persisted: PersistedQueries;
  /** The parsed-document cache yoga was created with (`parserAndValidationCache.documentCache`). */
  documents: DocumentCache;
  logger: Logger;
}): (req: IncomingMessage, res: ServerResponse) => boolean {
  const { yoga, path, persisted, documents, logger } = deps;
  const mediaTypes = new Memo<string | null>();
  /** Whether each cached document uses @defer / @stream (entries go with their documents). */
  const incremental = new WeakMap<DocumentNode, boolean>();
  /**
   * The document for `query` from yoga's cache; on a miss, parsed here and cached for yoga, so it
   * is parsed once either way. No larger than the token limit lets through (graphql-armor's limit
   * in yoga's own parse); null when it does not parse, which yoga then reports.
   */
  const documentOf = (query: string): DocumentNode | null => {
    let document = documents.get(query);
    if (document === undefined) {
      try {
        document = parse(query, { maxTokens: MAX_DOCUMENT_TOKENS });
      } catch {
        return null;
      }
      documents.set(query, document);
    }
    return document;
  };
  const waitUntil = (promise: Promise<unknown> | unknown): void => {
    void Promise.resolve(promise).catch((error: unknown) => logger.error("work left running after a response failed", { error }));
  };
  const handOver = (req: IncomingMessage, res: ServerResponse, text: string): void => {
    // @whatwg-node takes a string `req.body` as the request's body (a stream read once cannot be read again).
    (req as IncomingMessage & { body?: string }).body = text;
    void yoga.requestListener(req, res);
  };

  async function serve(req: IncomingMessage, res: ServerResponse, mediaType: string): Promise<void> {
    const text = await readText(req);
    if (text === null) return;
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return handOver(req, res, text);
    }
    let params = plainParams(body);
    if (params === null) return handOver(req, res, text);
    if (persisted.concerns(params)) {
      // The document a persisted query names, as the persisted-queries plugin would find it (it
      // then sees plain text and lets it pass). A refusal, or a document being registered (its
      // registration waits for validation, in the plugin), is left to yoga.
      let resolved;
      try {
        resolved = await persisted.resolve(params);
      } catch {
        return handOver(req, res, text);
      }
      if (resolved.registration) return handOver(req, res, text);
      params = resolved.params;
    }
    const { query } = params;
    if (typeof query !== "string") return handOver(req, res, text);
    const document = documentOf(query);
    if (document === null) return handOver(req, res, text);
    let streams = incremental.get(document);
    if (streams === undefined) incremental.set(document, (streams = usesIncrementalDelivery(document)));
    if (!answeredInOnePiece(document, streams, params.operationName)) return handOver(req, res, text);
    const request = new yoga.fetchAPI.Request(`http://${req.headers.host ?? "localhost"}${req.url}`, { method: "POST", headers: req.headers as Record<string, string> });
    const result = (await yoga.getResultForParams({ params: params as GraphQLParams, request }, { req, res, waitUntil } as unknown as InitialContext)) as ExecutionResult;
    if (Symbol.asyncIterator in result || (result.errors?.length ?? 0) > 0) {
      // yoga's own answer for errors (or, should a plugin ever stream a query, its 406).
      const response = processRegularResult(result, yoga.fetchAPI, mediaType);
      const headers: Record<string, string> = {};
      response.headers.forEach((value, name) => (headers[name] = value));
      const answer = await response.text();
      headers["content-length"] = String(Buffer.byteLength(answer));
      res.writeHead(response.status, headers).end(answer);
      return;
    }
    const http = result.extensions?.http as HttpExtension | undefined;
    const stringify = (result as { stringify?: (value: unknown) => string }).stringify ?? JSON.stringify;
    const answer = stringify(withoutHttpExtension(result));
    res.writeHead(http?.status ?? 200, { "Content-Type": `${mediaType}; charset=utf-8`, "Content-Length": Buffer.byteLength(answer), ...http?.headers }).end(answer);
  }

  return (req, res) => {
    if (req.method !== "POST" || req.url !== path) return false;
    const contentType = req.headers["content-type"];
    if (contentType === undefined || (contentType !== "application/json" && !contentType.startsWith("application/json;"))) return false;
    const mediaType = mediaTypes.get(req.headers.accept ?? "", regularMediaTypeFor);
    if (mediaType === null) return false;
    serve(req, res, mediaType).catch((error: unknown) => {
      logger.error("a GraphQL request failed", { error });
      if (res.headersSent) return void res.destroy();
      res.writeHead(500, { "content-type": "application/json" });
      res.end(JSON.stringify({ errors: [{ message: "Unexpected error.", extensions: { code: "INTERNAL_SERVER_ERROR" } }] }));
    });
    return true;
  };
}
