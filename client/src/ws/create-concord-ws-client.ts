import { type Client, type ClientOptions, createClient, type FormattedExecutionResult, type Sink } from "graphql-ws";
import { jitteredBackoff, type RetryDelay } from "./backoff.js";
import { type CloseEventLike, isCloseEvent, isRetryableClose } from "./close-codes.js";
import { type OperationRequest, payloadFor, takesAfter } from "./operation-payload.js";
import { subscribeResumable } from "./resumable-subscription.js";

/** A token, or a function that returns the current one (called at every (re)connect). */
export type TokenSource = string | null | undefined | (() => string | null | undefined | Promise<string | null | undefined>);

export interface ConcordWsClientOptions {
  /** `ws(s)://<host>/graphql`. */
  url: string;
  /** The bearer token (a person's session or a bot's), sent as `authorization` in connection_init; none: anonymous. */
  token?: TokenSource;
  /** A name for the app, shown in the user's `sessions` list as `clientHint` (connection_init `client`). */
  clientName?: string;
  /** Connect at the first operation and close when none is left (default), or at once. */
  lazy?: boolean;
  /** Reconnect attempts in a row before subscriptions error (default: unlimited). */
  maxRetries?: number;
  /** Delay before reconnect attempt n (default: {@link jitteredBackoff}, 0.5 s doubling up to 30 s, jittered). */
  retryDelay?: RetryDelay;
  /**
   * Send generated documents by their trusted-document hash instead of their text: needed when
   * the server runs PERSISTED_DOCUMENTS=only with this package's persisted-documents.json.
   */
  trustedDocuments?: boolean;
  /** Called when the socket closed for good: 4401 (the token is not valid any more: sign in again), or another fatal code. */
  onFatalClose?: (event: CloseEventLike) => void;
  /** The WebSocket class where there is no global one (Node 20: the `ws` package). */
  webSocketImpl?: unknown;
  /** Any other graphql-ws client option (keepAlive, on, ...), passed through. */
  graphqlWs?: Partial<ClientOptions>;
}

export interface ConcordWsClient {
  /** The graphql-ws client underneath (for `on(...)` listeners; Apollo's GraphQLWsLink takes it too, without resume). */
  readonly client: Client;
  /**
   * Runs an operation over the socket. A subscription with an `$after` variable (channelEvents,
   * guildEvents, userEvents) resumes across reconnects from the last cursor it received, without
   * loss or duplication; each (re)subscription starts with a `Subscribed` event. Returns the
   * function that stops it.
   */
  subscribe<TData, TVariables>(request: OperationRequest<TData, TVariables>, sink: Sink<FormattedExecutionResult<TData, unknown>>): () => void;
  /** Closes the socket and ends every operation. */
  dispose(): Promise<void>;
}

/** The connection_init payload Concord reads (docs/LIVE.md §1.1). */
async function connectionParams(token: TokenSource, clientName: string | undefined): Promise<Record<string, unknown>> {
  const value = typeof token === "function" ? await token() : token;
  return { ...(value ? { authorization: `Bearer ${value}` } : {}), ...(clientName ? { client: clientName } : {}) };
}

/**
 * A graphql-ws client for Concord: authenticates in connection_init, connects lazily, reconnects
 * with jittered exponential back-off unless the close code says it cannot help (4401 after a
 * revoked or expired token, 1009, protocol errors: see docs/LIVE.md §7), and resumes the live
 * streams from their last cursor (see {@link ConcordWsClient.subscribe}).
 */
export function createConcordWsClient(options: ConcordWsClientOptions): ConcordWsClient {
  const retryDelay = options.retryDelay ?? jitteredBackoff();
  const maxRetries = options.maxRetries ?? Number.POSITIVE_INFINITY;
  const extra = options.graphqlWs ?? {};
  const client = createClient({
    ...extra,
    url: options.url,
    lazy: options.lazy ?? true,
    webSocketImpl: options.webSocketImpl,
    connectionParams: () => connectionParams(options.token, options.clientName),
    retryAttempts: maxRetries,
    retryWait: (retries) => new Promise((resolve) => setTimeout(resolve, retryDelay(retries))),
    shouldRetry: (event) => isCloseEvent(event) && isRetryableClose(event.code),
    on: {
      ...extra.on,
      closed: (event) => {
        extra.on?.closed?.(event);
        if (isCloseEvent(event) && !isRetryableClose(event.code)) options.onFatalClose?.(event);
      },
    },
  });
  return {
    client,
    subscribe(request, sink) {
      const payload = payloadFor(request, options.trustedDocuments ?? false);
      return subscribeResumable(client, payload, sink, takesAfter(request.query), { retryDelay, maxRetries });
    },
    dispose: async () => {
      await client.dispose();
    },
  };
}
