import type { DocumentNode } from "graphql";

/** A generated document: the client preset puts its trusted-document id in `__meta__.hash`. */
type WithMeta = DocumentNode & { __meta__?: { hash?: unknown } };

/**
 * The trusted-document id (`sha256:<hex>`) GraphQL Code Generator gave `document`, as listed in
 * client/src/generated/persisted-documents.json; undefined for a document it did not generate.
 */
export function documentIdOf(document: DocumentNode | string): string | undefined {
  if (typeof document === "string") return undefined;
  const hash = (document as WithMeta).__meta__?.hash;
  return typeof hash === "string" ? hash : undefined;
}

/** The bare SHA-256 hex of a trusted-document id (what APQ's `sha256Hash` carries). */
export function sha256HexOf(documentId: string): string {
  return documentId.startsWith("sha256:") ? documentId.slice("sha256:".length) : documentId;
}

/**
 * The APQ extension that asks the server for a trusted document by hash: how a graphql-ws client
 * names one (with `query: ""`), and what Apollo's PersistedQueryLink sends over HTTP.
 */
export function persistedQueryExtension(documentId: string): { persistedQuery: { version: 1; sha256Hash: string } } {
  return { persistedQuery: { version: 1, sha256Hash: sha256HexOf(documentId) } };
}
