import { badInput } from "../errors.js";

/**
 * Relay connections whose cursor is a stable key of each record (a user id, an invite code, an
 * entry id): the answer's shape from a page of records. Members page both ways; bans, invites
 * and the audit log forward only (`first`/`after`).
 */

/** A page of records whose cursor is `cursorOf(record)`, with the page's flags as the use case computed them. */
export function connectionPage<T>(items: readonly T[], flags: { hasPreviousPage: boolean; hasNextPage: boolean }, cursorOf: (item: T) => string) {
  return {
    edges: items.map((node) => ({ cursor: cursorOf(node), node })),
    pageInfo: {
      hasPreviousPage: flags.hasPreviousPage,
      hasNextPage: flags.hasNextPage,
      startCursor: items.length > 0 ? cursorOf(items[0]!) : null,
      endCursor: items.length > 0 ? cursorOf(items[items.length - 1]!) : null,
    },
  };
}

/** A forward-only page: an `after` cursor implies records before it. */
export function forwardPage<T>(items: readonly T[], hasNextPage: boolean, after: unknown, cursorOf: (item: T) => string) {
  return connectionPage(items, { hasNextPage, hasPreviousPage: after != null }, cursorOf);
}

/** BAD_USER_INPUT for `last`/`before` on a forward-only connection (`what` pages forward only). */
export function forwardOnly(args: { last?: number | null; before?: string | null }, what: string): void {
  if (args.last != null || args.before != null) throw badInput(args.last != null ? "last" : "before", `${what} page forward only: use first and after.`);
}
