/**
 * What makes a string safe to store and to show, as pure predicates. resolvers/validate.ts turns
 * them into BAD_USER_INPUT errors; resolvers/input-safety.ts applies the first one to whole
 * operations. Regular expressions are built once, here.
 */

/** Native (V8 11.3+, Node 20), several times faster than any loop or regex here; typed by hand as the lib is ES2023. */
const isWellFormed = (String.prototype as { isWellFormed?: (this: string) => boolean }).isWellFormed;

/**
 * Index of the first UTF-16 code unit that cannot be stored as given, or -1: NUL (Postgres
 * refuses it in text) or a lone surrogate (UTF-8 has no encoding for it; drivers replace it with
 * U+FFFD, so two different strings would be stored as one). It runs on every string of every
 * operation: native checks first, the loop only to find where the problem is.
 */
export function findUnstorable(value: string): number {
  if (isWellFormed && value.indexOf("\0") === -1 && isWellFormed.call(value)) return -1;
  for (let i = 0; i < value.length; i++) {
    const unit = value.charCodeAt(i);
    if (unit < 0xd800) {
      if (unit === 0) return i;
    } else if (unit <= 0xdbff) {
      const next = value.charCodeAt(i + 1); // NaN past the end
      if (!(next >= 0xdc00 && next <= 0xdfff)) return i;
      i++;
    } else if (unit <= 0xdfff) {
      return i;
    }
  }
  return -1;
}

/**
 * Why a string cannot be stored as given ({@link findUnstorable}), worded to follow the name of
 * the input ("nonce contains a lone surrogate..."); null when it can be.
 */
export function unstorableReason(value: string): string | null {
  const at = findUnstorable(value);
  if (at === -1) return null;
  const unit = value.charCodeAt(at);
  if (unit === 0) return "must not contain NUL characters (U+0000)";
  return `contains a lone surrogate (${codePointName(unit)} at position ${at}), which is not valid Unicode; send well-formed text`;
}

/** "U+202E": how messages name a character without printing it. */
export function codePointName(codePoint: number): string {
  return `U+${codePoint.toString(16).toUpperCase().padStart(4, "0")}`;
}

/** C0 controls but tab and newline, DEL, and C1 controls (U+0080–U+009F, e.g. NEL U+0085). */
const CONTROL_MULTILINE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;
/** The same plus tab, newline and the Unicode line and paragraph separators. */
const CONTROL_SINGLE_LINE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

/** The first control character (or line break, unless `multiline`), as a code point; null if none. */
export function findControl(value: string, multiline: boolean): number | null {
  const found = (multiline ? CONTROL_MULTILINE : CONTROL_SINGLE_LINE).exec(value);
  return found ? found[0].charCodeAt(0) : null;
}

const BIDI_FORMATTING = /[\u202a-\u202e\u2066-\u2069]/;
const LRE = 0x202a, RLE = 0x202b, PDF = 0x202c, LRO = 0x202d, RLO = 0x202e;
const LRI = 0x2066, RLI = 0x2067, FSI = 0x2068, PDI = 0x2069;
const BIDI_NAMES: Record<number, string> = {
  [LRE]: "left-to-right embedding",
  [RLE]: "right-to-left embedding",
  [PDF]: "pop directional formatting",
  [LRO]: "left-to-right override",
  [RLO]: "right-to-left override",
  [LRI]: "left-to-right isolate",
  [RLI]: "right-to-left isolate",
  [FSI]: "first strong isolate",
  [PDI]: "pop directional isolate",
};
const bidiName = (codePoint: number) => `${codePointName(codePoint)} (${BIDI_NAMES[codePoint]})`;

/**
 * Why the text's bidirectional formatting could leak or spoof, or null when it is harmless. The
 * rule, for text people write (message content):
 * - overrides (U+202D, U+202E) are refused: they reverse the letters after them, which is how
 *   "invoice" U+202E "fdp.exe" shows as "invoiceexe.pdf", and right-to-left writing never needs them;
 * - embeddings (U+202A, U+202B) must be closed by U+202C and isolates (U+2066–U+2068) by U+2069,
 *   properly nested, on the same line, so no direction change reaches the next line or the
 *   interface around the message; a closer with nothing to close is refused too.
 * Marks (U+200E, U+200F, U+061C) carry no state and are always allowed.
 */
