import type { Overwrite } from "../permissions/compute.js";

/**
 * What a guild's audit log records: Discord's action names, for the actions Concord has.
 * Ownership transfers are GUILD_UPDATE with an `owner_id` change, as in Discord.
 */
export const AUDIT_ACTIONS = [
  "GUILD_UPDATE",
  "CHANNEL_CREATE",
  "CHANNEL_UPDATE",
  "CHANNEL_DELETE",
  "CHANNEL_OVERWRITE_CREATE",
  "CHANNEL_OVERWRITE_UPDATE",
  "CHANNEL_OVERWRITE_DELETE",
  "MEMBER_KICK",
  "MEMBER_BAN_ADD",
  "MEMBER_BAN_REMOVE",
  "MEMBER_UPDATE",
  "MEMBER_ROLE_UPDATE",
  "ROLE_CREATE",
  "ROLE_UPDATE",
  "ROLE_DELETE",
  "INVITE_CREATE",
  "INVITE_DELETE",
] as const;

export type AuditAction = (typeof AUDIT_ACTIONS)[number];

/** What an entry is about. */
export type AuditTargetKind = "GUILD" | "CHANNEL" | "ROLE" | "USER" | "INVITE";

/**
 * One changed field: its value before and after, each JSON-encoded (bigints and ids as strings,
 * dates as ISO strings), null when the field had no value on that side (a creation has no
 * `before`, a deletion no `after`, a lifted timeout no `after`).
 */
export interface AuditChange {
  key: string;
  before: string | null;
  after: string | null;
}

/** One stored entry. */
export interface AuditEntryRecord {
  /** A snowflake: orders entries by time. */
  id: bigint;
  guildId: bigint;
  actorId: bigint;
  action: AuditAction;
  targetKind: AuditTargetKind;
  /** The target's id as text (an invite's code for INVITE). */
  targetId: string;
  changes: AuditChange[];
  reason: string | null;
}

/**
 * Who is acting, handed to a store write so it records its own audit entry in the same
 * transaction (the write knows what it changed; the resolver knows who asked and why). A write
 * that changes nothing records nothing.
 */
export interface AuditActor {
  /** The new entry's id (a fresh snowflake). */
  entryId: bigint;
  actorId: bigint;
  reason: string | null;
}

/** Reading and pruning guilds' audit logs (entries are written by the governance writes themselves). */
export interface AuditLogStore {
  /**
   * A guild's entries, newest first, strictly older than `beforeId` when given, optionally only
   * one action and/or one actor, only entries with id >= `notBeforeId` (the retention horizon:
   * entries past it are never shown, pruned or not); at most `limit`.
   */
  listEntries(
    guildId: bigint,
    query: { beforeId: bigint | null; notBeforeId: bigint; action: AuditAction | null; actorId: bigint | null; limit: number },
  ): Promise<AuditEntryRecord[]>;

  /** Deletes at most `limit` entries (of any guild) with id < `beforeId`; returns how many. Idempotent. */
  pruneEntries(beforeId: bigint, limit: number): Promise<number>;
}

/** Every field as removed (a deletion's changes: `before` only). */
export function removedFields(fields: Record<string, unknown>): AuditChange[] {
  return Object.entries(fields).map(([key, value]) => change(key, value, undefined));
}

/** An overwrite's audited fields, with Discord's keys (`type` 0 for a role, 1 for a member). */
export function auditedOverwrite(o: Overwrite): Record<string, unknown> {
  return { id: o.targetId, type: o.targetKind === "ROLE" ? 0 : 1, allow: o.allow, deny: o.deny };
}

/** A change of one field, JSON-encoding both sides (bigints as strings); null for an absent or null value. */
export function change(key: string, before: unknown, after: unknown): AuditChange {
  return { key, before: encode(before), after: encode(after) };
}

/** The fields that differ between `before` and `after` (compared by their encodings). */
export function diff(before: Record<string, unknown>, after: Record<string, unknown>): AuditChange[] {
  const changes: AuditChange[] = [];
  for (const key of Object.keys(after)) {
    const entry = change(key, before[key], after[key]);
    if (entry.before !== entry.after) changes.push(entry);
  }
  return changes;
}

function encode(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === "bigint" ? v.toString() : v));
}
