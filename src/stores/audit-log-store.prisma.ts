import type { PrismaClient } from "./prisma/database.js";
import type { AuditAction, AuditActor, AuditChange, AuditEntryRecord, AuditLogStore, AuditTargetKind } from "./audit-log-store.js";

type Tx = Parameters<Parameters<PrismaClient["$transaction"]>[0]>[0];

/** What one governance write records about itself (see {@link recordAudit}). */
export interface AuditFacts {
  guildId: bigint;
  action: AuditAction;
  targetKind: AuditTargetKind;
  targetId: bigint | string;
  changes: AuditChange[];
}

/**
 * Writes the audit entry of a governance write inside that write's transaction (so the entry
 * exists if and only if the action does). Does nothing without an actor (a write made by the
 * system, or by a test of the store alone).
 */
export async function recordAudit(tx: Tx, actor: AuditActor | undefined, facts: AuditFacts): Promise<void> {
  if (!actor) return;
  await tx.auditLogEntry.create({
    data: {
      id: actor.entryId,
      guildId: facts.guildId,
      actorId: actor.actorId,
      action: facts.action,
      targetKind: facts.targetKind,
      targetId: String(facts.targetId),
      changes: facts.changes as unknown as object[],
      reason: actor.reason,
    },
  });
}

/** {@link AuditLogStore} on Postgres through Prisma. */
export class PrismaAuditLogStore implements AuditLogStore {
  constructor(private readonly prisma: PrismaClient) {}

  async listEntries(
    guildId: bigint,
    query: { beforeId: bigint | null; notBeforeId: bigint; action: AuditAction | null; actorId: bigint | null; limit: number },
  ): Promise<AuditEntryRecord[]> {
    const rows = await this.prisma.auditLogEntry.findMany({
      where: {
        guildId,
        id: { gte: query.notBeforeId, ...(query.beforeId === null ? {} : { lt: query.beforeId }) },
        ...(query.action === null ? {} : { action: query.action }),
        ...(query.actorId === null ? {} : { actorId: query.actorId }),
      },
      orderBy: { id: "desc" },
      take: query.limit,
    });
    return rows.map((row) => ({
      id: row.id,
      guildId: row.guildId,
      actorId: row.actorId,
      action: row.action as AuditAction,
      targetKind: row.targetKind as AuditTargetKind,
      targetId: row.targetId,
      changes: row.changes as unknown as AuditChange[],
      reason: row.reason,
    }));
  }

  async pruneEntries(beforeId: bigint, limit: number): Promise<number> {
    // Oldest first, in bounded batches: a prune never holds a long lock on a busy table.
    return this.prisma.$executeRaw`
      DELETE FROM audit_log_entries WHERE id IN (
        SELECT id FROM audit_log_entries WHERE id < ${beforeId} ORDER BY id LIMIT ${limit})`;
  }
}
