/**
 * @concord/client: typed documents, cache configuration and a resuming WebSocket client for
 * Concord's GraphQL API. See client/README.md.
 */
export * from "./generated/graphql.js";
export { graphql } from "./generated/gql.js";
export { connectionFields, entityTypes, possibleTypes, subscriptionFields, valueTypes } from "./generated/cache-metadata.js";
export { documentIdOf, persistedQueryExtension, sha256HexOf } from "./trusted-documents.js";
export { jitteredBackoff, type RetryDelay } from "./ws/backoff.js";
export { CONCORD_CLOSE_CODES, type CloseEventLike, isRetryableClose } from "./ws/close-codes.js";
export { type ConcordWsClient, type ConcordWsClientOptions, createConcordWsClient, type TokenSource } from "./ws/create-concord-ws-client.js";
export type { OperationRequest } from "./ws/operation-payload.js";
export { ConcordWsLink } from "./apollo/concord-ws-link.js";
export { type ConcordLinkOptions, createConcordLink } from "./apollo/create-concord-link.js";
export { createTypePolicies, typePolicies } from "./apollo/type-policies.js";
