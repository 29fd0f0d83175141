import { parseId } from "../resolvers/validate.js";

/** Decodes an optional ID argument (null and undefined pass through as undefined). */
export function optionalId(field: string, value: string | null | undefined): bigint | undefined {
  return value === null || value === undefined ? undefined : parseId(field, value);
}

export { parseId };
