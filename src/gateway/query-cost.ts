import {
  getNamedType,
  getNullableType,
  getOperationAST,
  isAbstractType,
  isCompositeType,
  isListType,
  Kind,
  type DirectiveNode,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLField,
  type GraphQLObjectType,
  type GraphQLSchema,
  type SelectionSetNode,
  type ValueNode,
} from "graphql";
import type { ResourceCaps } from "../resolvers/resource-caps.js";
import { COST_READ, COST_SIZE, type CostSize } from "../schema/cost.js";

/**
 * Size given to a list field that declares none (schema/cost.ts): the largest page anywhere. A
 * unit test keeps every list of the schema declared, so this only guards against a slip.
 */
export const UNDECLARED_LIST_SIZE = 100;

/** What an operation costs, and what to tell a client whose operation costs too much. */
export interface CostReport {
  cost: number;
  /** The list that weighs most in all (counting its nesting), to say what to shrink; null if none. */
  heaviest: { path: string; items: number; each: number; total: number } | null;
  /** False when no variable was read: the same cost then holds for any variables. */
  dependsOnVariables: boolean;
}

/**
 * The cost of one operation of `document` (the one named `operationName`, or its only one), with
 * the request's raw `variables` and the configured caps. The unit is one object in the answer:
 * - a leaf is free; an object is 1; a field declaring `costRead` adds that per parent item;
 * - a list multiplies its items' cost by its size: page arguments (`first`/`last`, literal or
 *   variable, else the argument's or variable's default, clamped to the declared max), its cap,
 *   or the length of an id list; a connection passes its page size to its edges, and the
 *   connection and edge wrappers themselves are free (their nodes count);
 * - for a union or interface, the costliest member type counts (each item is one of them);
 * - `@skip`/`@include` are honoured; introspection (`__schema`, `__type`) is free.
 * Fields are collected as GraphQL executes them: selections under one response key merge into
 * one field, and a fragment counts once per selection however often it is spread, so the walk
 * stays linear in the document (no blow-up from fragments spreading fragments twice). An
 * unknown operation costs 0 (execution reports it).
 */
export function operationCost(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | null | undefined,
  variables: Readonly<Record<string, unknown>> | null | undefined,
  caps: Readonly<ResourceCaps>,
): CostReport {
  const operation = getOperationAST(document, operationName);
  const root = operation && schema.getRootType(operation.operation);
  if (!operation || !root) return { cost: 0, heaviest: null, dependsOnVariables: false };
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }
  const defaults = new Map<string, ValueNode>();
  for (const definition of operation.variableDefinitions ?? []) {
    if (definition.defaultValue) defaults.set(definition.variable.name.value, definition.defaultValue);
  }
  const walker = new CostWalker(schema, fragments, variables ?? {}, defaults, caps);
  const cost = walker.selections([operation.selectionSet], root, 1, "", undefined);
  return { cost, heaviest: walker.heaviest, dependsOnVariables: walker.dependsOnVariables };
}

class CostWalker {
  dependsOnVariables = false;
  heaviest: CostReport["heaviest"] = null;

  constructor(
    private readonly schema: GraphQLSchema,
    private readonly fragments: ReadonlyMap<string, FragmentDefinitionNode>,
    private readonly variables: Readonly<Record<string, unknown>>,
    private readonly variableDefaults: ReadonlyMap<string, ValueNode>,
    private readonly caps: Readonly<ResourceCaps>,
  ) {}

  /**
   * The cost of one item of `type` with these selections (those of one field, merged). `scale` is
   * how many such items the answer may hold (for reporting); `pageSize` is set inside a
   * connection: its lists are pages.
   */
  selections(sets: readonly SelectionSetNode[], type: GraphQLCompositeType, scale: number, path: string, pageSize: number | undefined): number {
    if (!isAbstractType(type)) return this.objectSelections(sets, type, scale, path, pageSize);
    let costliest = 0;
    for (const member of this.schema.getPossibleTypes(type)) {
      costliest = Math.max(costliest, this.objectSelections(sets, member, scale, path, pageSize));
    }
    return costliest;
  }

  private objectSelections(sets: readonly SelectionSetNode[], type: GraphQLObjectType, scale: number, path: string, pageSize: number | undefined): number {
    const fields = new Map<string, FieldNode[]>();
    const visited = new Set<string>();
    for (const set of sets) this.collect(set, type, fields, visited);
    let total = 0;
    for (const [key, nodes] of fields) total += this.field(key, nodes, type, scale, path, pageSize);
    return total;
  }

  /**
   * GraphQL's field collection for an object of `type`: fields by response key, through inline
   * fragments and fragment spreads, each named fragment at most once (`visited`).
   */
  private collect(set: SelectionSetNode, type: GraphQLObjectType, fields: Map<string, FieldNode[]>, visited: Set<string>): void {
    for (const selection of set.selections) {
      if (!this.included(selection.directives)) continue;
      if (selection.kind === Kind.FIELD) {
        const key = selection.alias?.value ?? selection.name.value;
        const same = fields.get(key);
        if (same) same.push(selection);
        else fields.set(key, [selection]);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        if (this.applies(selection.typeCondition?.name.value, type)) this.collect(selection.selectionSet, type, fields, visited);
      } else {
        const name = selection.name.value;
        const fragment = this.fragments.get(name);
        if (visited.has(name) || !fragment || !this.applies(fragment.typeCondition.name.value, type)) continue;
        visited.add(name);
        this.collect(fragment.selectionSet, type, fields, visited);
      }
    }
  }

