import type { RequestContext } from "../context.js";
import { badInput, conflict, ConcordError, forbidden, limitExceeded, notFound } from "../errors.js";
import type { UserRecord } from "../stores/account-store.js";
import type { RelationshipKind, RelationshipLimits, RelationshipWrite } from "../stores/relationship-store.js";
import { requireViewer } from "./access.js";
import { announceRelationshipWrite } from "./relationship-effects.js";
import { CAP_SETTINGS, capReached } from "./resource-caps.js";
import { charge, perUser } from "./rate-limit.js";
import { optionalInt } from "./validate.js";

/** A relationship as its user sees it: the other user, the kind, since when. */
export interface RelationshipView {
  /** Whose relationship it is (the viewer). */
  ownerId: bigint;
  /** The other user. */
  user: UserRecord;
  kind: RelationshipKind;
  since: Date;
}

/** Most relationships listed at once by `User.relationships` (and its default): a whole friend list at the default cap. */
export const MAX_RELATIONSHIPS_PAGE = 1_000;

function limitsOf(ctx: RequestContext): RelationshipLimits {
  const { caps } = ctx.services.settings;
  return { maxFriends: caps.friendsPerUser, maxPending: caps.pendingFriendRequests, maxBlocks: caps.blocksPerUser };
}

/** The user a relationship call names: NOT_FOUND if there is none, BAD_USER_INPUT if it is the viewer. */
async function otherUser(ctx: RequestContext, userId: bigint): Promise<{ viewer: UserRecord; other: UserRecord }> {
  const viewer = requireViewer(ctx);
  if (userId === viewer.id) throw badInput("userId", "userId must be someone other than you.");
  const other = await ctx.loaders.user.load(userId);
  if (!other) throw notFound("User", String(userId));
  return { viewer, other };
}

/** Bots have no friends on Discord either: their reach is the guilds they are in. */
function refuseBots(viewer: UserRecord, other: UserRecord): void {
  if (viewer.bot) throw forbidden("Bots cannot have friends.");
  if (other.bot) throw forbidden(`${other.username} is a bot; bots cannot have friends.`);
}

/**
 * The error for a refused write, in words for the viewer. Across a block, only the blocker is
 * told about it; the blocked user hears that the other does not accept their request, which
 * is also what a stranger would infer from a declined one.
 */
function refusal(write: Extract<RelationshipWrite, { status: "refused" }>, other: UserRecord): ConcordError {
  const name = other.username;
  switch (write.reason) {
    case "blocked":
      return write.before.mine?.kind === "BLOCKED"
        ? forbidden(`You blocked ${name}; unblock them first.`)
        : forbidden(`${name} is not accepting friend requests from you.`);
    case "already-friends":
      return conflict(`You are already friends with ${name}.`);
    case "no-request":
      return notFound(`Friend request between you and ${name}`);
    case "not-friends":
      return notFound(`Friendship with ${name}`);
    case "not-blocked":
      return notFound(`Block of ${name}`);
    case "unknown-user":
      return notFound("User", String(other.id));
    case "limit":
      if (write.whose === "mine") return capReached(write.cap, write.limit);
      return limitExceeded(
        write.cap,
        write.limit,
        CAP_SETTINGS[write.cap],
        write.cap === "friendsPerUser"
          ? `${name} has reached the limit of ${write.limit.toLocaleString("en-US")} friends.`
          : `${name} has too many friend requests waiting for an answer; try again later.`,
      );
  }
}

/** Runs a relationship write, refuses with a coded error, announces what changed, and returns the viewer's side. */
async function apply(ctx: RequestContext, viewer: UserRecord, other: UserRecord, write: RelationshipWrite): Promise<RelationshipView | null> {
  if (write.status === "refused") throw refusal(write, other);
  await announceRelationshipWrite(ctx, viewer, other, write);
  return write.after.mine ? { ownerId: viewer.id, user: other, ...write.after.mine } : null;
}

