import { Kind, type GraphQLResolveInfo, type SelectionSetNode } from "graphql";

/**
 * Whether the operation asks, under the field being resolved, for the field path `path` (e.g.
 * `["edges", "node", "author"]` under a connection): through aliases, inline fragments and named
 * fragments. `@skip` and `@include` are not evaluated, so a directive that drops the field still
 * answers true: callers use this to fetch ahead what would otherwise be fetched per item, and a
 * fetch nobody reads costs time, never a different answer.
 */
export function selectsPath(info: GraphQLResolveInfo, path: readonly string[]): boolean {
  return info.fieldNodes.some((node) => node.selectionSet !== undefined && selects(info, node.selectionSet, path, 0));
}

function selects(info: GraphQLResolveInfo, set: SelectionSetNode, path: readonly string[], depth: number): boolean {
  for (const selection of set.selections) {
    if (selection.kind === Kind.FIELD) {
      if (selection.name.value !== path[depth]) continue;
      if (depth === path.length - 1) return true;
      if (selection.selectionSet && selects(info, selection.selectionSet, path, depth + 1)) return true;
    } else {
      const fragment = selection.kind === Kind.INLINE_FRAGMENT ? selection : info.fragments[selection.name.value];
      if (fragment && selects(info, fragment.selectionSet, path, depth)) return true;
    }
  }
  return false;
}
