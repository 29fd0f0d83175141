import { forbidden, type ConcordError } from "../errors.js";
import type { UserRecord } from "../stores/account-store.js";
import type { DirectMessageStanding } from "../stores/relationship-store.js";

/** Whether a user may open a DM with, or send into the DM of, another; and if not, whose doing it is. */
export type DirectMessageVerdict = "allowed" | "you-blocked" | "refused";

/**
 * Discord's rule for one-to-one DMs: nobody across a block, whoever blocked; friends always;
 * otherwise the recipient's `allowDirectMessagesFrom` (EVERYONE; GUILD_MEMBERS: people they share
 * a guild with; FRIENDS: nobody else). It is checked when a DM is opened and at every send, so
 * a block, a new setting or leaving the last shared guild closes an existing DM too.
 */
export function directMessageVerdict(standing: DirectMessageStanding): DirectMessageVerdict {
  const { pair, policy, sharesGuild } = standing;
  if (pair.mine?.kind === "BLOCKED") return "you-blocked";
  if (pair.theirs?.kind === "BLOCKED") return "refused";
  if (pair.mine?.kind === "FRIEND") return "allowed";
  switch (policy) {
    case "EVERYONE":
      return "allowed";
    case "GUILD_MEMBERS":
      return sharesGuild ? "allowed" : "refused";
    case "FRIENDS":
      return "refused";
  }
}

/**
 * The FORBIDDEN for a refused DM. A user who blocked the other is reminded of it; anyone else gets
 * Discord's deliberately vague reason, the same whether the other blocked them or only accepts
 * DMs from friends (or guildmates), so a block cannot be told apart from a privacy setting.
 */
export function directMessageRefused(verdict: Exclude<DirectMessageVerdict, "allowed">, other: UserRecord, action: "open" | "send"): ConcordError {
  if (verdict === "you-blocked") return forbidden(`You blocked ${other.username}; unblock them to ${action === "open" ? "open a DM with them" : "send them messages"}.`);
  const what = action === "open" ? `You cannot open a DM with ${other.username}` : `Your message could not be delivered to ${other.username}`;
  return forbidden(`${what}: you may not share a guild with them, or they accept direct messages only from friends.`);
}
