import type { RequestContext } from "../context.js";
import { badInput, forbidden } from "../errors.js";
import type { UserRecord } from "../stores/account-store.js";
import type { DirectMessagePolicy, UserSettingsRecord } from "../stores/relationship-store.js";
import { requireViewer } from "./access.js";

/** A user's settings, with whose they are. */
export interface UserSettingsView extends UserSettingsRecord {
  userId: bigint;
}

/** The viewer's settings; FORBIDDEN for anyone else's. */
export async function mySettings(ctx: RequestContext, user: UserRecord): Promise<UserSettingsView> {
  if (requireViewer(ctx).id !== user.id) throw forbidden("You can only read your own settings.");
  return { userId: user.id, ...(await ctx.services.relationships.getSettings(user.id)) };
}

/**
 * Changes the viewer's settings: `allowDirectMessagesFrom` decides who may open a DM with them
 * and send into one (friends always may, unless a block stands between them). Takes effect at
 * once, on existing DMs too.
 */
export async function updateMySettings(ctx: RequestContext, input: { allowDirectMessagesFrom?: DirectMessagePolicy | null }): Promise<UserSettingsView> {
  const viewer = requireViewer(ctx);
  if (input.allowDirectMessagesFrom === null || input.allowDirectMessagesFrom === undefined) {
    throw badInput("allowDirectMessagesFrom", "Give a setting to change: allowDirectMessagesFrom.");
  }
  return { userId: viewer.id, ...(await ctx.services.relationships.updateSettings(viewer.id, { allowDirectMessagesFrom: input.allowDirectMessagesFrom })) };
}
