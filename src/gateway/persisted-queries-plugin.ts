import type { Plugin } from "graphql-yoga";
import type { OperationParams, PersistedQueries, Registration } from "./persisted-queries.js";

/** `documentId` of a GET request's query string (yoga reads only query, operationName, variables and extensions from it). */
function documentIdOf(request: Request): string | undefined {
  if (request.method !== "GET" || !request.url.includes("documentId=")) return undefined;
  return new URL(request.url).searchParams.get("documentId") ?? undefined;
}

/**
 * Persisted queries over HTTP (POST, GET and SSE alike): each request's parameters go through
 * {@link PersistedQueries.resolve} before yoga checks and parses them, so the query-shape and
 * cost limits apply to a persisted document exactly as to one sent in full. A document sent to
 * be registered is stored once it has validated (fire and forget, as Apollo Server does: the
 * answer does not wait for Redis). Refusals carry their HTTP status (404 for an unknown hash).
 */
export function usePersistedQueries(persisted: PersistedQueries): Plugin {
  /** Registrations waiting for their document's validation, by the request's context (the object yoga validates with). */
  const pending = new WeakMap<object, Registration>();
  return {
    onParams({ params, request, setParams, context }) {
      // A REST route's document is the server's own (set in the server context, out of clients' reach).
      if ((context as { restRoute?: boolean }).restRoute) return;
      const documentId = documentIdOf(request);
      const sent: OperationParams = documentId === undefined ? params : { ...params, documentId };
      if (!persisted.concerns(sent)) return;
      return persisted.resolve(sent).then((resolved) => {
        if (resolved.params !== sent) setParams(resolved.params as typeof params);
        if (resolved.registration) pending.set(context, resolved.registration);
      });
    },
    onValidate({ context }) {
      const registration = pending.get(context);
      if (!registration) return;
      pending.delete(context);
      return ({ valid }) => {
        if (valid) void persisted.register(registration);
      };
    },
  };
}
