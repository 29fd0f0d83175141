import type { Overwrite } from "../permissions/compute.js";
import type { PrismaClient } from "./prisma/database.js";

type Tx = Parameters<Parameters<PrismaClient["$transaction"]>[0]>[0];

/**
 * Category permission sync on Postgres, inside the caller's transaction (ChannelStore's
 * createGuildChannel and updateGuildChannel with lockPermissions; see channel-store.ts).
 */

/** A channel's (or category's) overwrites as they are in this transaction, in a stable order, without the channel id. */
export async function channelOverwrites(tx: Tx, channelId: bigint): Promise<Overwrite[]> {
  return tx.permissionOverwrite.findMany({
    where: { channelId },
    orderBy: [{ targetKind: "asc" }, { targetId: "asc" }],
    select: { targetKind: true, targetId: true, allow: true, deny: true },
  });
}

/**
 * Replaces every overwrite of a channel with a copy of its category's; false (nothing written)
 * if it is in no category. The channel's row is locked first (FOR UPDATE) and its category
 * read under that lock, so a concurrent category delete (which un-parents the channel) cannot
 * slip in between; and since an overwrite insert checks its foreign key with a KEY SHARE lock
 * on that row, a concurrent setOverwrite on the channel waits for this transaction (or this one
 * for it) instead of adding a row between the delete and the insert. Idempotent.
 */
export async function replaceWithCategoryOverwrites(tx: Tx, channelId: bigint): Promise<boolean> {
  const rows = await tx.$queryRaw<{ parent_id: bigint | null }[]>`SELECT parent_id FROM channels WHERE id = ${channelId} FOR UPDATE`;
  const parent = rows[0]?.parent_id ?? null;
  if (parent === null) return false;
  const categoryId = BigInt(parent);
  const copy = await channelOverwrites(tx, categoryId);
  await tx.permissionOverwrite.deleteMany({ where: { channelId } });
  if (copy.length > 0) await tx.permissionOverwrite.createMany({ data: copy.map((o) => ({ channelId, ...o })) });
  return true;
}
