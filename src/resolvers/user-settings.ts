import type { RequestContext } from "../context.js";
import { badInput, forbidden } from "../errors.js";
import type { UserRecord } from "../stores/account-store.js";
import type { DirectMessagePolicy, UserSettingsRecord } from "../stores/relationship-store.js";
import { requireViewer } from "./access.js";

/** The viewer's settings; FORBIDDEN for anyone else's. */
export function mySettings(ctx: RequestContext, user: UserRecord): Promise<UserSettingsRecord> {
  if (requireViewer(ctx).id !== user.id) throw forbidden("You can only read your own settings.");
  return ctx.services.relationships.getSettings(user.id);
}

/**
 * Changes the viewer's settings: `allowDirectMessagesFrom` decides who may open a DM with them
 * and send into one (friends always may, unless a block stands between them). Takes effect at
 * once, on existing DMs too.
 */
export async function updateMySettings(ctx: RequestContext, input: { allowDirectMessagesFrom?: DirectMessagePolicy | null }): Promise<UserSettingsRecord> {
  const viewer = requireViewer(ctx);
  if (input.allowDirectMessagesFrom === null || input.allowDirectMessagesFrom === undefined) {
    throw badInput("allowDirectMessagesFrom", "Give a setting to change: allowDirectMessagesFrom.");
  }
  return ctx.services.relationships.updateSettings(viewer.id, { allowDirectMessagesFrom: input.allowDirectMessagesFrom });
}
