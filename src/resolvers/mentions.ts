/** Most mentions kept per message; more are ignored (and not notified), as a spam bound. */
export const MAX_MENTIONS = 50;

/**
 * User ids mentioned as `<@id>` or `<@!id>` (Discord's nickname form), in order of first
 * appearance, without duplicates.
 */
export function parseMentions(content: string): bigint[] {
  const ids: bigint[] = [];
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
