/**
 * @concord/client: typed documents, cache configuration and a resuming WebSocket client for
 * Concord's GraphQL API, with Apollo Client's link and type policies. Without Apollo, import
 * `@concord/client/core` (and `@concord/client/urql`). See client/README.md.
 */
export * from "./core.js";
export { ConcordWsLink } from "./apollo/concord-ws-link.js";
export { type ConcordLinkOptions, createConcordLink } from "./apollo/create-concord-link.js";
export { createTypePolicies, typePolicies } from "./apollo/type-policies.js";
