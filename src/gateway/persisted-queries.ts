import { ConcordError, limitExceeded } from "../errors.js";
import type { Logger } from "../logger.js";
import { documentHash, hashOfDocumentId, type PersistedQueryStore } from "../stores/persisted-query-store.js";
import {
  persistedDocumentsOnly,
  persistedDocumentUnknown,
  persistedQueryMismatch,
  persistedQueryNotFound,
  persistedQueryNotSupported,
  withHttpStatus,
} from "./persisted-query-errors.js";
import type { TrustedDocuments } from "./trusted-documents.js";

/** An operation's parameters as a transport received them (an HTTP body or query string, a graphql-ws payload). */
export interface OperationParams {
  query?: unknown;
  operationName?: string | null;
  variables?: Record<string, unknown> | null;
  extensions?: Record<string, unknown> | null;
  /** A trusted document's id (GraphQL Code Generator's and yoga's name for it), instead of extensions.persistedQuery. */
  documentId?: unknown;
}

/** A document to store once it has parsed and validated: APQ registers only documents that can run. */
export interface Registration {
  hash: string;
  document: string;
}

export interface ResolvedOperation<P extends OperationParams> {
  /** The parameters to run: `query` is the document to run, `documentId` and extensions.persistedQuery are gone. */
  params: P & OperationParams;
  registration?: Registration;
}

export interface PersistedQueriesOptions {
  /** Where APQ keeps registered documents; null when APQ is off (APQ=false). */
  store: PersistedQueryStore | null;
  /** The manifest's documents (PERSISTED_DOCUMENTS_MANIFEST); empty when there is none. */
  trusted: TrustedDocuments;
  /** "only": operations outside the manifest are refused (PERSISTED_DOCUMENTS). */
  trustedOnly: boolean;
  /** Largest document APQ registers, in UTF-8 bytes (APQ_MAX_DOCUMENT_BYTES). */
  maxDocumentBytes: number;
  logger: Logger;
}

const badInput = (field: string, message: string) => withHttpStatus(new ConcordError("BAD_USER_INPUT", message, { field }), 400);

/**
 * The document an operation names by id (documentId, or extensions.persistedQuery.sha256Hash for
 * APQ), checked: its SHA-256 as bare hex (undefined for an id in another form, which no manifest
 * entry can have) and whether APQ named it; undefined when the operation names none.
 */
function requestedId(params: OperationParams): { hash: string | undefined; apq: boolean } | undefined {
  const extension = params.extensions?.persistedQuery;
  const { documentId } = params;
  if (documentId !== undefined && documentId !== null && (typeof documentId !== "string" || documentId.length === 0 || documentId.length > 200)) {
    throw badInput("documentId", "documentId must be the id of a trusted document (a string of at most 200 characters).");
  }
  if (extension === undefined || extension === null) return typeof documentId === "string" ? { hash: hashOfDocumentId(documentId), apq: false } : undefined;
  const { version, sha256Hash } = extension as { version?: unknown; sha256Hash?: unknown };
  if (typeof extension !== "object" || version !== 1) {
    throw badInput("extensions.persistedQuery.version", "extensions.persistedQuery must be { version: 1, sha256Hash } (the only version of the protocol).");
  }
  const hash = hashOfDocumentId(sha256Hash);
  if (hash === undefined) {
    throw badInput("extensions.persistedQuery.sha256Hash", "extensions.persistedQuery.sha256Hash must be the SHA-256 of the query as 64 lower-case hex digits.");
  }
  if (typeof documentId === "string" && hashOfDocumentId(documentId) !== hash) {
    throw badInput("documentId", "documentId and extensions.persistedQuery.sha256Hash name different documents: send one of them.");
  }
  return { hash, apq: true };
}

