import { badInput } from "../errors.js";

/**
 * Forward-only Relay connections (members, bans, invites, the audit log): pages go by `first`
 * and `after` only, the cursor being a stable key of each record.
 */

/** A forward-only page of records whose cursor is `cursorOf(record)`. */
export function forwardPage<T>(items: T[], hasNextPage: boolean, after: unknown, cursorOf: (item: T) => string) {
  return {
    edges: items.map((node) => ({ cursor: cursorOf(node), node })),
    pageInfo: {
      hasNextPage,
      hasPreviousPage: after != null,
      startCursor: items[0] ? cursorOf(items[0]) : null,
      endCursor: items.length > 0 ? cursorOf(items[items.length - 1]!) : null,
    },
  };
}

/** BAD_USER_INPUT for `last`/`before` on a forward-only connection (`what` pages forward only). */
export function forwardOnly(args: { last?: number | null; before?: string | null }, what: string): void {
  if (args.last != null || args.before != null) throw badInput(args.last != null ? "last" : "before", `${what} page forward only: use first and after.`);
}
