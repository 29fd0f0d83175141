import type { TypePolicies } from "@apollo/client";
import { relayStylePagination } from "@apollo/client/utilities";
import { connectionFields, subscriptionFields, valueTypes } from "../generated/cache-metadata.js";

/**
 * Apollo InMemoryCache type policies, built from the schema's generated cache metadata (so they
 * follow the schema):
 * - every Relay connection field (`Channel.messages`, `Guild.members`, ...) merges its pages
 *   (`relayStylePagination`), one list per value of its non-paging arguments (`around` for
 *   messages, the filters of the audit log);
 * - each subscription field holds only the latest event: a new one replaces the last, whatever
 *   its type (events have no id, and merging two events of a union would mix their fields);
 * - plain values without an id (`PageInfo`, `AuthPayload`, ...) merge into the one they replace.
 * Every other type has an `id`, which Apollo keys by default.
 */
export function createTypePolicies(): TypePolicies {
  const policies: TypePolicies = {};
  for (const [typeName, fields] of Object.entries(connectionFields)) {
    policies[typeName] = { fields: Object.fromEntries(Object.entries(fields).map(([field, keyArgs]) => [field, relayStylePagination(keyArgs.length > 0 ? [...keyArgs] : false)])) };
  }
  policies.Subscription = { fields: Object.fromEntries(subscriptionFields.map((field) => [field, { merge: false }])) };
  for (const typeName of valueTypes) policies[typeName] = { merge: true };
  return policies;
}

/** The type policies for Concord's schema ({@link createTypePolicies}): `new InMemoryCache({ possibleTypes, typePolicies })`. */
export const typePolicies: TypePolicies = createTypePolicies();
