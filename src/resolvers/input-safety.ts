import { Kind, type DocumentNode, type SelectionSetNode, type ValueNode, type ArgumentNode, type DirectiveNode } from "graphql";
import { findUnstorable, unstorableReason } from "../text/unicode.js";

/**
 * A safety net under the per-field validation (validate.ts): before an operation executes, the
 * transport looks for a string no store can keep as given, anywhere in the operation, and refuses
 * the whole operation with BAD_USER_INPUT naming it. Per-field rules still run for everything else.
 */

/** A string that cannot be stored as given, where it was found, and what to tell the client. */
export interface UnsafeString {
  /**
   * Where: `variables.input.nonce`, `variables.ids[2]` for variables; for literals in the
   * document, the field path and the argument path in GraphQL's own syntax,
   * `login(input.username)`, `channel.messages(around)`, `me@include(if)`; `$name` for a
   * variable's default value.
   */
  path: string;
  problem: "NUL" | "LONE_SURROGATE";
  /** A sentence for the client, naming the path. */
  message: string;
}

/** Where a string was found, relative to the node scanned; built only when something is found. */
type Hit = { suffix: string; problem: UnsafeString["problem"]; reason: string };

function checkString(value: string): Hit | null {
  const at = findUnstorable(value);
  if (at === -1) return null;
  return { suffix: "", problem: value.charCodeAt(at) === 0 ? "NUL" : "LONE_SURROGATE", reason: unstorableReason(value)! };
}

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;
const keySuffix = (key: string | number) => (typeof key === "number" ? `[${key}]` : IDENTIFIER.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`);

/** Nesting beyond which variables are walked without recursion (real inputs are a few levels deep). */
const MAX_RECURSION = 64;
/** Said by {@link scanNested} when it gave up at {@link MAX_RECURSION}. */
const TOO_DEEP: Hit = { suffix: "", problem: "NUL", reason: "" };

/**
 * The first string inside a variables value (nested objects and lists included) that holds NUL
 * or a lone surrogate. Recursive and allocation-free for ordinary inputs; hostile nesting is
 * walked by {@link scanDeep}, which cannot overflow the stack.
 */
function scanVariables(root: unknown): Hit | null {
  const hit = scanNested(root, 0);
  return hit === TOO_DEEP ? scanDeep(root) : hit;
}

function scanNested(value: unknown, depth: number): Hit | null {
  if (typeof value === "string") return checkString(value);
  if (value === null || typeof value !== "object") return null;
  if (depth === MAX_RECURSION) return TOO_DEEP;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const hit = scanNested(value[i], depth + 1);
      if (hit) return hit === TOO_DEEP ? hit : { ...hit, suffix: `[${i}]${hit.suffix}` };
    }
    return null;
  }
  for (const key in value) {
    const hit = scanNested((value as Record<string, unknown>)[key], depth + 1);
    if (hit) return hit === TOO_DEEP ? hit : { ...hit, suffix: `${keySuffix(key)}${hit.suffix}` };
  }
  return null;
}

/** Breadth first over an explicit list of containers, keeping parent links for the path. */
function scanDeep(root: unknown): Hit | null {
  if (root === null || typeof root !== "object") return scanNested(root, 0);
  const containers: object[] = [root];
  const parents: number[] = [-1];
  const keys: (string | number)[] = [""];
  const pathTo = (index: number, key: string | number) => {
    let suffix = keySuffix(key);
    for (let i = index; i > 0; i = parents[i]!) suffix = keySuffix(keys[i]!) + suffix;
    return suffix;
  };
  for (let i = 0; i < containers.length; i++) {
    const container = containers[i]!;
    const entries: [string | number, unknown][] = Array.isArray(container) ? container.map((child, j) => [j, child]) : Object.entries(container);
    for (const [key, child] of entries) {
      if (typeof child === "string") {
        const hit = checkString(child);
        if (hit) return { ...hit, suffix: pathTo(i, key) };
      } else if (child !== null && typeof child === "object") {
        containers.push(child);
        parents.push(i);
        keys.push(key);
      }
    }
  }
  return null;
}

/** A literal value in the document (its depth is bounded by what the parser accepted). */
function scanValueNode(node: ValueNode): Hit | null {
  switch (node.kind) {
    case Kind.STRING:
      return checkString(node.value);
    case Kind.LIST:
      for (let i = 0; i < node.values.length; i++) {
        const hit = scanValueNode(node.values[i]!);
        if (hit) return { ...hit, suffix: `[${i}]${hit.suffix}` };
      }
      return null;
    case Kind.OBJECT:
      for (const field of node.fields) {
        const hit = scanValueNode(field.value);
        if (hit) return { ...hit, suffix: `.${field.name.value}${hit.suffix}` };
      }
      return null;
    default:
      return null;
  }
}

function scanArguments(args: readonly ArgumentNode[] | undefined): Hit | null {
  for (const arg of args ?? []) {
    const hit = scanValueNode(arg.value);
    if (hit) return { ...hit, suffix: `(${arg.name.value}${hit.suffix})` };
  }
  return null;
}

function scanDirectives(directives: readonly DirectiveNode[] | undefined): Hit | null {
  for (const directive of directives ?? []) {
    const hit = scanArguments(directive.arguments);
    if (hit) return { ...hit, suffix: `@${directive.name.value}${hit.suffix}` };
  }
  return null;
}

function scanSelections(selectionSet: SelectionSetNode | undefined): Hit | null {
  for (const selection of selectionSet?.selections ?? []) {
    if (selection.kind === Kind.FIELD) {
      const key = selection.alias?.value ?? selection.name.value;
      const hit = scanArguments(selection.arguments) ?? scanDirectives(selection.directives);
      if (hit) return { ...hit, suffix: `${key}${hit.suffix}` };
      const inner = scanSelections(selection.selectionSet);
      if (inner) return { ...inner, suffix: `${key}.${inner.suffix}` };
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      const hit = scanDirectives(selection.directives) ?? scanSelections(selection.selectionSet);
      if (hit) return hit;
    } else {
      const hit = scanDirectives(selection.directives);
      if (hit) return { ...hit, suffix: `...${selection.name.value}${hit.suffix}` };
    }
  }
  return null;
}

/**
 * The first string of an operation that contains NUL or a lone surrogate, or null: first the
 * variables (nested input objects and lists included), then the literals of the document
 * (arguments, directive arguments, variable defaults, fragments). Cheap enough for every
 * operation: one pass over each string's code units, no allocation unless something is found.
 */
export function findUnsafeString(document: DocumentNode, variables: Readonly<Record<string, unknown>> | null | undefined): UnsafeString | null {
  const found = (variables ? located("variables", scanVariables(variables)) : null) ?? scanDocument(document);
  return found && { path: found.path, problem: found.hit.problem, message: `${found.path} ${found.hit.reason}.` };
}

const located = (prefix: string, hit: Hit | null) => hit && { path: `${prefix}${hit.suffix}`, hit };

function scanDocument(document: DocumentNode): { path: string; hit: Hit } | null {
  for (const definition of document.definitions) {
    if (definition.kind === Kind.OPERATION_DEFINITION) {
      for (const variable of definition.variableDefinitions ?? []) {
        const found = variable.defaultValue ? located(`$${variable.variable.name.value}`, scanValueNode(variable.defaultValue)) : null;
        if (found) return found;
      }
      const found = located("", scanDirectives(definition.directives) ?? scanSelections(definition.selectionSet));
      if (found) return found;
    } else if (definition.kind === Kind.FRAGMENT_DEFINITION) {
      const own = located(`...${definition.name.value}`, scanDirectives(definition.directives));
      const found = own ?? located(`...${definition.name.value}.`, scanSelections(definition.selectionSet));
      if (found) return found;
    }
  }
  return null;
}
