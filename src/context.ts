import DataLoader from "dataloader";
import type { PasswordHasher } from "./auth/password-hasher.js";
import type { IdGenerator } from "./ids/snowflake.js";
import type { Logger } from "./logger.js";
import type { EventBus } from "./pubsub/event-bus.js";
import type { AccountStore, UserRecord } from "./stores/account-store.js";
import type { ChannelRecord, ChannelStore } from "./stores/channel-store.js";
import type { GuildRecord, GuildStore, MemberRecord } from "./stores/guild-store.js";
import type { MessageRecord, MessageStore } from "./stores/message-store.js";
import type { ChannelSequencer } from "./resolvers/channel-sequencer.js";
import type { AckBuffer } from "./resolvers/ack-buffer.js";
import type { CredentialCache } from "./resolvers/credential-cache.js";
import { publicStatus, type PresenceAnnouncer } from "./resolvers/presence-announcer.js";
import type { PresenceStatus, PresenceStore } from "./stores/presence-store.js";
import { NO_BROAD_MENTIONS, type BroadMentions, type MentionCountQuery, type ReadStateStore } from "./stores/read-state-store.js";
import type { RelationshipStore } from "./stores/relationship-store.js";
import type { DirectMessageStore } from "./stores/direct-message-store.js";
import type { ResourceCaps } from "./resolvers/resource-caps.js";
import type { SessionPolicy } from "./resolvers/session-expiry.js";
import type { RateLimiter } from "./limits/rate-limiter.js";
import type { RecentDeletions } from "./pubsub/recent-deletions.js";
import type { PermissionCache } from "./permissions/permission-cache.js";
import type { ReadableChannels } from "./permissions/readable-channels.js";
import type { PermissionStore, RoleRecord } from "./stores/permission-store.js";
import type { AuditLogStore } from "./stores/audit-log-store.js";
import type { RateLimitDetails } from "./resolvers/rate-limit.js";

/** The long-lived dependencies of every use case, built once by the composition root (app.ts). */
export interface Services {
  accounts: AccountStore;
  guilds: GuildStore;
  channels: ChannelStore;
  /** Friends, requests, blocks and DM privacy (see stores/relationship-store.ts). */
  relationships: RelationshipStore;
  /** Closed DMs and group DM membership (see stores/direct-message-store.ts). */
  directMessages: DirectMessageStore;
  messages: MessageStore;
  presence: PresenceStore;
  readStates: ReadStateStore;
  bus: EventBus;
  /** Turns presence transitions into coalesced events (see resolvers/presence-announcer.ts). */
  announcer: PresenceAnnouncer;
  /** Batches read acknowledgements (see resolvers/ack-buffer.ts). */
  acks: AckBuffer;
  /** Recently seen sessions, so a request's token costs no store read (see resolvers/credential-cache.ts). */
  credentials: CredentialCache;
  /** Password hashing with bounded concurrency (see auth/password-hasher.ts). */
  passwords: PasswordHasher;
  /** Per-user and per-address call budgets (see limits/rate-limiter.ts); null when RATE_LIMITS=off. */
  rateLimiter: RateLimiter | null;
  /** Messages seen deleted lately, so a late MessageUpdated for one is not delivered (see pubsub/recent-deletions.ts). */
  deletions: RecentDeletions;
  /** Roles, member roles and channel overwrites (what permissions are computed from). */
  roles: PermissionStore;
  /** Guilds' audit logs (entries are written by the governance writes themselves). */
  auditLog: AuditLogStore;
  /** This instance's view of guilds' permissions, invalidated over the bus (see permissions/permission-cache.ts). */
  permissions: PermissionCache;
  /** Which channels a user may read, guild channels from the permission cache (see permissions/readable-channels.ts). */
  readableChannels: ReadableChannels;
  newId: IdGenerator;
  sequencer: ChannelSequencer;
  logger: Logger;
  now: () => Date;
  settings: {
    passwordHashCost: number;
    subscriptionBufferSize: number;
    /** Channels one messageEvents subscription may follow (MAX_STREAM_CHANNELS). */
    maxStreamChannels: number;
    largeGuildThreshold: number;
    /** Resource caps the use cases enforce and the query cost model counts lists at. */
    caps: ResourceCaps;
    /** When sessions expire (SESSION_IDLE_DAYS, SESSION_MAX_DAYS; see resolvers/session-expiry.ts). */
    sessionPolicy: SessionPolicy;
    /** Audit log entries are shown and kept this many days (AUDIT_LOG_RETENTION_DAYS). */
    auditLogRetentionDays: number;
  };
}