/**
 * Persisted queries for every transport: automatic persisted queries (Apollo's APQ protocol:
 * `extensions.persistedQuery { version: 1, sha256Hash }`) and trusted documents (a manifest of
 * documents by hash, asked for by that hash or by `documentId`).
 *
 * An id is a SHA-256, as bare hex (APQ) or as `sha256:<hex>` (the GraphQL-over-HTTP persisted
 * documents appendix, and what GraphQL Code Generator's client preset emits); both name the same
 * document. {@link resolve} turns what a client sent into the document to run, before anything
 * parses it:
 * - an id the manifest has: its document (any text sent along is ignored: the manifest's is the
 *   trusted one), APQ or not, in every mode;
 * - with trusted documents only: any other id, or text whose SHA-256 the manifest does not have,
 *   is refused (PERSISTED_QUERY_NOT_IN_LIST); text whose hash it has runs;
 * - a `documentId` the manifest does not have: refused (PERSISTED_QUERY_NOT_IN_LIST);
 * - APQ, a hash alone: the stored document, or PersistedQueryNotFound (the client then sends the
 *   text with the hash); PersistedQueryNotSupported when APQ is off;
 * - APQ, a hash with text (`query: ""` counts as none: graphql-ws requires a string): refused if
 *   larger than maxDocumentBytes (LIMIT_EXCEEDED) or if the hash is not the text's SHA-256
 *   (PERSISTED_QUERY_MISMATCH); otherwise it runs, and the caller {@link register}s it once it
 *   parsed and validated (so only documents that can run are stored, as Apollo Server does).
 * Everything else passes untouched, at the cost of two property reads.
 */
export class PersistedQueries {
  constructor(private readonly options: PersistedQueriesOptions) {}

  /** False when {@link resolve} would hand `params` back untouched without looking further: no id, and not trusted documents only. */
  concerns(params: OperationParams): boolean {
    return this.options.trustedOnly || (params.extensions?.persistedQuery ?? params.documentId ?? undefined) !== undefined;
  }

  /** What to run for `params` (see the class); rejects with the coded refusal, having stored nothing. */
  async resolve<P extends OperationParams>(params: P): Promise<ResolvedOperation<P>> {
    const requested = requestedId(params);
    const text = typeof params.query === "string" && params.query !== "" ? params.query : undefined;
    if (!requested) {
      if (this.options.trustedOnly && text !== undefined && !this.options.trusted.has(documentHash(text))) throw persistedDocumentsOnly();
      return { params };
    }
    const { documentId: _id, extensions, ...rest } = params;
    const { persistedQuery: _pq, ...otherExtensions } = extensions ?? {};
    const run = (query: string) => ({ ...rest, query, extensions: Object.keys(otherExtensions).length > 0 ? otherExtensions : undefined }) as P;
    const trusted = requested.hash === undefined ? undefined : this.options.trusted.get(requested.hash);
    if (trusted !== undefined) return { params: run(trusted) };
    if (this.options.trustedOnly || !requested.apq || requested.hash === undefined) throw persistedDocumentUnknown();
    const hash = requested.hash;
    const { store } = this.options;
    if (!store) throw persistedQueryNotSupported();
    if (text === undefined) {
      const stored = await store.get(hash);
      if (stored === null) throw persistedQueryNotFound();
      return { params: run(stored) };
    }
    const bytes = Buffer.byteLength(text, "utf8");
    if (bytes > this.options.maxDocumentBytes) {
      const max = this.options.maxDocumentBytes;
      throw withHttpStatus(
        limitExceeded("persistedQueryBytes", max, "APQ_MAX_DOCUMENT_BYTES", `This document is ${bytes} bytes; persisted queries may be at most ${max}. Send it without extensions.persistedQuery.`),
        400,
      );
    }
    if (documentHash(text) !== hash) throw persistedQueryMismatch();
    return { params: run(text), registration: { hash, document: text } };
  }

  /** Stores a registered document (call once it parsed and validated). Never rejects: a failure is logged and the client registers again later. */
  async register(registration: Registration): Promise<void> {
    try {
      await this.options.store?.set(registration.hash, registration.document);
    } catch (error) {
      this.options.logger.error("storing a persisted query failed", { error });
    }
  }
}
