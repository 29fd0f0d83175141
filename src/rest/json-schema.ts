import {
  getNamedType,
  isEnumType,
  isInputObjectType,
  isListType,
  isNonNullType,
  isObjectType,
  isScalarType,
  Kind,
  type FragmentDefinitionNode,
  type GraphQLInputType,
  type GraphQLOutputType,
  type GraphQLSchema,
  type SelectionSetNode,
} from "graphql";

/** A JSON Schema (2020-12, as OpenAPI 3.1 embeds it). */
export type JsonSchema = Record<string, unknown>;

/** Where a named fragment's schema is referenced from (OpenAPI components). */
export const schemaRef = (name: string): JsonSchema => ({ $ref: `#/components/schemas/${name}` });

/** JSON Schemas of GraphQL's scalars as they travel in JSON; a custom scalar without an entry is left open. */
const SCALARS: Record<string, JsonSchema> = {
  ID: { type: "string", description: "A snowflake id, as a string." },
  String: { type: "string" },
  Int: { type: "integer" },
  Float: { type: "number" },
  Boolean: { type: "boolean" },
  DateTime: { type: "string", format: "date-time" },
};

const nullable = (schema: JsonSchema): JsonSchema => ({ anyOf: [schema, { type: "null" }] });

function leafSchema(type: GraphQLOutputType | GraphQLInputType): JsonSchema {
  const named = getNamedType(type);
  if (isEnumType(named)) return { type: "string", enum: named.getValues().map((v) => v.name) };
  if (isScalarType(named)) return { ...(SCALARS[named.name] ?? {}) };
  throw new Error(`${named.name} is not a leaf type`);
}

/** A description that is only present when the schema has one. */
const described = (schema: JsonSchema, description: string | null | undefined): JsonSchema => (description ? { ...schema, description } : schema);

/**
 * The JSON Schema of what `selectionSet` selects on `type`: the shape of that part of a GraphQL
 * answer. A selection that is one fragment spread alone becomes a reference to the fragment's
 * schema (see {@link fragmentSchemas}), so shared shapes such as Message are named once.
 */
export function selectionSchema(schema: GraphQLSchema, type: GraphQLOutputType, selectionSet: SelectionSetNode | undefined, fragments: ReadonlyMap<string, FragmentDefinitionNode>): JsonSchema {
  const value = valueSchema(schema, type, selectionSet, fragments);
  return isNonNullType(type) ? value : nullable(value);
}

/** Like {@link selectionSchema}, for a value known not to be null (REST answers a null with 404). */
export function valueSchema(schema: GraphQLSchema, type: GraphQLOutputType, selectionSet: SelectionSetNode | undefined, fragments: ReadonlyMap<string, FragmentDefinitionNode>): JsonSchema {
  if (isNonNullType(type)) return valueSchema(schema, type.ofType, selectionSet, fragments);
  if (isListType(type)) return { type: "array", items: selectionSchema(schema, type.ofType, selectionSet, fragments) };
  if (!isObjectType(type) || !selectionSet) return leafSchema(type);
  const [only] = selectionSet.selections;
  if (selectionSet.selections.length === 1 && only?.kind === Kind.FRAGMENT_SPREAD) return schemaRef(only.name.value);
  const properties: Record<string, JsonSchema> = {};
  const required: string[] = [];
  for (const selection of selectionSet.selections) {
    if (selection.kind !== Kind.FIELD) throw new Error(`REST documents select plain fields (or one fragment spread): ${type.name}`);
    const field = type.getFields()[selection.name.value];
    if (!field) throw new Error(`${type.name} has no field ${selection.name.value}`);
    const key = selection.alias?.value ?? selection.name.value;
    properties[key] = described(selectionSchema(schema, field.type, selection.selectionSet, fragments), field.description);
    required.push(key);
  }
  return described({ type: "object", properties, required, additionalProperties: false }, type.description);
}

/** The schema of each named fragment of the documents, by fragment name (the OpenAPI component it becomes). */
export function fragmentSchemas(schema: GraphQLSchema, fragments: ReadonlyMap<string, FragmentDefinitionNode>): Record<string, JsonSchema> {
  const out: Record<string, JsonSchema> = {};
  for (const [name, fragment] of fragments) {
    const type = schema.getType(fragment.typeCondition.name.value);
    if (!isObjectType(type)) throw new Error(`fragment ${name} is not on an object type`);
    out[name] = valueSchema(schema, type, fragment.selectionSet, fragments);
  }
  return out;
}

/** The JSON Schema of a GraphQL input type (an input object's fields, less `omit`). */
export function inputSchema(type: GraphQLInputType, omit: readonly string[] = []): JsonSchema {
  if (isNonNullType(type)) return inputSchema(type.ofType, omit);
  if (isListType(type)) return { type: "array", items: inputSchema(type.ofType) };
  if (!isInputObjectType(type)) return leafSchema(type);
  const properties: Record<string, JsonSchema> = {};
  const required: string[] = [];
  for (const field of Object.values(type.getFields())) {
    if (omit.includes(field.name)) continue;
    const schema = inputSchema(field.type);
    properties[field.name] = described(isNonNullType(field.type) ? schema : nullable(schema), field.description);
    if (isNonNullType(field.type) && field.defaultValue === undefined) required.push(field.name);
  }
  return described({ type: "object", properties, required, additionalProperties: false }, type.description);
}
