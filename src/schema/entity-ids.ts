/**
 * Ids of objects that have no snowflake of their own but a natural key of several parts (a guild
 * member is a guild and a user): the parts joined with ":", e.g. `"1234:5678"`. Normalized caches
 * (Apollo, urql) key objects by `__typename` and `id`; an id built from the key is the same
 * wherever the object appears (a query, a mutation's answer, a live event), so an update to one
 * is an update to all. Each type's description states its parts and their order, so clients may
 * build an id themselves (to read or write the cache) without asking the server.
 */

/** The id of an object keyed by `parts` (snowflakes or names), in the order its type documents. */
export function compositeId(...parts: readonly (bigint | string)[]): string {
  return parts.join(":");
}