export function bidiProblem(value: string): string | null {
  if (!BIDI_FORMATTING.test(value)) return null;
  const open: number[] = [];
  for (let i = 0; i <= value.length; i++) {
    const unit = i < value.length ? value.charCodeAt(i) : 0x0a;
    switch (unit) {
      case LRO:
      case RLO:
        return `must not contain ${bidiName(unit)}: it reverses the text after it`;
      case LRE:
      case RLE:
      case LRI:
      case RLI:
      case FSI:
        open.push(unit);
        break;
      case PDF:
      case PDI: {
        const top = open.at(-1);
        if (top === undefined) return `has ${bidiName(unit)} with no ${unit === PDI ? "isolate" : "embedding"} to close`;
        if ((unit === PDI) !== (top === LRI || top === RLI || top === FSI)) return `must close ${bidiName(top)} before ${bidiName(unit)}`;
        open.pop();
        break;
      }
      case 0x0a:
      case 0x2028:
      case 0x2029: {
        const unclosed = open.at(-1);
        if (unclosed !== undefined) {
          return `must close ${bidiName(unclosed)} with ${bidiName(unclosed === LRE || unclosed === RLE ? PDF : PDI)} on the same line`;
        }
      }
    }
  }
  return null;
}

/**
 * A character that shows something: a letter, digit, punctuation, symbol (emoji included) or
 * private-use glyph that is not default-ignorable (zero-width spaces and joiners, U+FEFF,
 * U+2060, variation selectors, Hangul fillers...) and not the blank braille pattern U+2800.
 * Spaces and combining marks alone show nothing.
 */
const VISIBLE = /(?![\p{Default_Ignorable_Code_Point}\u2800])[\p{L}\p{N}\p{P}\p{S}\p{Co}]/u;

/** True when the text shows at least one character (see {@link VISIBLE}). */
export function hasVisibleCharacter(value: string): boolean {
  return VISIBLE.test(value);
}

const IGNORABLE = /\p{Default_Ignorable_Code_Point}/u;
/** Text or emoji presentation selectors right after a character they can apply to. */
const PRESENTATION_SELECTOR = /(?<=[^\p{Default_Ignorable_Code_Point}\s])[\uFE0E\uFE0F]/gu;
/** Emoji joined with U+200D (man + laptop, heart + fire), skin tones allowed; selectors are removed before. */
const EMOJI_ZWJ_SEQUENCE = /\p{Extended_Pictographic}\p{Emoji_Modifier}?(?:\u200D\p{Extended_Pictographic}\p{Emoji_Modifier}?)+/gu;
/** Subdivision flags (Scotland, Wales...): black flag, tag letters, cancel tag. */
const EMOJI_TAG_SEQUENCE = /\u{1F3F4}[\u{E0020}-\u{E007E}]+\u{E007F}/gu;

/**
 * The first invisible character of a name (guild, channel, username), as a code point; null if
 * none. Invisible means default-ignorable: zero-width spaces and joiners, bidi marks, embeddings,
 * overrides and isolates, U+2060–U+206F, U+FEFF, Hangul fillers, tag characters... They let two
 * names that look the same differ, or make a name look empty. Emoji need some of them, so these
 * stay allowed: U+FE0E/U+FE0F after a visible character, U+200D inside an emoji sequence, and
 * tags inside a subdivision flag.
 */
export function findInvisibleInName(value: string): number | null {
  if (!IGNORABLE.test(value)) return null;
  const rest = value.replace(PRESENTATION_SELECTOR, "").replace(EMOJI_TAG_SEQUENCE, "").replace(EMOJI_ZWJ_SEQUENCE, "");
  const found = IGNORABLE.exec(rest);
  return found ? found[0].codePointAt(0)! : null;
}
