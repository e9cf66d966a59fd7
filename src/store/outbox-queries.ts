/** The notification delivery outbox: queueing, claiming due rows, outcomes, pruning, listing. */
import {
  and,
  asc,
  count,
  desc,
  eq,
  getTableColumns,
  inArray,
  lte,
  min,
  ne,
  type SQL,
  sql,
} from 'drizzle-orm';
import type { BatchItem } from 'drizzle-orm/batch';
import type { Db } from './db';
import { notificationOutbox, notifications, type OutboxRow } from './schema/notifications';

export interface OutboxEntry {
  notificationId: string;
  traceId: string;
  payload: string;
}

// 3 bound values an entry; SQLite allows 32,766 a statement.
const OUTBOX_CHUNK = 2000;

/**
 * Statements that queue deliveries for traces of a report. They must run in the same batch as,
 * and before, the trace inserts: an entry is kept only when its trace_id is not stored yet, i.e.
 * exactly when the trace insert that follows will store it (re-reported traces notify nobody).
 * (notification, trace) pairs already queued are skipped.
 */
export function outboxInsertStatements(
  db: Db,
  projectId: string,
  entries: OutboxEntry[],
  times: { now: number; expiresAt: number },
): BatchItem<'sqlite'>[] {
  const statements: BatchItem<'sqlite'>[] = [];
  for (let i = 0; i < entries.length; i += OUTBOX_CHUNK) {
    const values = sql.join(
      entries.slice(i, i + OUTBOX_CHUNK).map((e) => sql`(${e.notificationId}, ${e.traceId}, ${e.payload})`),
      sql`, `,
    );
    statements.push(
      db.run(sql`
        INSERT INTO notification_outbox
          (notification_id, project_id, trace_id, payload, status, attempts, next_attempt_at, expires_at, created_at)
        SELECT v.column1, ${projectId}, v.column2, v.column3, 'pending', 0, ${times.now}, ${times.expiresAt}, ${times.now}
        FROM (VALUES ${values}) AS v
        WHERE NOT EXISTS (SELECT 1 FROM traces t WHERE t.project_id = ${projectId} AND t.trace_id = v.column2)
        ON CONFLICT DO NOTHING`),
    );
  }
  return statements;
}

/**
 * Claims up to `limit` due deliveries for one attempt: pushes them to `leaseUntil` and counts the
 * attempt in one statement, so concurrent drains (cron, waitUntil, another isolate) never take
 * the same row; a drain that dies leaves its rows to be retried when the lease runs out.
 */
export async function claimDueDeliveries(
  db: Db,
  now: number,
  leaseUntil: number,
  limit: number,
): Promise<OutboxRow[]> {
  const due = db
    .select({ id: notificationOutbox.id })
    .from(notificationOutbox)
    .where(and(eq(notificationOutbox.status, 'pending'), lte(notificationOutbox.nextAttemptAt, now)))
    .orderBy(asc(notificationOutbox.nextAttemptAt))
    .limit(limit);
  return db
    .update(notificationOutbox)
    .set({ nextAttemptAt: leaseUntil, attempts: sql`${notificationOutbox.attempts} + 1` })
    .where(inArray(notificationOutbox.id, due))
    .returning();
}

/** When the next pending delivery falls due (epoch ms), or undefined when none is pending. */
export async function nextDueAt(db: Db): Promise<number | undefined> {
  const [row] = await db
    .select({ at: min(notificationOutbox.nextAttemptAt) })
    .from(notificationOutbox)
    .where(eq(notificationOutbox.status, 'pending'));
  return row?.at ?? undefined;
}

export interface AttemptOutcome {
  id: number;
  notificationId: string;
  /** The attempt number this outcome belongs to: a stale drain must not overwrite a newer one. */
  attempts: number;
  status: 'delivered' | 'pending' | 'failed';
  /** For pending: when to retry; otherwise when it settled. */
  at: number;
  statusCode: number | null;
  error: string | null;
}

/** Records the outcome of a drain's attempts, and each rule's latest outcome, in one batch. */
export async function recordOutcomes(db: Db, outcomes: AttemptOutcome[], now: number): Promise<void> {
  if (outcomes.length === 0) return;
  const statements: BatchItem<'sqlite'>[] = outcomes.map((o) =>
    db
      .update(notificationOutbox)
      .set({
        status: o.status,
        nextAttemptAt: o.at,
        lastStatusCode: o.statusCode,
        lastError: o.error,
        ...(o.status === 'delivered' ? { deliveredAt: o.at } : {}),
      })
      .where(and(eq(notificationOutbox.id, o.id), eq(notificationOutbox.attempts, o.attempts))),
  );
  const latest = new Map(outcomes.map((o) => [o.notificationId, o]));
  for (const [id, o] of latest) {
    statements.push(
      db
        .update(notifications)
        .set({
          lastDeliveryAt: now,
          lastDeliveryStatus: o.status === 'pending' ? 'retrying' : o.status,
          lastDeliveryError: o.error,
        })
        .where(eq(notifications.id, id)),
    );
  }
  await db.batch(statements as [BatchItem<'sqlite'>, ...BatchItem<'sqlite'>[]]);
}

/** Deletes up to `limit` delivered or failed rows that settled before `before`. */
export async function pruneSettledDeliveries(db: Db, before: number, limit: number): Promise<number> {
  const old = (status: 'delivered' | 'failed') =>
    db
      .select({ id: notificationOutbox.id })
      .from(notificationOutbox)
      .where(and(eq(notificationOutbox.status, status), sql`${notificationOutbox.nextAttemptAt} < ${before}`))
      .limit(limit);
  let pruned = 0;
  for (const status of ['delivered', 'failed'] as const) {
    // Read first: this runs after every drain, and an empty DELETE would still take the write lock.
    const ids = (await old(status)).map((row) => row.id);
    if (ids.length === 0) continue;
    await db.delete(notificationOutbox).where(inArray(notificationOutbox.id, ids));
    pruned += ids.length;
  }
  return pruned;
}

/** Pending and failed deliveries per rule of a project. */
export async function outboxCounts(db: Db, ruleIds: string[]) {
  if (ruleIds.length === 0) return [];
  return db
    .select({
      notificationId: notificationOutbox.notificationId,
      status: notificationOutbox.status,
      n: count(),
    })
    .from(notificationOutbox)
    .where(
      and(inArray(notificationOutbox.notificationId, ruleIds), ne(notificationOutbox.status, 'delivered')),
    )
    .groupBy(notificationOutbox.notificationId, notificationOutbox.status);
}

/** A project's deliveries, newest first, optionally of one rule and/or one status. */
export async function listOutboxRows(
  db: Db,
  projectId: string,
  filter: { notificationId?: string; status?: OutboxRow['status']; limit: number },
): Promise<Omit<OutboxRow, 'payload'>[]> {
  const where: SQL[] = [eq(notificationOutbox.projectId, projectId)];
  if (filter.notificationId) where.push(eq(notificationOutbox.notificationId, filter.notificationId));
  if (filter.status) where.push(eq(notificationOutbox.status, filter.status));
  const { payload: _payload, ...columns } = getTableColumns(notificationOutbox);
  return db
    .select(columns)
    .from(notificationOutbox)
    .where(and(...where))
    .orderBy(desc(notificationOutbox.id))
    .limit(filter.limit);
}
