import type { ChannelRecord } from "../stores/channel-store.js";
import type { GuildRecord } from "../stores/guild-store.js";
import type { MessageRecord } from "../stores/message-store.js";
import type { UserRecord } from "../stores/account-store.js";
import { builder } from "./builder.js";

/**
 * Object refs shared between domain files, declared here so files can reference each other's
 * types without import cycles; each is implemented in its own domain file.
 */
export const UserRef = builder.objectRef<UserRecord>("User");
export const GuildRef = builder.objectRef<GuildRecord>("Guild");
export const ChannelRef = builder.objectRef<ChannelRecord>("Channel");
/** A message; events attach the author they already know, so rendering needs no lookup. */
export const MessageRef = builder.objectRef<MessageRecord & { author?: UserRecord }>("Message");
