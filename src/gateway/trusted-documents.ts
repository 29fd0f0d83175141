import { readFile } from "node:fs/promises";
import { documentHash, hashOfDocumentId } from "../stores/persisted-query-store.js";

/** Trusted documents by their SHA-256 (bare hex), read once at start-up. */
export type TrustedDocuments = ReadonlyMap<string, string>;

/**
 * Parses a manifest: one JSON object mapping each document's id to its text, as GraphQL Code
 * Generator's client preset writes `persisted-documents.json` with `persistedDocuments:
 * { hashAlgorithm: "sha256" }` (ids `sha256:<hex>`; bare hex is accepted too). Every id is
 * checked against its text (the hex must be the text's SHA-256), so
 * no document is ever served under another's hash; the first bad entry fails the whole file
 * with a message that names it (`source` says where the text came from).
 */
export function parseTrustedDocuments(json: string, source: string): TrustedDocuments {
  let manifest: unknown;
  try {
    manifest = JSON.parse(json);
  } catch (error) {
    throw new Error(`${source}: not JSON (${(error as Error).message})`);
  }
  if (typeof manifest !== "object" || manifest === null || Array.isArray(manifest)) {
    throw new Error(`${source}: expected a JSON object mapping each document's SHA-256 to its text`);
  }
  const documents = new Map<string, string>();
  for (const [hash, document] of Object.entries(manifest)) {
    const shown = JSON.stringify(hash.length > 80 ? `${hash.slice(0, 80)}…` : hash);
    if (typeof document !== "string" || document.trim() === "") throw new Error(`${source}: entry ${shown}: expected the document's text (a non-empty string)`);
    const hex = hashOfDocumentId(hash);
    if (hex === undefined || documentHash(document) !== hex) {
      throw new Error(
        `${source}: entry ${shown}: the key is not sha256:<hex> of its document's SHA-256 (GraphQL Code Generator: set persistedDocuments: { hashAlgorithm: "sha256" } in the client preset)`,
      );
    }
    documents.set(hex, document);
  }
  return documents;
}

/** Reads and parses the manifest at `path` ({@link parseTrustedDocuments}); rejects with a one-line reason. */
export async function loadTrustedDocuments(path: string): Promise<TrustedDocuments> {
  let json: string;
  try {
    json = await readFile(path, "utf8");
  } catch (error) {
    throw new Error(`cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  return parseTrustedDocuments(json, path);
}
