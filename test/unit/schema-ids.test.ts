import { getNullableType, isIntrospectionType, isNonNullType, isObjectType, type GraphQLObjectType } from "graphql";
import { describe, expect, it } from "vitest";
import { schema } from "../../src/schema/index.js";

/**
 * Issue #12: normalized caches (Apollo, urql) key objects by `__typename` and `id`. Every object
 * type has an `id: ID!`, except those that are not entities a cache keeps apart: the root types,
 * live events (LiveEvent: a place in a stream, not a thing), pages of a connection, and the few
 * listed here, whose descriptions say so and name what keys them instead.
 */

const NOT_ENTITIES = ["AuthPayload", "AuditLogChange"];

const objectTypes = Object.values(schema.getTypeMap()).filter((t): t is GraphQLObjectType => isObjectType(t) && !isIntrospectionType(t));
const roots = new Set([schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()].map((t) => t?.name));

function isStructural(type: GraphQLObjectType): boolean {
  return roots.has(type.name) || type.getInterfaces().some((i) => i.name === "LiveEvent") || /(Connection|ConnectionEdge)$/.test(type.name) || type.name === "PageInfo";
}

describe("entity ids", () => {
  it("gives every entity-like object type an `id: ID!`", () => {
    const missing = objectTypes.filter((t) => !isStructural(t) && !NOT_ENTITIES.includes(t.name) && !("id" in t.getFields())).map((t) => t.name);
    expect(missing, "object types without an id (add one built from the natural key, or list them in NOT_ENTITIES with a reason in their description)").toEqual([]);
    const wrongType = objectTypes.flatMap((t) => {
      const id = t.getFields().id;
      return id && !(isNonNullType(id.type) && String(getNullableType(id.type)) === "ID") ? [`${t.name}.id: ${String(id.type)}`] : [];
    });
    expect(wrongType).toEqual([]);
  });

  it("says in the description of each type without an id why, and what keys it", () => {
    for (const name of NOT_ENTITIES) expect(schema.getType(name)?.description, name).toMatch(/no `id`/i);
    expect(schema.getType("LiveEvent")?.description).toMatch(/no `id`/i);
    expect(schema.getType("PageInfo")?.description).toMatch(/no `id`/i);
  });

  it("documents how each composite id is built, in the type's description", () => {
    const composite = ["ReadState", "GuildMember", "ActiveMember", "TypingIndicator", "PermissionOverwrite", "Relationship", "Ban"];
    for (const name of composite) expect(schema.getType(name)?.description, name).toMatch(/`id` is `<[^`]+>:<[^`]+>`/);
  });
});