  private applies(condition: string | undefined, type: GraphQLObjectType): boolean {
    if (condition === undefined || condition === type.name) return true;
    const named = this.schema.getType(condition);
    return named !== undefined && isAbstractType(named) && this.schema.isSubType(named, type);
  }

  /** The cost, per parent item, of the field under response key `key` (`nodes`: its merged selections). */
  private field(key: string, nodes: readonly FieldNode[], parent: GraphQLObjectType, scale: number, parentPath: string, pageSize: number | undefined): number {
    const node = nodes[0]!;
    const name = node.name.value;
    if (name.startsWith("__")) return 0;
    const def = parent.getFields()[name];
    if (!def) return 0;
    const path = parentPath === "" ? key : `${parentPath}.${key}`;
    const read = Number(def.extensions?.[COST_READ] ?? 0);
    const named = getNamedType(def.type);
    const sets = nodes.flatMap((n) => (n.selectionSet ? [n.selectionSet] : []));
    if (!isCompositeType(named) || sets.length === 0) return read;
    const size = def.extensions?.[COST_SIZE] as CostSize | undefined;
    const list = isListType(getNullableType(def.type));
    if (size?.kind === "page" && !list) {
      // A connection: the page size applies to its lists (edges); the wrapper itself is free.
      return read + this.selections(sets, named, scale, path, this.size(size, node, def));
    }
    if (!list) return read + 1 + this.selections(sets, named, scale, path, undefined);
    const edges = size === undefined && pageSize !== undefined;
    const items = size ? this.size(size, node, def) : (pageSize ?? UNDECLARED_LIST_SIZE);
    const each = (edges ? 0 : 1) + this.selections(sets, named, scale * items, path, undefined);
    // Edges are reported under their connection's name: that is where the page size is chosen.
    this.note(edges ? parentPath : path, items, each, scale);
    return read + items * each;
  }

  private note(path: string, items: number, each: number, scale: number) {
    const total = scale * items * each;
    if (!this.heaviest || total > this.heaviest.total) this.heaviest = { path, items, each, total };
  }

  private size(size: CostSize, node: FieldNode, def: GraphQLField<unknown, unknown>): number {
    switch (size.kind) {
      case "cap":
        return typeof size.cap === "number" ? size.cap : this.caps[size.cap];
      case "ids": {
        const ids = this.argument(node, def, size.arg);
        // A single value is coerced to a list of one; anything unreadable counts as the most.
        if (Array.isArray(ids)) return Math.min(size.max, ids.length);
        return ids === null ? 0 : ids === undefined ? size.max : 1;
      }
      case "page": {
        const first = this.argument(node, def, "first");
        const last = this.argument(node, def, "last");
        const given = [first, last].filter((v) => v !== null && v !== undefined);
        if (given.length === 0) return size.default;
        // Values the resolver will refuse (non-integers, over the max) cost the most, so the
        // client gets the resolver's clearer BAD_USER_INPUT rather than a cost error.
        return Math.max(...given.map((v) => (Number.isInteger(v) ? Math.min(size.max, Math.max(0, v as number)) : size.max)));
      }
    }
  }

  /** An argument's value: literal, variable (its value, else its default), or the argument's default. */
  private argument(node: FieldNode, def: GraphQLField<unknown, unknown>, name: string): unknown {
    const argument = node.arguments?.find((a) => a.name.value === name);
    if (!argument) return def.args.find((a) => a.name === name)?.defaultValue;
    return this.value(argument.value);
  }

  private value(node: ValueNode): unknown {
    switch (node.kind) {
      case Kind.VARIABLE: {
        this.dependsOnVariables = true;
        const name = node.name.value;
        if (this.variables[name] !== undefined) return this.variables[name];
        const fallback = this.variableDefaults.get(name);
        return fallback ? this.value(fallback) : undefined;
      }
      case Kind.INT:
        return Number.parseInt(node.value, 10);
      case Kind.FLOAT:
        return Number.parseFloat(node.value);
      case Kind.NULL:
        return null;
      case Kind.LIST:
        return node.values.map((v) => this.value(v));
      case Kind.BOOLEAN:
        return node.value;
      case Kind.STRING:
      case Kind.ENUM:
        return node.value;
      case Kind.OBJECT:
        return {};
    }
  }

  /** False for a selection that `@skip(if: true)` or `@include(if: false)` leaves out. */
  private included(directives: readonly DirectiveNode[] | undefined): boolean {
    for (const directive of directives ?? []) {
      const name = directive.name.value;
      if (name !== "skip" && name !== "include") continue;
      const condition = directive.arguments?.find((a) => a.name.value === "if");
      const value = condition ? this.value(condition.value) : undefined;
      if (name === "skip" && value === true) return false;
      if (name === "include" && value === false) return false;
    }
    return true;
  }
}
