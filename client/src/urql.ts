/** @concord/client/urql: the urql exchanges for Concord (see client/README.md). */
export { concordSubscriptionExchange, createConcordExchanges } from "./urql/concord-exchanges.js";
