import type { RequestContext } from "../context.js";
import { badInput, forbidden } from "../errors.js";
import type { UserRecord } from "../stores/account-store.js";
import type { ChannelRecord } from "../stores/channel-store.js";
import { requireViewer } from "./access.js";
import { directMessageRefused, directMessageVerdict } from "./direct-message-rules.js";
import { announceDirectMessage } from "./direct-messages.js";
import { capReached } from "./resource-caps.js";
import { charge, perUser } from "./rate-limit.js";
import { optionalInt, parseId } from "./validate.js";

/**
 * Opens a DM with one user (idempotent: the same channel every time, from either side) or
 * creates a group DM with 2 or more others, up to MAX_GROUP_DM_MEMBERS people with the viewer
 * (a new one each time, as in Discord).
 *
 * Who may be reached (see direct-message-rules.ts): a one-to-one DM, new or existing, needs the
 * other's `allowDirectMessagesFrom` to allow the viewer and no block either way (FORBIDDEN,
 * without saying which); a group DM may only include the viewer's friends. Opening a DM the
 * viewer closed puts it back on their list.
 */
export async function openDirectMessage(ctx: RequestContext, userIdStrings: readonly string[]): Promise<ChannelRecord> {
  const viewer = requireViewer(ctx);
  // A group DM is a new channel every time (and a new audience for presence): a daily budget too.
  await charge(ctx, perUser(ctx, "dm.open"), ...(new Set(userIdStrings).size > 1 ? [perUser(ctx, "dm.group.daily")] : []));
  const others = [...new Set(userIdStrings.map((id, i) => parseId(`userIds[${i}]`, id)))].filter((id) => id !== viewer.id);
  if (others.length === 0) throw badInput("userIds", "userIds must name at least one user other than you.");
  const maxMembers = ctx.services.settings.caps.groupDmMembers;
  if (others.length > maxMembers - 1) throw capReached("groupDmMembers", maxMembers);
  const users = await ctx.loaders.user.loadMany(others);
  const missing = others.filter((_, i) => users[i] === null || users[i] instanceof Error);
  if (missing.length > 0) throw badInput("userIds", `No user with id ${missing.join(", ")}.`);

  const { services } = ctx;
  if (others.length === 1) {
    const other = users[0] as UserRecord;
    const standing = await services.relationships.directMessageStanding(viewer.id, { otherId: other.id });
    const verdict = standing ? directMessageVerdict(standing) : "refused";
    if (verdict !== "allowed") throw directMessageRefused(verdict, other, "open");
    const { channel, created } = await services.channels.openDirectMessage(services.newId(), viewer.id, other.id);
    if (created) await announceDirectMessage(ctx, channel, [viewer.id, other.id]);
    else if (await services.directMessages.setHidden(channel.id, viewer.id, false)) await announceDirectMessage(ctx, channel, [viewer.id]);
    return channel;
  }
  const pairs = await services.relationships.between(viewer.id, others);
  const strangers = others.filter((id) => pairs.get(id)?.mine?.kind !== "FRIEND").map((id) => (users[others.indexOf(id)] as UserRecord).username);
  if (strangers.length > 0) throw forbidden(`A group DM may only include your friends; not your friends: ${strangers.join(", ")}.`);
  const recipients = [viewer.id, ...others];
  const channel = await services.channels.createGroupDirectMessage({ id: services.newId(), ownerId: viewer.id, userIds: recipients });
  await announceDirectMessage(ctx, channel, recipients);
  return channel;
}

/** Most DMs listed at once by `User.directMessages` (and its default). */
export const MAX_DIRECT_MESSAGES_PAGE = 100;

/**
 * The viewer's DMs and group DMs, newest first (by creation), `first` of them (1 to 100, default
 * 100) older than `before` when given; FORBIDDEN for anyone else's. Every DM ever opened stays
 * listed unless the viewer closed it (until its next message), so the list pages rather than
 * growing without bound.
 */
export function listMyDirectMessages(
  ctx: RequestContext,
  user: UserRecord,
  args: { first?: number | null; before?: bigint | null } = {},
): Promise<ChannelRecord[]> {
  if (requireViewer(ctx).id !== user.id) throw forbidden("You can only list your own direct messages.");
  const limit = optionalInt("first", args.first, 1, MAX_DIRECT_MESSAGES_PAGE) ?? MAX_DIRECT_MESSAGES_PAGE;
  return ctx.services.directMessages.listOpen(user.id, { beforeChannelId: args.before ?? null, limit });
}