/**
 * Asks `userId` to be friends. Returns the viewer's side: OUTGOING, or FRIEND if they had asked
 * first. Asking again is harmless (the same request). Refused across a block (FORBIDDEN), between
 * friends (CONFLICT), for bots (FORBIDDEN), at the caps (LIMIT_EXCEEDED).
 */
export async function sendFriendRequest(ctx: RequestContext, userId: bigint): Promise<RelationshipView> {
  requireViewer(ctx);
  await charge(ctx, perUser(ctx, "relationship.request"));
  const { viewer, other } = await otherUser(ctx, userId);
  refuseBots(viewer, other);
  return (await apply(ctx, viewer, other, await ctx.services.relationships.sendFriendRequest(viewer.id, other.id, limitsOf(ctx))))!;
}

/** Accepts the friend request `userId` sent; NOT_FOUND if there is none (any more). Accepting twice is harmless. */
export async function acceptFriendRequest(ctx: RequestContext, userId: bigint): Promise<RelationshipView> {
  const { viewer, other } = await otherUser(ctx, userId);
  return (await apply(ctx, viewer, other, await ctx.services.relationships.acceptFriendRequest(viewer.id, other.id, limitsOf(ctx))))!;
}

/** Declines the request `userId` sent, or withdraws the one the viewer sent them; NOT_FOUND if there is none. */
export async function declineFriendRequest(ctx: RequestContext, userId: bigint): Promise<boolean> {
  const { viewer, other } = await otherUser(ctx, userId);
  await apply(ctx, viewer, other, await ctx.services.relationships.removeFriendRequest(viewer.id, other.id));
  return true;
}

/** Ends a friendship, for both; NOT_FOUND if they are not friends. */
export async function removeFriend(ctx: RequestContext, userId: bigint): Promise<boolean> {
  const { viewer, other } = await otherUser(ctx, userId);
  await apply(ctx, viewer, other, await ctx.services.relationships.removeFriend(viewer.id, other.id));
  return true;
}

/**
 * Blocks `userId`: any friendship or request between them ends, they cannot DM the viewer, add
 * them to a group DM, ask to be friends or see their presence (nor the viewer theirs). They are
 * not told. Blocking again is harmless; LIMIT_EXCEEDED at MAX_BLOCKS_PER_USER.
 */
export async function blockUser(ctx: RequestContext, userId: bigint): Promise<RelationshipView> {
  const { viewer, other } = await otherUser(ctx, userId);
  return (await apply(ctx, viewer, other, await ctx.services.relationships.block(viewer.id, other.id, limitsOf(ctx))))!;
}

/** Lifts the viewer's block of `userId`; NOT_FOUND if there is none. */
export async function unblockUser(ctx: RequestContext, userId: bigint): Promise<boolean> {
  const { viewer, other } = await otherUser(ctx, userId);
  await apply(ctx, viewer, other, await ctx.services.relationships.unblock(viewer.id, other.id));
  return true;
}

/**
 * The viewer's relationships (friends, requests both ways, the users they blocked) ordered by the
 * other user's id, `first` of them (1 to 1,000, default 1,000) after the user id `after`;
 * FORBIDDEN for anyone else's. Users who blocked the viewer are not listed.
 */
export async function listMyRelationships(
  ctx: RequestContext,
  user: UserRecord,
  args: { first?: number | null; after?: bigint | null } = {},
): Promise<RelationshipView[]> {
  if (requireViewer(ctx).id !== user.id) throw forbidden("You can only list your own relationships.");
  const limit = optionalInt("first", args.first, 1, MAX_RELATIONSHIPS_PAGE) ?? MAX_RELATIONSHIPS_PAGE;
  const rows = await ctx.services.relationships.list(user.id, { afterOtherId: args.after ?? null, limit });
  const users = await ctx.loaders.user.loadMany(rows.map((r) => r.otherId));
  return rows.flatMap((row, i) => {
    const other = users[i];
    return other && !(other instanceof Error) ? [{ ownerId: user.id, user: other, kind: row.kind, since: row.since }] : [];
  });
}
