import { createHash } from "node:crypto";
import type { Client } from "graphql-ws";
import type { GraphQLResponse } from "./server.js";

/** SHA-256 hex of a document, as clients compute it (node's crypto, as the Apollo tests pass to PersistedQueryLink). */
export const sha256 = (text: string) => createHash("sha256").update(text, "utf8").digest("hex");

/** The APQ extension naming `query`'s hash (or `hash` itself). */
export const persistedQuery = (queryOrHash: string) => ({ persistedQuery: { version: 1, sha256Hash: /^[0-9a-f]{64}$/.test(queryOrHash) ? queryOrHash : sha256(queryOrHash) } });

export interface Answer {
  status: number;
  body: GraphQLResponse;
}

/** One operation in what a client sends: any of query, variables, extensions, documentId. */
export type Operation = { query?: string; variables?: Record<string, unknown>; extensions?: Record<string, unknown>; documentId?: string; operationName?: string };

/** POSTs `operation` as JSON to `url` (with `Authorization: Bearer <token>` if given). */
export async function postOperation(url: string, operation: Operation, token?: string): Promise<Answer> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/graphql-response+json, application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(operation),
  });
  return { status: res.status, body: (await res.json()) as GraphQLResponse };
}

/** GETs `operation` from `url`, each field a query-string parameter (objects as JSON), as Apollo's HttpLink sends a GET. */
export async function getOperation(url: string, operation: Operation, token?: string): Promise<Answer> {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(operation)) if (value !== undefined) search.set(key, typeof value === "string" ? value : JSON.stringify(value));
  const res = await fetch(`${url}?${search}`, {
    headers: { accept: "application/graphql-response+json, application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
  });
  return { status: res.status, body: (await res.json()) as GraphQLResponse };
}

/** The codes of an answer's errors (empty when it has none). */
export const codes = (answer: Answer) => (answer.body.errors ?? []).map((error) => error.extensions?.code);

/**
 * Runs one operation over a graphql-ws client; resolves with every payload, or with the errors it
 * ended with as the last one. A subscription is stopped after its first payload (Subscribed).
 */
export function overSocket(client: Client, operation: Operation & { query: string }): Promise<GraphQLResponse[]> {
  return new Promise((resolve) => {
    const payloads: GraphQLResponse[] = [];
    let stop = () => {};
    stop = client.subscribe(operation as Parameters<Client["subscribe"]>[0], {
      next: (value) => {
        payloads.push(value as GraphQLResponse);
        if (Object.values(value.data ?? {}).some((root) => (root as { __typename?: string } | null)?.__typename === "Subscribed")) {
          stop();
          resolve(payloads);
        }
      },
      error: (errors) => resolve([...payloads, { errors: errors as GraphQLResponse["errors"] }]),
      complete: () => resolve(payloads),
    });
  });
}
