import { ApolloLink } from "@apollo/client";
import { Observable } from "rxjs";
import type { ConcordWsClient } from "../ws/create-concord-ws-client.js";

/**
 * A terminating Apollo link that runs operations through a {@link ConcordWsClient}: unlike
 * Apollo's GraphQLWsLink, its subscriptions resume from their last cursor after a reconnect.
 * A close event or GraphQL errors sent as a graphql-ws `error` reach Apollo as an Error.
 */
export class ConcordWsLink extends ApolloLink {
  constructor(private readonly ws: ConcordWsClient) {
    super();
  }

  override request(operation: ApolloLink.Operation): Observable<ApolloLink.Result> {
    return new Observable<ApolloLink.Result>((observer) =>
      this.ws.subscribe(
        { query: operation.query, variables: operation.variables, operationName: operation.operationName, extensions: operation.extensions },
        {
          next: (result) => observer.next(result as ApolloLink.Result),
          complete: () => observer.complete(),
          error: (error) => observer.error(error instanceof Error ? error : new Error(describe(error))),
        },
      ),
    );
  }
}

/** A readable message for what graphql-ws hands to `error`: a close event or an array of GraphQL errors. */
function describe(error: unknown): string {
  if (error && typeof error === "object" && "code" in error) return `Socket closed with ${String((error as { code: unknown }).code)} ${String((error as { reason?: unknown }).reason ?? "")}`.trim();
  if (Array.isArray(error)) return error.map((e: { message?: string }) => e.message ?? String(e)).join("; ");
  return String(error);
}
