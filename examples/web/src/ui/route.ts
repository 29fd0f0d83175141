/**
 * The client's URLs, below the base it is served at (`/app/`): `channels/<guildId>/<channelId>`,
 * as Discord's. The server answers every such path with index.html, so a reload or a shared
 * link opens the same channel.
 */
const BASE = import.meta.env.BASE_URL;

/** The guild and channel a path names (either may be absent). */
export function parseRoute(pathname: string): { guildId: string | null; channelId: string | null } {
  const rest = pathname.startsWith(BASE) ? pathname.slice(BASE.length) : "";
  const match = /^channels\/(\d{1,19})(?:\/(\d{1,19}))?\/?$/.exec(rest);
  return { guildId: match?.[1] ?? null, channelId: match?.[2] ?? null };
}

/** The path of a channel, of a guild (no channel), or of the home panel (neither). */
export function channelPath(guildId: string | null, channelId: string | null): string {
  if (guildId === null) return BASE;
  return `${BASE}channels/${guildId}${channelId === null ? "" : `/${channelId}`}`;
}
