import type { RequestContext } from "../context.js";
import { has, PERMISSIONS } from "../permissions/permission-set.js";
import type { ChannelRecord } from "../stores/channel-store.js";
import type { MessageRecord } from "../stores/message-store.js";
import type { RoleRecord } from "../stores/permission-store.js";
import { NO_BROAD_MENTIONS, type BroadMentions } from "../stores/read-state-store.js";
import { channelPermissionsOf } from "./access.js";
import { mayMentionBroadly, parseBroadMentions } from "./mentions.js";

/**
 * Broad mentions (`@everyone`, `@here`, `<@&roleId>`), Discord's rules: in a guild channel only,
 * `@everyone` and `@here` notify when the author has MENTION_EVERYONE in the channel (which
 * needs SEND_MESSAGES there), otherwise they are plain text; a role mention notifies when the
 * role is one of the guild's and is mentionable, or the author has MENTION_EVERYONE.
 * `<@&guildId>` names the @everyone role and counts as `@everyone`.
 *
 * What notifies is stored as one row per message (ReadStateStore.setBroadMentions), never a row
 * per member; who it reaches is decided when a count is read (resolvers/read-states.ts).
 */

/**
 * What `content`, sent or edited by the viewer in `channel`, mentions broadly. No store read for
 * a message without `@everyone`, `@here` or `<@&`; otherwise the viewer's permissions from the
 * permission cache, and the guild's roles (one read) only if a role is mentioned.
 */
export async function broadMentionsOf(ctx: RequestContext, channel: ChannelRecord, content: string): Promise<BroadMentions> {
  const guildId = channel.guildId;
  if (guildId === null || !mayMentionBroadly(content)) return NO_BROAD_MENTIONS;
  const text = parseBroadMentions(content);
  if (!text.everyone && !text.here && text.roleIds.length === 0) return NO_BROAD_MENTIONS;
  const allowed = has(await channelPermissionsOf(ctx, channel), PERMISSIONS.MENTION_EVERYONE);
  let everyone = text.everyone && allowed;
  const roleIds: bigint[] = [];
  if (text.roleIds.length > 0) {
    const roles = new Map((await ctx.loaders.guildRoles.load(guildId)).map((role) => [role.id, role]));
    for (const id of text.roleIds) {
      if (id === guildId) everyone ||= allowed;
      else if (roles.get(id)?.mentionable || (allowed && roles.has(id))) roleIds.push(id);
    }
  }
  return { everyone, here: text.here && allowed, roleIds };
}

/**
 * What a stored message mentions broadly, as indexed when it was sent or last edited. No read
 * for a message whose text cannot mention broadly (almost all of them); otherwise one read per
 * channel per batch.
 */
export async function storedBroadMentions(ctx: RequestContext, message: MessageRecord): Promise<BroadMentions> {
  if (!mayMentionBroadly(message.content)) return NO_BROAD_MENTIONS;
  return ctx.loaders.broadMentions.load(`${message.channelId}:${message.id}`);
}

/** True if the message notifies everyone who can read its channel (`@everyone` or `@here`). */
export async function mentionsEveryone(ctx: RequestContext, message: MessageRecord): Promise<boolean> {
  const broad = await storedBroadMentions(ctx, message);
  return broad.everyone || broad.here;
}

/** The roles a message notifies, in order of first mention, skipping roles deleted since. */
export async function mentionedRoles(ctx: RequestContext, message: MessageRecord): Promise<RoleRecord[]> {
  const broad = await storedBroadMentions(ctx, message);
  if (broad.roleIds.length === 0) return [];
  const guildId = (await ctx.loaders.channel.load(message.channelId))?.guildId ?? null;
  if (guildId === null) return [];
  const roles = new Map((await ctx.loaders.guildRoles.load(guildId)).map((role) => [role.id, role]));
  return broad.roleIds.flatMap((id) => roles.get(id) ?? []);
}
