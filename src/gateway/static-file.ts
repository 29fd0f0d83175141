import { createHash } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { promisify } from "node:util";
import { brotliCompress, constants, gzip } from "node:zlib";

const brotli = promisify(brotliCompress);
const gzipAsync = promisify(gzip);

export type Encoding = "br" | "gzip" | "identity";

/** A file served from memory, compressed once, in each encoding a client may ask for. */
export interface StaticFile {
  contentType: string;
  cacheControl: string;
  /** Strong validator of the bytes; each encoding's ETag adds its name. */
  hash: string;
  /** The bytes in `encoding`, compressed on first use and kept. */
  body(encoding: Encoding): Promise<Buffer>;
}

/**
 * Brotli quality 5 packs GraphiQL's 9 MB of files into about 2.2 MB in about 0.3 s of one core;
 * quality 11 is about 12% smaller but takes 15 s, and the files are compressed at run time.
 */
const BROTLI_QUALITY = 5;

/**
 * Prepares `bytes` for serving. Each encoding is compressed when first asked for (browsers
 * all take brotli, so gzip is often never needed), on libuv's thread pool so the event loop
 * keeps serving meanwhile, and then reused for every request.
 */
export function createStaticFile(bytes: Buffer, contentType: string, cacheControl: string): StaticFile {
  const compress: Record<Encoding, () => Promise<Buffer>> = {
    identity: async () => bytes,
    br: () =>
      brotli(bytes, {
        params: {
          [constants.BROTLI_PARAM_QUALITY]: BROTLI_QUALITY,
          [constants.BROTLI_PARAM_MODE]: contentType.startsWith("text/") ? constants.BROTLI_MODE_TEXT : constants.BROTLI_MODE_GENERIC,
          [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length,
        },
      }),
    gzip: () => gzipAsync(bytes, { level: 6 }),
  };
  const bodies = new Map<Encoding, Promise<Buffer>>();
  return {
    contentType,
    cacheControl,
    hash: createHash("sha256").update(bytes).digest("base64url").slice(0, 32),
    body(encoding) {
      let body = bodies.get(encoding);
      if (!body) {
        body = compress[encoding]();
        // A failed compression is tried again by the next request rather than remembered.
        body.catch(() => bodies.delete(encoding));
        bodies.set(encoding, body);
      }
      return body;
    },
  };
}

/** The q-value an Accept-Encoding header gives `coding` (RFC 9110 §12.5.3; `*` matches the rest). */
function qValue(acceptEncoding: string, coding: string): number {
  let star: number | undefined;
  for (const part of acceptEncoding.split(",")) {
    const [name = "", ...params] = part.split(";").map((item) => item.trim().toLowerCase());
    const q = params.find((param) => param.startsWith("q="));
    const value = q === undefined ? 1 : Number(q.slice(2));
    if (name === coding) return Number.isFinite(value) ? value : 0;
    if (name === "*") star = Number.isFinite(value) ? value : 0;
  }
  return star ?? 0;
}

/** Brotli when the client takes it, then gzip, else the plain bytes. */
function chooseEncoding(acceptEncoding: string | undefined): Encoding {
  if (!acceptEncoding) return "identity";
  if (qValue(acceptEncoding, "br") > 0) return "br";
  if (qValue(acceptEncoding, "gzip") > 0) return "gzip";
  return "identity";
}

/** Whether If-None-Match names `etag` (weak comparison, as RFC 9110 asks for this header). */
function matches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false;
  return ifNoneMatch.split(",").some((tag) => {
    const bare = tag.trim().replace(/^W\//, "");
    return bare === "*" || bare === etag;
  });
}

/**
 * Answers a GET or HEAD with `file`: the encoding Accept-Encoding prefers (br, then gzip),
 * `304` when If-None-Match names that encoding's ETag, and `headers` added to a 200.
 */
export async function sendStaticFile(req: IncomingMessage, res: ServerResponse, file: StaticFile, headers: Record<string, string> = {}): Promise<void> {
  const encoding = chooseEncoding(req.headers["accept-encoding"]);
  const etag = `"${file.hash}${encoding === "identity" ? "" : `-${encoding}`}"`;
  const vary = res.getHeader("vary");
  const caching = {
    ETag: etag,
    "Cache-Control": file.cacheControl,
    // Keep what an earlier step (CORS) put in Vary.
    Vary: vary ? `${String(vary)}, Accept-Encoding` : "Accept-Encoding",
  };
  if (matches(req.headers["if-none-match"], etag)) {
    res.writeHead(304, caching);
    res.end();
    return;
  }
  const body = await file.body(encoding);
  res.writeHead(200, {
    ...caching,
    ...headers,
    "Content-Type": file.contentType,
    "Content-Length": String(body.length),
    ...(encoding === "identity" ? {} : { "Content-Encoding": encoding }),
    "X-Content-Type-Options": "nosniff",
  });
  res.end(req.method === "HEAD" ? undefined : body);
}
