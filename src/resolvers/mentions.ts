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
    const raw = match[1]!;
    if (seen.has(raw)) continue;
    seen.add(raw);
    ids.push(BigInt(raw));
    if (ids.length === MAX_MENTIONS) break;
  }
  return ids;
}
