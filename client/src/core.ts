/**
 * @concord/client/core: everything that needs no GraphQL client library — typed documents, cache
 * metadata, trusted-document ids and the resuming WebSocket client. The main entry adds Apollo's.
 */
export * from "./generated/graphql.js";
export { graphql } from "./generated/gql.js";
export { connectionFields, entityTypes, possibleTypes, subscriptionFields, valueTypes } from "./generated/cache-metadata.js";
export { documentIdOf, persistedQueryExtension, sha256HexOf } from "./trusted-documents.js";
export { jitteredBackoff, type RetryDelay } from "./ws/backoff.js";
export { CONCORD_CLOSE_CODES, type CloseEventLike, isRetryableClose } from "./ws/close-codes.js";
export { type ConcordWsClient, type ConcordWsClientOptions, createConcordWsClient, type TokenSource } from "./ws/create-concord-ws-client.js";
export type { OperationRequest } from "./ws/operation-payload.js";
