import { cacheExchange, type Exchange, fetchExchange, subscriptionExchange } from "@urql/core";
import type { ConcordWsClient } from "../ws/create-concord-ws-client.js";

/**
 * urql's subscriptionExchange wired to a {@link ConcordWsClient}: subscriptions go over the
 * socket and resume from their last cursor after a reconnect (the document urql sends, with its
 * added `__typename`s, as text; trusted documents are not covered on this path).
 */
export function concordSubscriptionExchange(ws: ConcordWsClient): Exchange {
  return subscriptionExchange({
    forwardSubscription: (request, operation) => ({
      subscribe: (sink) => ({
        unsubscribe: ws.subscribe(
          { query: request.query ?? operation.query, variables: request.variables as Record<string, unknown> | undefined, operationName: request.operationName, extensions: request.extensions },
          // urql's ExecutionResult types `extensions` more narrowly than graphql-ws; the values are the same.
          sink as Parameters<ConcordWsClient["subscribe"]>[1],
        ),
      }),
    }),
  });
}

/**
 * The exchanges of an urql Client for Concord: urql's document cache, HTTP for queries and
 * mutations (send the token with the Client's `fetchOptions`), and the socket for subscriptions.
 * For a normalized cache put `@urql/exchange-graphcache` in place of `cacheExchange`, with
 * `possibleTypes` from this package.
 */
export function createConcordExchanges(ws: ConcordWsClient): Exchange[] {
  return [cacheExchange, fetchExchange, concordSubscriptionExchange(ws)];
}
