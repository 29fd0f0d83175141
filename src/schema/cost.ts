import type { CapName } from "../resolvers/resource-caps.js";

/**
 * Cost declarations, kept next to the fields they price as field `extensions` (read by
 * gateway/query-cost.ts). The unit is one object in the answer. A list multiplies its items'
 * cost by how many it may hold: its page size (from the arguments, literal or variable), its
 * cap (from configuration, so extensions name the cap, not its value), or its id list's length.
 * Leaves are free; a read that runs once per parent item, not batched, adds its weight.
 */

/** Extension key: how many items a list or connection field may return. */
export const COST_SIZE = "costSize";
/** Extension key: the weight of a store read the field makes once per parent item. */
export const COST_READ = "costRead";

/** How many items a list or connection may hold, as the cost model counts it. */
export type CostSize =
  /** Sized by `first`/`last` (the larger if both), `default` when neither, never above `max`. */
  | { kind: "page"; default: number; max: number }
  /** A list without paging, bounded by a cap (a configured one by name, or a fixed number). */
  | { kind: "cap"; cap: CapName | number }
  /** One item per element of the list argument `arg`, at most `max` (the use case refuses more). */
  | { kind: "ids"; arg: string; max: number };

/**
 * What one unbatched store read weighs against objects in the answer (each one 1): a read is a
 * round trip to Postgres, Cassandra or Redis, worth serialising about ten small objects. Reads
 * made through a DataLoader (users, guilds, channels, messages by id) are one batch per level
 * whatever the list sizes, so they are not counted.
 */
export const STORE_READ = 10;

/** A connection, or a plain list with a `first` argument, sized by its page arguments. */
export const pageCost = (size: { default: number; max: number }) => ({ [COST_SIZE]: { kind: "page", ...size } satisfies CostSize });

/** An unpaginated list bounded by a cap: counted as full. */
export const listCost = (cap: CapName | number) => ({ [COST_SIZE]: { kind: "cap", cap } satisfies CostSize });

/** A list with one item per id given in argument `arg` (at most `max`). */
export const idListCost = (arg: string, max: number) => ({ [COST_SIZE]: { kind: "ids", arg, max } satisfies CostSize });

/** A field that reads the store once per parent item, outside any DataLoader batch. */
export const perItemRead = (weight: number = STORE_READ) => ({ [COST_READ]: weight });
