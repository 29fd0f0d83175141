import { badInput } from "../errors.js";
import { parseSnowflake } from "../ids/snowflake.js";
import { bidiProblem, codePointName, findControl, findInvisibleInName, hasVisibleCharacter, unstorableReason } from "../text/unicode.js";

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

/**
 * Refuses what no store can keep as given: NUL, and lone surrogates, which would be replaced on
 * the way to the database (two different strings stored as one). Every text input passes here
 * through {@link text}; passwords get the same check in auth/password-policy.ts. Returns the
 * value unchanged.
 */
export function storable(field: string, value: string): string {
  const reason = unstorableReason(value);
  if (reason !== null) throw badInput(field, `${field} ${reason}.`);
  return value;
}

/**
 * Text people write (message content, nonces): trims, checks a length in Unicode code points
 * (so "é" or "😀" count once; an emoji built from several code points, like a family or a skin
 * tone, counts several), and refuses NUL and lone surrogates, control characters (C0 but tab and
 * newline when `multiline`, DEL, C1), bidi formatting that could leak or spoof (see
 * {@link bidiProblem}) and text with no visible character (only spaces or zero-width characters).
 */
export function text(field: string, value: string, min: number, max: number, options: { multiline?: boolean } = {}): string {
  storable(field, value);
  const trimmed = value.trim();
  const length = [...trimmed].length;
  if (length < min || length > max) {
    throw badInput(field, min === max ? `${field} must be ${min} characters.` : `${field} must be ${min} to ${max} characters after trimming (got ${length}).`);
  }
  const control = findControl(trimmed, options.multiline ?? false);
  if (control !== null) {
    throw badInput(field, `${field} must not contain control characters${options.multiline ? "" : " or line breaks"} (found ${codePointName(control)}).`);
  }
  const bidi = bidiProblem(trimmed);
  if (bidi !== null) throw badInput(field, `${field} ${bidi}.`);
  if (length > 0 && !hasVisibleCharacter(trimmed)) {
    throw badInput(field, `${field} must contain a visible character, not only spaces or invisible characters.`);
  }
  return trimmed;
}

/**
 * A name shown in lists and mentions (guild, channel, username): {@link text} on one line, and no
 * invisible or direction-changing characters at all (zero-width characters, bidi marks and
 * controls...), so two names that look the same are the same; emoji sequences stay allowed.
 */
export function nameText(field: string, value: string, min: number, max: number): string {
  const trimmed = text(field, value, min, max);
  const invisible = findInvisibleInName(trimmed);
  if (invisible !== null) {
    throw badInput(field, `${field} must not contain invisible or text-direction characters (found ${codePointName(invisible)}).`);
  }
  return trimmed;
}

/** An integer within bounds, when given. */
export function optionalInt(field: string, value: number | null | undefined, min: number, max: number): number | null {
  if (value === null || value === undefined) return null;
  if (!Number.isInteger(value) || value < min || value > max) throw badInput(field, `${field} must be an integer from ${min} to ${max}.`);
  return value;
}
