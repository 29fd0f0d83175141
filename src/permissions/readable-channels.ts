import type { ChannelRecord, ChannelStore } from "../stores/channel-store.js";
import type { PermissionCache } from "./permission-cache.js";

export interface ReadableChannelsOptions {
  permissions: PermissionCache;
  store: Pick<ChannelStore, "getChannels" | "getReadableChannels">;
  /** Channels whose guild is remembered (the first learned dropped first). */
  maxChannels?: number;
}

/** Where a channel lives: its guild (null for a DM or group DM), and when that was read. */
interface Home {
  guildId: bigint | null;
  /** The permission cache's clock when the store answered: the channel existed then. */
  learnedAt: number;
}

/**
 * Which channels a user may read (a guild channel of a guild they belong to, a DM they are a
 * recipient of) without a store read per request for guild channels: the hot path of every
 * send, subscription, history page, ack and typing call.
 *
 * A guild channel's record and its guild's membership come from the permission cache (the
 * guild's access holds its channels; every channel create, update, move and delete is
 * announced as a guild-wide permission change, so each instance re-reads the guild once). Which
 * guild a channel belongs to never changes: it is read from the store once per channel per
 * instance and remembered. DMs and group DMs are read from the store each time (their recipients
 * change without an announcement).
 *
 * Staleness is the permission cache's: an instance may act on a deleted channel until it hears
 * the deletion (milliseconds on a healthy bus). A channel created after the guild's copy was
 * read is found at once: the store saw the channel after that copy was read, so the copy is
 * read again ({@link PermissionCache.getSince}).
 */
export class ReadableChannels {
  private readonly homes = new Map<bigint, Home>();
  private readonly maxChannels: number;

  constructor(private readonly options: ReadableChannelsOptions) {
    this.maxChannels = options.maxChannels ?? 200_000;
  }

  /**
   * The channels among `ids` that `userId` may read, in no particular order; missing and
   * unreadable ids are absent alike (the contract of ChannelStore.getReadableChannels, which
   * this replaces on the hot path). At most one store read for ids never seen before, one for
   * DMs, and the permission cache's reads when its guilds are cold.
   */
  async load(userId: bigint, ids: readonly bigint[]): Promise<ChannelRecord[]> {
    const unknown = ids.filter((id) => !this.homes.has(id));
    if (unknown.length > 0) await this.learn(unknown);
    const direct: bigint[] = [];
    const byGuild = new Map<bigint, bigint[]>();
    for (const id of ids) {
      const home = this.homes.get(id);
      if (!home) continue;
      if (home.guildId === null) direct.push(id);
      else {
        const list = byGuild.get(home.guildId);
        if (list) list.push(id);
        else byGuild.set(home.guildId, [id]);
      }
    }
    const found: ChannelRecord[] = [];
    const reads: Promise<void>[] = [...byGuild].map(async ([guildId, channelIds]) => {
      for (const channel of await this.inGuild(guildId, userId, channelIds)) found.push(channel);
    });
    if (direct.length > 0) reads.push(this.options.store.getReadableChannels(userId, direct).then((rows) => void found.push(...rows)));
    await Promise.all(reads);
    return found;
  }

  /** Channels remembered now (for tests and metrics). */
  get size(): number {
    return this.homes.size;
  }

  /** The guild channels among `channelIds` of a guild `userId` belongs to, from the permission cache. */
  private async inGuild(guildId: bigint, userId: bigint, channelIds: bigint[]): Promise<ChannelRecord[]> {
    let state = await this.options.permissions.get(guildId, userId);
    if (!state || state.roleIds === null) return [];
    const missing = channelIds.filter((id) => !state!.access.channels.has(id));
    if (missing.length > 0) {
      // Known to the store after this copy of the guild was read: created since, so read it again.
      const since = Math.max(...missing.map((id) => this.homes.get(id)?.learnedAt ?? -Infinity));
      state = await this.options.permissions.getSince(guildId, userId, since);
      if (!state || state.roleIds === null) return [];
    }
    const channels: ChannelRecord[] = [];
    for (const id of channelIds) {
      const channel = state.access.channels.get(id);
      if (channel) channels.push(channel);
      // Deleted: the guild's copy was read after the store told us of the channel. Forget it.
      else this.homes.delete(id);
    }
    return channels;
  }

  /** Reads where `ids` live (one store read); ids the store does not have stay unknown. */
  private async learn(ids: bigint[]): Promise<void> {
    const rows = await this.options.store.getChannels(ids);
    const learnedAt = this.options.permissions.clock();
    for (const row of rows) {
      this.homes.set(row.id, { guildId: row.guildId, learnedAt });
      if (this.homes.size > this.maxChannels) this.homes.delete(this.homes.keys().next().value!);
    }
  }
}
