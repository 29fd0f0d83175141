import { badInput } from "../errors.js";
import { codePointName, findControl, unstorableReason } from "../text/unicode.js";
import { comparablePassword, isCommonPassword } from "./common-passwords.js";

/** Shortest new password, in code points (NIST SP 800-63B asks for at least 8; OWASP suggests more). */
export const MIN_PASSWORD_LENGTH = 10;
/** Longest password: bounds what one hash costs. */
export const MAX_PASSWORD_LENGTH = 256;

/**
 * What any password must be, new or given at login: text that can be hashed exactly (no NUL, no
 * lone surrogate, which would be hashed as U+FFFD and so match other passwords) and at most
 * {@link MAX_PASSWORD_LENGTH} code points. Throws BAD_USER_INPUT naming `field`.
 */
export function checkPasswordText(password: string, field = "password"): string {
  const unstorable = unstorableReason(password);
  if (unstorable !== null) throw badInput(field, `${field} ${unstorable}.`);
  const length = [...password].length;
  if (length > MAX_PASSWORD_LENGTH) throw badInput(field, `${field} must be at most ${MAX_PASSWORD_LENGTH} characters (got ${length}).`);
  return password;
}

/**
 * The policy for a new password (register, and changePassword): {@link checkPasswordText}, no
 * control characters, {@link MIN_PASSWORD_LENGTH} to {@link MAX_PASSWORD_LENGTH} code points,
 * not the username (ignoring case and surrounding spaces), and not one of the common passwords
 * shipped in common-passwords.txt (ignoring case). Throws BAD_USER_INPUT naming `field` with the
 * reason; returns the password unchanged (not trimmed: spaces are part of a password).
 *
 * Login does not apply it: accounts made under an older policy must still sign in.
 */
export function checkNewPassword(password: string, username: string, field = "password"): string {
  checkPasswordText(password, field);
  const length = [...password].length;
  if (length < MIN_PASSWORD_LENGTH) {
    throw badInput(field, `${field} must be at least ${MIN_PASSWORD_LENGTH} characters (got ${length}); a few words together make a strong one that is easy to remember.`);
  }
  // Tab, newline and other controls cannot be typed into a password field: they are a mistake.
  const control = findControl(password, false);
  if (control !== null) throw badInput(field, `${field} must not contain control characters or line breaks (found ${codePointName(control)}).`);
  if (comparablePassword(password) === comparablePassword(username)) {
    throw badInput(field, `${field} must not be your username.`);
  }
  if (isCommonPassword(password)) {
    throw badInput(field, `${field} is one of the most common passwords, which attackers try first; choose another.`);
  }
  return password;
}
