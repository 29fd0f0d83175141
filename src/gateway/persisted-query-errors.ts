import type { GraphQLError } from "graphql";
import { ConcordError, type ErrorCode } from "../errors.js";

/**
 * The refusals of persisted queries. The first two are Apollo's APQ protocol: clients
 * (Apollo Client's PersistedQueryLink, Apollo iOS and Kotlin) match the message or the code
 * exactly, so both are kept to the letter.
 *
 * Each carries its HTTP status in `extensions.http`, which yoga turns into the response status
 * and strips from the body (the WebSocket gateway strips it too): 404 for an unknown hash or id,
 * as Apollo Router and yoga's APQ plugin answer (Apollo clients read the body of a 404 and
 * retry), 403 for an operation the manifest does not allow, 400 for the rest.
 */
function refusal(code: ErrorCode, message: string, status: number): ConcordError {
  return withHttpStatus(new ConcordError(code, message), status);
}

/** `error`, answered with `status` over HTTP. */
export function withHttpStatus<E extends GraphQLError>(error: E, status: number): E {
  error.extensions.http = { status };
  return error;
}

/** APQ: the hash alone was sent and no document is stored under it; the client sends it again with its text. */
export const persistedQueryNotFound = () => refusal("PERSISTED_QUERY_NOT_FOUND", "PersistedQueryNotFound", 404);

/** APQ is off (APQ=false): the client stops sending hashes and sends the text. */
export const persistedQueryNotSupported = () => refusal("PERSISTED_QUERY_NOT_SUPPORTED", "PersistedQueryNotSupported", 400);

/** The text sent with a hash is not the document of that hash: nothing is stored, nothing runs. */
export const persistedQueryMismatch = () =>
  refusal("PERSISTED_QUERY_MISMATCH", "The query's SHA-256 is not extensions.persistedQuery.sha256Hash: hash the exact text you send (UTF-8, lower-case hex).", 400);

/** A trusted document was asked for by an id the manifest does not have. */
export const persistedDocumentUnknown = () =>
  refusal("PERSISTED_QUERY_NOT_IN_LIST", "No trusted document has this id: the server's manifest may be older than your client (PERSISTED_DOCUMENTS_MANIFEST).", 404);

/** An operation outside the manifest met PERSISTED_DOCUMENTS=only. */
export const persistedDocumentsOnly = () =>
  refusal("PERSISTED_QUERY_NOT_IN_LIST", "This server runs trusted documents only (PERSISTED_DOCUMENTS=only): send the id of a document from its manifest.", 403);
