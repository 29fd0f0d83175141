import type { RequestContext } from "../context.js";
import { badInput } from "../errors.js";
import type { UserRecord } from "../stores/account-store.js";
import type { GuildRecord } from "../stores/guild-store.js";
import type { PresenceStatus } from "../stores/presence-store.js";
import { requireViewer, visibleGuild } from "./access.js";
import { publicStatus } from "./presence-announcer.js";
import { charge, perUser } from "./rate-limit.js";
import { optionalInt } from "./validate.js";

const CHOSEN = new Set<PresenceStatus>(["ONLINE", "IDLE", "DND", "INVISIBLE"]);

/**
 * Sets the viewer's status on all their sessions (and future ones: it is kept while they are
 * offline). Returns their presence now: OFFLINE if no session is connected.
 */
export async function setPresence(ctx: RequestContext, status: PresenceStatus): Promise<PresenceStatus> {
  const viewer = requireViewer(ctx);
  await charge(ctx, perUser(ctx, "presence"));
  if (!CHOSEN.has(status)) throw badInput("status", "OFFLINE is what you are without a connection; choose INVISIBLE to appear offline while connected.");
  const { presence, announcer, now } = ctx.services;
  const { online, previous } = await presence.setStatus(viewer.id, status as Exclude<PresenceStatus, "OFFLINE">, now());
  if (online && previous !== status) {
    await announcer.announce(viewer, status, { othersChanged: publicStatus(previous) !== publicStatus(status) });
  }
  return online ? status : "OFFLINE";
}

/** Presence of up to 100 users as the viewer may see it: OFFLINE for strangers (no friendship, no shared guild) and across a block. */
export async function presenceOf(ctx: RequestContext, userIds: readonly bigint[]): Promise<{ user: UserRecord; status: PresenceStatus }[]> {
  requireViewer(ctx);
  if (userIds.length > 100) throw badInput("userIds", "Ask for at most 100 users at once.");
  const unique = [...new Set(userIds)];
  const [users, statuses] = await Promise.all([ctx.loaders.user.loadMany(unique), ctx.loaders.presence.loadMany(unique)]);
  const result: { user: UserRecord; status: PresenceStatus }[] = [];
  unique.forEach((_, i) => {
    const user = users[i];
    const status = statuses[i];
    if (user && !(user instanceof Error) && typeof status === "string") result.push({ user, status });
  });
  return result;
}

/** Online (and not invisible) members of a guild the viewer belongs to. */
export async function guildOnlineCount(ctx: RequestContext, guild: GuildRecord): Promise<number> {
  await visibleGuild(ctx, guild.id);
  return ctx.services.presence.onlineCount(guild.id);
}

/** The most recently active online members of a guild, newest activity first (at most 100). */
export async function guildActiveMembers(
  ctx: RequestContext,
  guild: GuildRecord,
  args: { first?: number | null },
): Promise<{ guildId: bigint; user: UserRecord; status: PresenceStatus; lastActiveAt: Date }[]> {
  const first = optionalInt("first", args.first, 1, 100) ?? 20;
  await visibleGuild(ctx, guild.id);
  const active = await ctx.services.presence.activeMembers(guild.id, first);
  const ids = active.map((a) => a.userId);
  const [users, statuses] = await Promise.all([ctx.loaders.user.loadMany(ids), ctx.loaders.presence.loadMany(ids)]);
  return active.flatMap((a, i) => {
    const user = users[i];
    const status = statuses[i];
    if (!user || user instanceof Error || typeof status !== "string" || status === "OFFLINE") return [];
    return [{ guildId: guild.id, user, status, lastActiveAt: a.lastActiveAt }];
  });
}