/** Per-request batching and caching; a new set per HTTP request and per WebSocket operation. */
export interface Loaders {
  user: DataLoader<bigint, UserRecord | null>;
  guild: DataLoader<bigint, GuildRecord | null>;
  channel: DataLoader<bigint, ChannelRecord | null>;
  /** The channel if the viewer may read it, else null (missing and unreadable alike); one store read per batch. */
  readableChannel: DataLoader<bigint, ChannelRecord | null>;
  recipients: DataLoader<bigint, bigint[]>;
  /** Key: `${guildId}:${userId}`. */
  member: DataLoader<string, MemberRecord | null>;
  /** Key: `${channelId}:${messageId}`; one store read per channel per batch. */
  message: DataLoader<string, MessageRecord | null>;
  /** Presence of users as the viewer may see it (OFFLINE for strangers, and both ways across a block). */
  presence: DataLoader<bigint, PresenceStatus>;
  /** The viewer's stored read pointer per channel id (null: never acked). */
  readPointer: DataLoader<bigint, bigint | null>;
  /** The viewer's unread mentions in a channel after `after`, with their roles there (see ReadStateStore.countMentions), counted up to READ_COUNT_CAP. */
  mentionCount: DataLoader<MentionCountQuery, number, string>;
  /** Key: `${channelId}:${messageId}`; what the message mentions broadly (none when nothing was indexed); one store read per channel per batch. */
  broadMentions: DataLoader<string, BroadMentions>;
  /** Key: `${guildId}:${userId}`; a member's role ids (null: not a member); one store read per guild per batch. */
  memberRoles: DataLoader<string, bigint[] | null>;
  /** A guild's roles, highest first. */
  guildRoles: DataLoader<bigint, RoleRecord[]>;
}

/** What every resolver receives. */
export interface RequestContext {
  services: Services;
  /** The signed-in user or bot; null for anonymous requests. */
  viewer: UserRecord | null;
  /** Hash of the token the request authenticated with (to revoke it or match revocations). */
  tokenHash: string | null;
  /** Public id of that token's session (the `current` one in `sessions`); null when anonymous. */
  sessionId: bigint | null;
  /** Set when the request carried a token that is unknown or revoked: said in UNAUTHENTICATED errors. */
  authFailure: string | null;
  loaders: Loaders;
  /** Where the request came from: the address per-IP limits count (see limits/client-address.ts). */
  client: ClientInfo;
  /** The tightest rate-limit budget this request touched, for the X-RateLimit-* response headers. */
  rateLimit?: RateLimitDetails;
  /** The request's X-Audit-Log-Reason header (URL-decoded, unvalidated), as in Discord's API; null without one. */
  auditLogReason?: string | null;
}

