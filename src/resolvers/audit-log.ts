import type { RequestContext, Services } from "../context.js";
import { snowflakeAt } from "../ids/snowflake.js";
import type { AuditAction, AuditActor, AuditEntryRecord } from "../stores/audit-log-store.js";
import type { GuildRecord } from "../stores/guild-store.js";
import { guildWithPermission, requireViewer } from "./access.js";
import { optionalInt, text } from "./validate.js";

/** Longest audit log reason (Discord's limit). */
export const MAX_AUDIT_REASON = 512;

/** A reason given with a governance action: trimmed, 1..512 characters, or null. */
export function auditReason(reason: string | null | undefined): string | null {
  if (reason === null || reason === undefined || reason.trim() === "") return null;
  return text("reason", reason, 1, MAX_AUDIT_REASON);
}

/**
 * The viewer as the actor of a governance write: the store records the entry in the write's own
 * transaction (see stores/audit-log-store.ts). The reason is `reason` (already validated) when
 * the operation takes one, else the request's X-Audit-Log-Reason header, as in Discord.
 * Call it before the write: a bad header is BAD_USER_INPUT with nothing written.
 */
export function auditActor(ctx: RequestContext, reason: string | null = null): AuditActor {
  return { entryId: ctx.services.newId(), actorId: requireViewer(ctx).id, reason: reason ?? auditReason(ctx.auditLogReason) };
}

/** The oldest entry id still inside the retention window. */
function retentionHorizon(services: Services): bigint {
  return snowflakeAt(services.now().getTime() - services.settings.auditLogRetentionDays * 86_400_000);
}

/**
 * A page of a guild's audit log, newest first (VIEW_AUDIT_LOG; FORBIDDEN otherwise), optionally
 * one action and/or one actor, at most 100 (default 50). Entries older than
 * AUDIT_LOG_RETENTION_DAYS are never shown, whether or not the prune has removed them yet.
 */
export async function listAuditLog(
  ctx: RequestContext,
  guild: GuildRecord,
  args: { first?: number | null; after?: bigint | null; action?: AuditAction | null; actorId?: bigint | null },
): Promise<{ entries: AuditEntryRecord[]; hasNextPage: boolean }> {
  const first = optionalInt("first", args.first, 1, 100) ?? 50;
  await guildWithPermission(ctx, guild.id, "VIEW_AUDIT_LOG", "read the audit log");
  const page = await ctx.services.auditLog.listEntries(guild.id, {
    beforeId: args.after ?? null,
    notBeforeId: retentionHorizon(ctx.services),
    action: args.action ?? null,
    actorId: args.actorId ?? null,
    limit: first + 1,
  });
  return { entries: page.slice(0, first), hasNextPage: page.length > first };
}

/**
 * Deletes entries past the retention window, in batches, every `intervalMs` (and once at
 * start); returns a function that stops it (waiting for a prune under way). Every instance runs it: deletes are idempotent, and
 * each batch is small, so instances running it together only share the work.
 */
export function startAuditLogPrune(services: Services, intervalMs = 3_600_000, batch = 5_000): () => Promise<void> {
  let running: Promise<void> | null = null;
  const prune = () => (running ??= pruneOnce().finally(() => (running = null)));
  const pruneOnce = async () => {
    try {
      const horizon = retentionHorizon(services);
      // A bounded number of batches per round: a huge backlog drains over a few rounds.
      for (let round = 0; round < 20; round++) {
        if ((await services.auditLog.pruneEntries(horizon, batch)) < batch) break;
      }
    } catch (error) {
      services.logger.warn("pruning the audit log failed; trying again later", { error });
    }
  };
  const timer = setInterval(() => void prune(), intervalMs);
  timer.unref();
  void prune();
  return async () => {
    clearInterval(timer);
    await running;
  };
}
