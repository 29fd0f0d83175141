import { badInput } from "../errors.js";
import { optionalInt } from "./validate.js";

/**
 * Relay's connection arguments over a list ordered by an id, both directions (the Relay cursor
 * connections spec, "Pagination algorithm"): `after`/`before` bound the window, `first` takes
 * from its start, `last` from its end. Stores read `limit + 1` rows from that end, so whether
 * more exist in the direction walked is exact; against it, a cursor implies more (the item it
 * names), as the spec allows.
 */

/** The arguments, cursors parsed. */
export interface WindowArgs {
  first?: number | null;
  last?: number | null;
  after?: bigint | null;
  before?: bigint | null;
}

/** One page to read: between `after` and `before` (exclusive), `limit` items from the `from` end. */
export interface PageWindow {
  from: "first" | "last";
  limit: number;
  after: bigint | null;
  before: bigint | null;
}

/**
 * The window the arguments ask for: `last`, or `before` without `first`, reads backward from the
 * end; otherwise forward from the start. `first` and `last` together are BAD_USER_INPUT (Relay
 * discourages them; nobody needs both), as is a size outside 1 to `size.max`.
 */
export function pageWindow(args: WindowArgs, size: { default: number; max: number }): PageWindow {
  if (args.first != null && args.last != null) throw badInput("last", "Give first or last, not both.");
  const from = args.last != null || (args.before != null && args.first == null) ? "last" : "first";
  const limit = optionalInt(from, from === "last" ? args.last : args.first, 1, size.max) ?? size.default;
  return { from, limit, after: args.after ?? null, before: args.before ?? null };
}

/** A page in list order from the rows read for `window` (up to `limit + 1`, from its end), with Relay's flags. */
export function windowPage<T>(window: PageWindow, rows: readonly T[]): { items: T[]; hasPreviousPage: boolean; hasNextPage: boolean } {
  const more = rows.length > window.limit;
  const items = rows.slice(0, window.limit);
  if (window.from === "first") return { items, hasPreviousPage: window.after !== null, hasNextPage: more || window.before !== null };
  return { items: items.reverse(), hasPreviousPage: more || window.after !== null, hasNextPage: window.before !== null };
}
