import type { RequestContext } from "../context.js";
import { topics } from "../pubsub/topics.js";
import type { UserRecord } from "../stores/account-store.js";
import type { PairState, RelationshipSide, RelationshipWrite } from "../stores/relationship-store.js";

/**
 * What a relationship write means for the two users beyond the store: each is told of their own
 * side when it changed (RelationshipChanged in userEvents), and, when the write changed whether
 * they may see each other's presence, each gets the other's presence as they now see it.
 *
 * A blocked user is only ever told about their own side: a friendship or request that vanished
 * (kind NONE), nothing when they had none. The block itself exists only on the blocker's side.
 */
export async function announceRelationshipWrite(
  ctx: RequestContext,
  viewer: UserRecord,
  other: UserRecord,
  write: Extract<RelationshipWrite, { status: "done" }>,
): Promise<void> {
  if (!write.changed) return;
  const { bus } = ctx.services;
  const { before, after } = write;
  if (sideChanged(before.mine, after.mine)) {
    await bus.publish(topics.user(viewer.id), { type: "RelationshipChanged", userId: viewer.id, user: other, kind: after.mine?.kind ?? "NONE", since: after.mine?.since ?? null });
  }
  if (sideChanged(before.theirs, after.theirs)) {
    await bus.publish(topics.user(other.id), { type: "RelationshipChanged", userId: other.id, user: viewer, kind: after.theirs?.kind ?? "NONE", since: after.theirs?.since ?? null });
  }
  await refreshPresenceBetween(ctx, viewer, other, before, after);
}

function sideChanged(before: RelationshipSide, after: RelationshipSide): boolean {
  return before?.kind !== after?.kind || before?.since.getTime() !== after?.since.getTime();
}

const blocked = (pair: PairState) => pair.mine?.kind === "BLOCKED" || pair.theirs?.kind === "BLOCKED";
const friends = (pair: PairState) => pair.mine?.kind === "FRIEND";

/**
 * Presence is symmetric: two users see each other's when they are friends or share a guild, and
 * neither does across a block. Only friendships and blocks change it, so requests cost nothing
 * here; otherwise one read for the shared guild and, when it is gained, one for both statuses.
 */
async function refreshPresenceBetween(ctx: RequestContext, viewer: UserRecord, other: UserRecord, before: PairState, after: PairState): Promise<void> {
  if (!blocked(before) && !blocked(after) && friends(before) === friends(after)) return;
  const { guilds, presence, announcer, now } = ctx.services;
  const sharesGuild = (await guilds.filterGuildmates(viewer.id, [other.id])).length > 0;
  const visible = (pair: PairState) => !blocked(pair) && (friends(pair) || sharesGuild);
  const [was, is] = [visible(before), visible(after)];
  if (was === is) return;
  if (!is) {
    // They keep whatever they last saw unless told: from now on the other looks offline.
    announcer.tell(viewer.id, other, "OFFLINE");
    announcer.tell(other.id, viewer, "OFFLINE");
    return;
  }
  const records = await presence.get([viewer.id, other.id], now());
  const status = (id: bigint) => records.find((r) => r.userId === id)?.status ?? "OFFLINE";
  announcer.tell(viewer.id, other, status(other.id));
  announcer.tell(other.id, viewer, status(viewer.id));
}
