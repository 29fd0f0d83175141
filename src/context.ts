import DataLoader from "dataloader";
import type { IdGenerator } from "./ids/snowflake.js";
import type { Logger } from "./logger.js";
import type { EventBus } from "./pubsub/event-bus.js";
import type { AccountStore, UserRecord } from "./stores/account-store.js";
import type { ChannelRecord, ChannelStore } from "./stores/channel-store.js";
import type { GuildRecord, GuildStore, MemberRecord } from "./stores/guild-store.js";
import type { MessageRecord, MessageStore } from "./stores/message-store.js";
import type { ChannelSequencer } from "./resolvers/channel-sequencer.js";

/** The long-lived dependencies of every use case, built once by the composition root (app.ts). */
export interface Services {
  accounts: AccountStore;
  guilds: GuildStore;
  channels: ChannelStore;
  messages: MessageStore;
  bus: EventBus;
  newId: IdGenerator;
  sequencer: ChannelSequencer;
  logger: Logger;
  now: () => Date;
  settings: {
    passwordHashCost: number;
    subscriptionBufferSize: number;
  };
}

/** Per-request batching and caching; a new set per HTTP request and per WebSocket operation. */
export interface Loaders {
  user: DataLoader<bigint, UserRecord | null>;
  guild: DataLoader<bigint, GuildRecord | null>;
  channel: DataLoader<bigint, ChannelRecord | null>;
  recipients: DataLoader<bigint, bigint[]>;
  /** Key: `${guildId}:${userId}`. */
  member: DataLoader<string, MemberRecord | null>;
  /** Key: `${channelId}:${messageId}`; one store read per channel per batch. */
  message: DataLoader<string, MessageRecord | null>;
}

/** What every resolver receives. */
export interface RequestContext {
  services: Services;
  /** The signed-in user or bot; null for anonymous requests. */
  viewer: UserRecord | null;
  /** Hash of the token the request authenticated with (to revoke it or match revocations). */
  tokenHash: string | null;
  /** Set when the request carried a token that is unknown or revoked: said in UNAUTHENTICATED errors. */
  authFailure: string | null;
  loaders: Loaders;
}

function byId<T extends { id: bigint }>(ids: readonly bigint[], rows: T[]): (T | null)[] {
  const map = new Map(rows.map((row) => [row.id, row]));
  return ids.map((id) => map.get(id) ?? null);
}

/**
 * Fresh loaders for one request. Keys are bigint ids; DataLoader compares them by value.
 * `cache: false` keeps batching but not caching: for subscriptions, whose context lives as long
 * as the stream, a cache would grow without bound and serve stale names and memberships.
 */
export function createLoaders(services: Services, options: { cache: boolean } = { cache: true }): Loaders {
  const { cache } = options;
  return {
    user: new DataLoader(async (ids) => byId(ids, await services.accounts.getUsers(ids)), { cache }),
    guild: new DataLoader(async (ids) => byId(ids, await services.guilds.getGuilds(ids)), { cache }),
    channel: new DataLoader(async (ids) => byId(ids, await services.channels.getChannels(ids)), { cache }),
    recipients: new DataLoader(async (ids) => {
      const map = await services.channels.getRecipients(ids);
      return ids.map((id) => map.get(id) ?? []);
    }, { cache }),
    member: new DataLoader(
      (keys) =>
        Promise.all(
          keys.map((key) => {
            const [guildId, userId] = key.split(":").map(BigInt) as [bigint, bigint];
            return services.guilds.getMember(guildId, userId);
          }),
        ),
      { cache },
    ),
    message: new DataLoader(async (keys) => {
      const byChannel = new Map<bigint, bigint[]>();
      for (const key of keys) {
        const [channelId, id] = key.split(":").map(BigInt) as [bigint, bigint];
        byChannel.set(channelId, [...(byChannel.get(channelId) ?? []), id]);
      }
      const found = new Map<string, MessageRecord>();
      await Promise.all(
        [...byChannel].map(async ([channelId, ids]) => {
          for (const m of await services.messages.getMany(channelId, ids)) found.set(`${m.channelId}:${m.id}`, m);
        }),
      );
      return keys.map((key) => found.get(key) ?? null);
    }, { cache }),
  };
}

/** Builds the context for one request or operation. */
export function createContext(
  services: Services,
  auth: { viewer: UserRecord | null; tokenHash: string | null; authFailure: string | null },
  options: { longLived?: boolean } = {},
): RequestContext {
  return { services, ...auth, loaders: createLoaders(services, { cache: !options.longLived }) };
}