/** The caller of a request, as far as the transport knows it. */
export interface ClientInfo {
  /** The client's address (IPv6 per /64), behind trusted proxies the forwarded one. */
  address: string;
  /** "http" for HTTP requests (including SSE), "ws" for operations over a WebSocket. */
  transport: "http" | "ws";
  /** What the client says it is (sanitized User-Agent or graphql-ws `client` param), kept on sessions it signs in; null or absent: nothing said. */
  hint?: string | null;
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
export function createLoaders(services: Services, options: { cache: boolean; viewerId?: bigint | null } = { cache: true }): Loaders {
  return new LazyLoaders({ services, cache: options.cache, viewerId: options.viewerId ?? null }) as unknown as Loaders;
}

interface LoaderDeps {
  services: Services;
  cache: boolean;
  viewerId: bigint | null;
}

/**
 * Loaders built on first use, with the getters on the prototype: a live subscription holds its
 * context for hours but usually touches one loader or none, and the server holds one context per
 * subscription, so an unused loader should cost nothing per instance.
 */
class LazyLoaders {
  built: Partial<Loaders> = {};
  /** The factories, made on the first loader used (a request uses a few, each once). */
  factories: ReturnType<typeof loaderFactories> | undefined;
  constructor(readonly deps: LoaderDeps) {}
}
for (const key of [
  "user",
  "guild",
  "channel",
  "readableChannel",
  "recipients",
  "member",
  "message",
  "presence",
  "readPointer",
  "mentionCount",
  "broadMentions",
  "memberRoles",
  "guildRoles",
] satisfies (keyof Loaders)[]) {
  Object.defineProperty(LazyLoaders.prototype, key, {
    enumerable: true,
    get(this: LazyLoaders) {
      return ((this.built as Record<string, unknown>)[key] ??= (this.factories ??= loaderFactories(this.deps.services, this.deps))[key]());
    },
  });
}

/**
 * Forgets the loaders built so far (they are built again on next use): a live subscription's
 * context calls this once the stream has started, so the hours it lives it keeps no loader its
 * events never need.
 */
export function releaseLoaders(loaders: Loaders): void {
  const lazy = loaders as unknown as LazyLoaders;
  if (!lazy.built) return;
  lazy.built = {};
  lazy.factories = undefined;
}

/** Clears the caches of the loaders built so far (without building the others). */
export function clearLoaders(loaders: Loaders): void {
  const built = (loaders as unknown as LazyLoaders).built ?? loaders;
  for (const loader of Object.values(built)) (loader as { clearAll(): unknown }).clearAll();
}

function loaderFactories(services: Services, options: { cache: boolean; viewerId?: bigint | null }): { [K in keyof Loaders]: () => Loaders[K] } {
  const { cache } = options;
  const viewerId = options.viewerId ?? null;
  return {
    user: () => new DataLoader(async (ids) => byId(ids, await services.accounts.getUsers(ids)), { cache }),
    guild: () => new DataLoader(async (ids) => byId(ids, await services.guilds.getGuilds(ids)), { cache }),
    channel: () => new DataLoader(async (ids) => byId(ids, await services.channels.getChannels(ids)), { cache }),
    readableChannel: () => new DataLoader(async (ids) => {
      if (viewerId === null) return ids.map(() => null);
      return byId(ids, await services.readableChannels.load(viewerId, ids));
    }, { cache }),
    recipients: () => new DataLoader(async (ids) => {
      const map = await services.channels.getRecipients(ids);
      return ids.map((id) => map.get(id) ?? []);
    }, { cache }),
    member: () => new DataLoader(
      (keys) =>
        Promise.all(
          keys.map((key) => {
            const [guildId, userId] = key.split(":").map(BigInt) as [bigint, bigint];
            return services.guilds.getMember(guildId, userId);
          }),
        ),
      { cache },
    ),
    message: () => new DataLoader(async (keys) => {
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
    presence: () => new DataLoader(async (ids) => {
      if (viewerId === null) return ids.map((): PresenceStatus => "OFFLINE");
      const visible = await visibleUsers(services, viewerId, ids);
      const shown = [...visible];
      const records = shown.length > 0 ? await services.presence.get(shown, services.now()) : [];
      const status = new Map(records.map((r) => [r.userId, r.status]));
      return ids.map((id) => {
        const s = status.get(id) ?? "OFFLINE";
        return id === viewerId ? s : publicStatus(s);
      });
    }, { cache }),
    readPointer: () => new DataLoader(async (channelIds) => {
      if (viewerId === null) return channelIds.map(() => null);
      const pointers = await services.readStates.pointers(viewerId, channelIds);
      return channelIds.map((id) => pointers.get(id) ?? null);
    }, { cache }),
    mentionCount: () => new DataLoader(async (queries: readonly MentionCountQuery[]) => {
      if (viewerId === null) return queries.map(() => 0);
      const counts = await services.readStates.countMentions(viewerId, queries, MENTION_COUNT_LIMIT);
      return queries.map((q) => counts.get(q.channelId) ?? 0);
    }, { cache, cacheKeyFn: (q) => `${q.channelId}:${q.after ?? ""}:${q.roleIds?.join(",") ?? "-"}` }),
    broadMentions: () => new DataLoader(async (keys) => {
      const byChannel = new Map<bigint, bigint[]>();
      for (const key of keys) {
        const [channelId, id] = key.split(":").map(BigInt) as [bigint, bigint];
        byChannel.set(channelId, [...(byChannel.get(channelId) ?? []), id]);
      }
      const found = new Map<string, BroadMentions>();
      await Promise.all(
        [...byChannel].map(async ([channelId, ids]) => {
          for (const [id, broad] of await services.readStates.getBroadMentions(channelId, ids)) found.set(`${channelId}:${id}`, broad);
        }),
      );
      return keys.map((key) => found.get(key) ?? NO_BROAD_MENTIONS);
    }, { cache }),
    memberRoles: () => new DataLoader(async (keys) => {
      const byGuild = new Map<bigint, bigint[]>();
      for (const key of keys) {
        const [guildId, userId] = key.split(":").map(BigInt) as [bigint, bigint];
        byGuild.set(guildId, [...(byGuild.get(guildId) ?? []), userId]);
      }
      const found = new Map<string, bigint[] | null>();
      await Promise.all(
        [...byGuild].map(async ([guildId, userIds]) => {
          for (const [userId, roleIds] of await services.roles.getMemberRoleIds(guildId, userIds)) found.set(`${guildId}:${userId}`, roleIds);
        }),
      );
      return keys.map((key) => found.get(key) ?? null);
    }, { cache }),
    guildRoles: () => new DataLoader((guildIds) => Promise.all(guildIds.map((id) => services.roles.listRoles(id))), { cache }),
  };
}

/** Unread and mention counts are exact up to this many; at the cap, clients show "99+" (see resolvers/read-states.ts). */
export const READ_COUNT_CAP = 100;
const MENTION_COUNT_LIMIT = READ_COUNT_CAP;

/**
 * Of `ids`, the users whose presence `viewerId` may see: themselves, guildmates and friends, but
 * nobody with a block between them either way (a DM alone shows nothing). Two reads in
 * parallel, as many as before friends existed.
 */
async function visibleUsers(services: Services, viewerId: bigint, ids: readonly bigint[]): Promise<Set<bigint>> {
  const others = ids.filter((id) => id !== viewerId);
  const visible = new Set<bigint>(ids.includes(viewerId) ? [viewerId] : []);
  if (others.length === 0) return visible;
  const [mates, pairs] = await Promise.all([services.guilds.filterGuildmates(viewerId, others), services.relationships.between(viewerId, others)]);
  const blocked = (id: bigint) => pairs.get(id)?.mine?.kind === "BLOCKED" || pairs.get(id)?.theirs?.kind === "BLOCKED";
  for (const id of mates) if (!blocked(id)) visible.add(id);
  for (const [id, pair] of pairs) if (pair.mine?.kind === "FRIEND") visible.add(id);
  return visible;
}

/** Builds the context for one request or operation. */
export function createContext(
  services: Services,
  auth: { viewer: UserRecord | null; tokenHash: string | null; sessionId?: bigint | null; authFailure: string | null },
  options: { longLived?: boolean; client?: ClientInfo; auditLogReason?: string | null } = {},
): RequestContext {
  return {
    services,
    ...auth,
    sessionId: auth.sessionId ?? null,
    auditLogReason: options.auditLogReason ?? null,
    loaders: createLoaders(services, { cache: !options.longLived, viewerId: auth.viewer?.id ?? null }),
    client: options.client ?? { address: "unknown", transport: "http" },
  };
}
