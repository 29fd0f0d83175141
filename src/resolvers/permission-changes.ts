import type { Services } from "../context.js";
import type { PermissionChange } from "../permissions/permission-cache.js";
import { topics } from "../pubsub/topics.js";

/**
 * After a change to who may do what was stored (a role's permissions, an overwrite, a member's
 * roles or membership, the owner): this instance's permission cache forgets what it affects at
 * once (its live streams re-check), and every other instance is told on the fleet-wide
 * `permissions` topic.
 *
 * The stored change is what counts, so a bus failure does not fail the request: instances that
 * miss the event clear their caches when they reconnect to the bus (see app.ts), and cache
 * entries expire on their own after a few minutes.
 */
export async function announcePermissionChange(services: Services, change: PermissionChange): Promise<void> {
  services.permissions.invalidate(change);
  try {
    await services.bus.publish(topics.permissions, { type: "PermissionsChanged", guildId: change.guildId, userId: change.userId });
  } catch (error) {
    services.logger.warn("permission change stored but not announced; other instances forget it when they reconnect to the bus", {
      error,
      guildId: String(change.guildId),
    });
  }
}
