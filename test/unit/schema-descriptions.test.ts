import { isEnumType, isInputObjectType, isInterfaceType, isIntrospectionType, isObjectType, isSpecifiedScalarType, type GraphQLSchema } from "graphql";
import { describe, expect, it } from "vitest";
import { schema } from "../../src/schema/index.js";

/**
 * Issue #12: every type, field, argument, input field and enum value of the schema says what it
 * is (and, where it may be null, when), so GraphiQL and generated clients document themselves.
 * Walks the schema the server runs, not the committed SDL, so a field added without a
 * description fails here before codegen. (The schema linter, schema-lint.test.ts, checks the
 * same on schema.graphql along with its other rules.)
 */

/** Every schema element that should carry a description, as `Type`, `Type.field`, `Type.field(arg)` or `Enum.VALUE`, with its description. */
function describedElements(schema: GraphQLSchema): [string, string | null | undefined][] {
  const elements: [string, string | null | undefined][] = [];
  for (const type of Object.values(schema.getTypeMap())) {
    if (isIntrospectionType(type) || isSpecifiedScalarType(type)) continue;
    elements.push([type.name, type.description]);
    if (isObjectType(type) || isInterfaceType(type)) {
      for (const field of Object.values(type.getFields())) {
        elements.push([`${type.name}.${field.name}`, field.description]);
        for (const arg of field.args) elements.push([`${type.name}.${field.name}(${arg.name})`, arg.description]);
      }
    } else if (isInputObjectType(type)) {
      for (const field of Object.values(type.getFields())) elements.push([`${type.name}.${field.name}`, field.description]);
    } else if (isEnumType(type)) {
      for (const value of type.getValues()) elements.push([`${type.name}.${value.name}`, value.description]);
    }
  }
  for (const directive of schema.getDirectives()) {
    if (["include", "skip", "deprecated", "specifiedBy", "oneOf"].includes(directive.name)) continue;
    elements.push([`@${directive.name}`, directive.description]);
  }
  return elements;
}

describe("schema descriptions", () => {
  it("describes every type, field, argument, input field and enum value", () => {
    const elements = describedElements(schema);
    expect(elements.length).toBeGreaterThan(600);
    const missing = elements.filter(([, description]) => !description?.trim()).map(([name]) => name);
    expect(missing, "schema elements without a description").toEqual([]);
  });
});
