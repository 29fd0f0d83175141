import { MAX_SNOWFLAKE } from "../ids/snowflake.js";

/** Most mentions kept per message; more are ignored (and not notified), as a spam bound. */
export const MAX_MENTIONS = 50;

/**
 * User ids mentioned as `<@id>` or `<@!id>` (Discord's nickname form), in order of first
 * appearance, without duplicates.
 */
export function parseMentions(content: string): bigint[] {
  const ids: bigint[] = [];
  // Most messages mention no one: no regex iterator for them (this runs on every send).
  if (!content.includes("<@")) return ids;
  const seen = new Set<string>();
  for (const match of content.matchAll(/<@!?(\d{1,19})>/g)) {
    const id = BigInt(match[1]!);
    // Compare numbers, not digit strings: <@5> and <@005> are the same user.
    const key = id.toString();
    if (seen.has(key)) continue;
    seen.add(key);
    ids.push(id);
    if (ids.length === MAX_MENTIONS) break;
  }
  return ids;
}

/** What a message's text asks to mention broadly, before anyone checks who may. */
export interface BroadMentionText {
  /** `@everyone` appears as a word. */
  everyone: boolean;
  /** `@here` appears as a word. */
  here: boolean;
  /** Role ids mentioned as `<@&id>`, in order of first appearance, without duplicates, at most {@link MAX_MENTIONS}. */
  roleIds: bigint[];
}

const ROLE_MENTION = /<@&(\d{1,19})>/g;
/** `@everyone` / `@here` as words: not inside an address such as `a@everyone.example` or `@@here`. */
const EVERYONE_OR_HERE = /(?<![\w@])@(everyone|here)(?!\w)/g;

/**
 * `@everyone`, `@here` and `<@&roleId>` role mentions in a message's text. Pure parsing: whether
 * they notify (the author's MENTION_EVERYONE, the role existing and being mentionable) is the
 * caller's to decide.
 */
export function parseBroadMentions(content: string): BroadMentionText {
  const roleIds: bigint[] = [];
  const seen = new Set<bigint>();
  for (const match of content.matchAll(ROLE_MENTION)) {
    const id = BigInt(match[1]!);
    if (id > MAX_SNOWFLAKE || seen.has(id)) continue;
    seen.add(id);
    roleIds.push(id);
    if (roleIds.length === MAX_MENTIONS) break;
  }
  let everyone = false;
  let here = false;
  for (const match of content.matchAll(EVERYONE_OR_HERE)) {
    if (match[1] === "everyone") everyone = true;
    else here = true;
  }
  return { everyone, here, roleIds };
}

/**
 * False when the text cannot mention anyone broadly, so nothing broad was indexed for it: a
 * cheap test that spares a store read (or write) for almost every message.
 */
export function mayMentionBroadly(content: string): boolean {
  return content.includes("<@&") || content.includes("@everyone") || content.includes("@here");
}
