import { VIEWER_DEPENDENT } from "../gateway/shared-fanout.js";

/**
 * `extensions` for a field whose value depends on who asks, not only on its parent object
 * (presence as the viewer may see it, the viewer's read state, lists only readable on yourself).
 * Live subscriptions selecting such a field are executed per viewer instead of once per group of
 * identical subscriptions (see gateway/shared-fanout.ts). Every field that reads `ctx.viewer`
 * for anything but an access check the whole group has passed must carry it.
 */
export const PER_VIEWER = { [VIEWER_DEPENDENT]: true } as const;
