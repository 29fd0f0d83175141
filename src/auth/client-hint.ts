/** Longest client hint kept, in code points (real User-Agents are mostly under 150). */
export const MAX_CLIENT_HINT_LENGTH = 200;

// Lone surrogates (not text), C0 and C1 controls, bidi embeddings/overrides/isolates and marks
// (which can make "Evil" render as "livE" in a session list), zero-width characters, and line
// or paragraph separators: a hint is shown to its owner in a list, one line each.
const UNWANTED = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]|[\u0000-\u001F\u007F-\u009F\u061C\u200B-\u200F\u2028-\u202E\u2060-\u2069\uFEFF]/g;

/**
 * What a client says it is (an HTTP User-Agent, or the `client` connection param of graphql-ws),
 * made safe to store and show: anything but a string is ignored, unwanted characters become
 * spaces, runs of spaces collapse, and the result is cut to {@link MAX_CLIENT_HINT_LENGTH} code
 * points (ending in "…" when cut). Null when nothing readable is left.
 *
 * The hint is the client's own claim, shown to help a person recognise their devices; nothing
 * relies on it being true.
 */
export function sanitizeClientHint(raw: unknown): string | null {
  const value = Array.isArray(raw) ? raw[0] : raw;
  if (typeof value !== "string") return null;
  // Cut first (generously) so a megabyte of header costs no more than a short one; a surrogate
  // pair split by the cut becomes a lone surrogate, which the next step removes.
  const cleaned = value.slice(0, MAX_CLIENT_HINT_LENGTH * 8).replace(UNWANTED, " ").replace(/\s+/g, " ").trim();
  if (cleaned === "") return null;
  const points = [...cleaned];
  if (points.length <= MAX_CLIENT_HINT_LENGTH) return cleaned;
  return points.slice(0, MAX_CLIENT_HINT_LENGTH - 1).join("").trimEnd() + "…";
}

/**
 * The hint of a request: a graphql-ws `client` connection param when the client sent one (a
 * native app naming itself, "Concord Desktop 1.4 on Windows"), else the User-Agent header of the
 * HTTP request or of the WebSocket's upgrade request.
 */
export function clientHintOf(headers: Record<string, string | string[] | undefined> | undefined, connectionParams?: Readonly<Record<string, unknown>> | null): string | null {
  return sanitizeClientHint(connectionParams?.client) ?? sanitizeClientHint(headers?.["user-agent"]);
}
