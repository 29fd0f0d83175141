import { badInput } from "../errors.js";
import { parseSnowflake } from "../ids/snowflake.js";

/**
 * Input checks shared by the use cases. Each throws BAD_USER_INPUT naming the field, before
 * anything is written.
 */

/** A snowflake id given as a string. */
export function parseId(field: string, value: string): bigint {
  const id = parseSnowflake(value);
  if (id === null) throw badInput(field, `${field} must be an id (a string of digits), got ${JSON.stringify(value.slice(0, 40))}.`);
  return id;
}

/** Rejects control characters other than newline and tab, which break rendering and logs. */
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f]/;

/**
 * Trims and checks a length in Unicode code points (so "é" or "😀" count once; an emoji built
 * from several code points, like a family or a skin tone, counts several), and control characters.
 */
export function text(field: string, value: string, min: number, max: number, options: { multiline?: boolean } = {}): string {
  const trimmed = value.trim();
  const length = [...trimmed].length;
  if (length < min || length > max) {
    throw badInput(field, min === max ? `${field} must be ${min} characters.` : `${field} must be ${min} to ${max} characters after trimming (got ${length}).`);
  }
  if (CONTROL.test(trimmed) || (!options.multiline && /[\r\n\t]/.test(trimmed))) {
    throw badInput(field, `${field} must not contain control characters${options.multiline ? "" : " or line breaks"}.`);
  }
  return trimmed;
}

/** An integer within bounds, when given. */
export function optionalInt(field: string, value: number | null | undefined, min: number, max: number): number | null {
  if (value === null || value === undefined) return null;
  if (!Number.isInteger(value) || value < min || value > max) throw badInput(field, `${field} must be an integer from ${min} to ${max}.`);
  return value;
}
