import type { TypedDocumentNode } from "@graphql-typed-document-node/core";
import { type DocumentNode, Kind, type OperationDefinitionNode, print } from "graphql";
import { documentIdOf, persistedQueryExtension } from "../trusted-documents.js";

/** An operation to run: a (generated, typed) document or its text, and its variables. */
export interface OperationRequest<TData = Record<string, unknown>, TVariables = Record<string, unknown>> {
  query: TypedDocumentNode<TData, TVariables> | DocumentNode | string;
  variables?: TVariables | null;
  operationName?: string | null;
  extensions?: Record<string, unknown> | null;
}

/** What graphql-ws sends, with variables the resume logic may update in place. */
export interface MutablePayload {
  query: string;
  operationName?: string | null;
  variables: Record<string, unknown>;
  extensions?: Record<string, unknown> | null;
}

const operationOf = (document: DocumentNode) =>
  document.definitions.find((definition): definition is OperationDefinitionNode => definition.kind === Kind.OPERATION_DEFINITION);

/** True when the operation declares a `$after` variable: its stream can be resumed from a cursor. */
export function takesAfter(query: DocumentNode | string): boolean {
  if (typeof query === "string") return /\$after\s*:/.test(query);
  return operationOf(query)?.variableDefinitions?.some((definition) => definition.variable.name.value === "after") ?? false;
}

/**
 * The graphql-ws payload for `request`. With `trusted`, a generated document goes by its
 * trusted-document hash (APQ extension, `query: ""`, as the server accepts over a socket), so a
 * server running PERSISTED_DOCUMENTS=only runs it; otherwise, and for any other document, as text.
 */
export function payloadFor(request: OperationRequest<unknown, unknown>, trusted: boolean): MutablePayload {
  const { query } = request;
  const variables = { ...((request.variables ?? {}) as Record<string, unknown>) };
  const operationName = request.operationName ?? (typeof query === "string" ? undefined : operationOf(query)?.name?.value);
  const documentId = trusted ? documentIdOf(query) : undefined;
  if (documentId !== undefined) {
    return { query: "", operationName, variables, extensions: { ...request.extensions, ...persistedQueryExtension(documentId) } };
  }
  return { query: typeof query === "string" ? query : print(query), operationName, variables, extensions: request.extensions };
}
