import { limitExceeded, type ConcordError } from "../errors.js";
import { LimitReachedError } from "../stores/store-errors.js";

/**
 * How many of each per-user and per-guild resource may exist. The use cases refuse the write
 * that would pass a cap (LIMIT_EXCEEDED), and the query cost model counts each unpaginated list
 * at its cap, so both read the same values (`Services.settings.caps`).
 */
export interface ResourceCaps {
  /** Text channels per guild (`MAX_CHANNELS_PER_GUILD`); also the size `Guild.channels` is counted at. */
  channelsPerGuild: number;
  /** Guilds a user may belong to, owned or joined (`MAX_GUILDS_PER_USER`); the size of `User.guilds`. */
  guildsPerUser: number;
  /** Bots one person may create (`MAX_BOTS_PER_USER`); the size of `User.bots`. */
  botsPerUser: number;
  /** People in a group DM, its creator included (`MAX_GROUP_DM_MEMBERS`); the size of `Channel.recipients`. */
  groupDmMembers: number;
  /** Roles per guild, @everyone included (`MAX_ROLES_PER_GUILD`); the size of `Guild.roles` and `GuildMember.roles`. */
  rolesPerGuild: number;
  /** Friends a user may have (`MAX_FRIENDS_PER_USER`). */
  friendsPerUser: number;
  /** Friend requests a user may have waiting for an answer, sent and received each (`MAX_PENDING_FRIEND_REQUESTS`). */
  pendingFriendRequests: number;
  /** Users one user may have blocked (`MAX_BLOCKS_PER_USER`). */
  blocksPerUser: number;
}

/** A cap's name, as extensions in the schema and `LIMIT_EXCEEDED`'s `resource` name it. */
export type CapName = keyof ResourceCaps;

/**
 * The defaults: Discord's 500 channels per guild; 200 guilds per user (Discord's 100, doubled
 * as for its paying users); 25 bots per person (a few per project with a staging twin each, and
 * at most 25 usernames one account can take for bots); Discord's 10 people per group DM and
 * 250 roles per guild.
 */
export const DEFAULT_RESOURCE_CAPS: Readonly<ResourceCaps> = {
  channelsPerGuild: 500,
  guildsPerUser: 200,
  botsPerUser: 25,
  groupDmMembers: 10,
  rolesPerGuild: 250,
  // Discord's friend limit; requests and blocks bounded so that one account cannot flood
  // another's list or grow its own without end (each block is also checked on every presence
  // change of the blocked user's guildmates, see resolvers/presence-announcer.ts).
  friendsPerUser: 1_000,
  pendingFriendRequests: 100,
  blocksPerUser: 1_000,
};

/** The environment variable that configures each cap (config.ts reads them). */
export const CAP_SETTINGS: Readonly<Record<CapName, string>> = {
  channelsPerGuild: "MAX_CHANNELS_PER_GUILD",
  guildsPerUser: "MAX_GUILDS_PER_USER",
  botsPerUser: "MAX_BOTS_PER_USER",
  groupDmMembers: "MAX_GROUP_DM_MEMBERS",
  rolesPerGuild: "MAX_ROLES_PER_GUILD",
  friendsPerUser: "MAX_FRIENDS_PER_USER",
  pendingFriendRequests: "MAX_PENDING_FRIEND_REQUESTS",
  blocksPerUser: "MAX_BLOCKS_PER_USER",
};

/** What the person refused by a cap is told, and what they can do about it. */
const REFUSALS: Readonly<Record<CapName, (limit: string) => string>> = {
  channelsPerGuild: (n) => `A guild may have at most ${n} channels; delete one before creating another.`,
  guildsPerUser: (n) => `You may belong to at most ${n} guilds; leave one before joining or creating another.`,
  botsPerUser: (n) => `You may create at most ${n} bots; reuse one of yours (resetBotToken gives it a new token).`,
  groupDmMembers: (n) => `A group DM has at most ${n} people, you included.`,
  rolesPerGuild: (n) => `A guild may have at most ${n} roles, @everyone included; delete one before creating another.`,
  friendsPerUser: (n) => `You may have at most ${n} friends; remove one before adding another.`,
  pendingFriendRequests: (n) => `You may have at most ${n} friend requests waiting for an answer; withdraw some (declineFriendRequest) first.`,
  blocksPerUser: (n) => `You may block at most ${n} users; unblock one first.`,
};

/** The LIMIT_EXCEEDED error for a cap, naming its setting so an operator knows what to raise. */
export function capReached(cap: CapName, limit: number): ConcordError {
  return limitExceeded(cap, limit, CAP_SETTINGS[cap], REFUSALS[cap](limit.toLocaleString("en-US")));
}

/** Runs a store write that enforces a cap atomically, turning its refusal into {@link capReached}. */
export async function withinCap<T>(write: Promise<T>): Promise<T> {
  try {
    return await write;
  } catch (error) {
    if (error instanceof LimitReachedError && error.what in CAP_SETTINGS) throw capReached(error.what as CapName, error.limit);
    throw error;
  }
}
