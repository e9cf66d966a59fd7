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
import {
  type NotificationRow,
  notificationOutbox,
  notifications,
  type OutboxRow,
  type TopicRow,
  topics,
} from './schema/notifications';
import { trackers } from './schema/trackers';

export type NewNotificationRow = typeof notifications.$inferInsert;

const isUniqueViolation = (error: unknown) => {
  const cause = (error as { cause?: { code?: string }; code?: string }) ?? {};
  return (cause.cause?.code ?? cause.code ?? '').startsWith('SQLITE_CONSTRAINT');
};

/**
 * Inserts a rule unless the name is taken or the project already has `quota` rules — checked in
 * the same statement, so two concurrent creates cannot both take the last slot.
 */
export async function insertNotification(
  db: Db,
  row: NewNotificationRow & { createTime: number; updatedAt: number },
  quota: number,
): Promise<'created' | 'name-taken' | 'quota-reached'> {
  const inserted = await db.all<{ id: string }>(sql`
    INSERT INTO notifications
      (id, project_id, name, operation_type, operations, notify_user_list, status, topic_id, filter,
       secret, create_time, updated_at)
    SELECT ${row.id}, ${row.projectId}, ${row.name}, ${row.operationType}, ${row.operations ?? '[]'},
       ${row.notifyUserList ?? '[]'}, ${row.status}, ${row.topicId ?? null}, ${row.filter ?? null},
       ${row.secret}, ${row.createTime}, ${row.updatedAt}
    WHERE (SELECT count(*) FROM notifications WHERE project_id = ${row.projectId}) < ${quota}
    ON CONFLICT DO NOTHING
    RETURNING id`);
  if (inserted.length > 0) return 'created';
  return (await findNotificationByName(db, row.projectId, row.name)) ? 'name-taken' : 'quota-reached';
}

/** Replaces a rule's definition; 'name-taken' when another rule of the project has the new name. */
export async function updateNotificationRow(
  db: Db,
  projectId: string,
  id: string,
  values: Partial<NewNotificationRow>,
): Promise<NotificationRow | 'name-taken' | undefined> {
  try {
    const [row] = await db
      .update(notifications)
      .set(values)
      .where(and(eq(notifications.projectId, projectId), eq(notifications.id, id)))
      .returning();
    return row;
  } catch (error) {
    if (isUniqueViolation(error)) return 'name-taken';
    throw error;
  }
}

export async function findNotification(db: Db, projectId: string, id: string) {
  const [row] = await db
    .select()
    .from(notifications)
    .where(and(eq(notifications.projectId, projectId), eq(notifications.id, id)));
  return row;
}

export async function findNotificationsByIds(db: Db, ids: string[]): Promise<NotificationRow[]> {
  if (ids.length === 0) return [];
  return db.select().from(notifications).where(inArray(notifications.id, ids));
}

export async function findNotificationByName(db: Db, projectId: string, name: string) {
  const [row] = await db
    .select()
    .from(notifications)
    .where(and(eq(notifications.projectId, projectId), eq(notifications.name, name)));
  return row;
}

export async function listNotificationRows(
  db: Db,
  projectId: string,
  name?: string,
): Promise<NotificationRow[]> {
  const where = [eq(notifications.projectId, projectId)];
  if (name !== undefined) where.push(eq(notifications.name, name));
  return db
    .select()
    .from(notifications)
    .where(and(...where))
    .orderBy(asc(notifications.createTime), asc(notifications.id));
}

/** Deletes rules and their queued deliveries together; returns the ids that existed. */
export async function deleteNotificationRows(db: Db, projectId: string, ids: string[]): Promise<string[]> {
  const [, deleted] = await db.batch([
    db
      .delete(notificationOutbox)
      .where(
        and(eq(notificationOutbox.projectId, projectId), inArray(notificationOutbox.notificationId, ids)),
      ),
    db
      .delete(notifications)
      .where(and(eq(notifications.projectId, projectId), inArray(notifications.id, ids)))
      .returning({ id: notifications.id }),
  ]);
  return deleted.map((row) => row.id);
}

/** What matching needs about a project: its enabled rules and its trackers' status, in one round trip. */
export async function loadMatchingState(db: Db, projectId: string) {
  const [rules, trackerRows] = await db.batch([
    db
      .select()
      .from(notifications)
      .where(and(eq(notifications.projectId, projectId), eq(notifications.status, 'enabled'))),
    db
      .select({ name: trackers.trackerName, status: trackers.status })
      .from(trackers)
      .where(eq(trackers.projectId, projectId)),
  ]);
  return { rules, trackers: trackerRows };
}

export async function findTopic(db: Db, urn: string): Promise<TopicRow | undefined> {
  const [row] = await db.select().from(topics).where(eq(topics.urn, urn));
  return row;
}

export async function listTopicRows(db: Db, projectId: string): Promise<TopicRow[]> {
  return db.select().from(topics).where(eq(topics.projectId, projectId)).orderBy(asc(topics.urn));
}

/** Creates or repoints a topic; returns the stored row. */
export async function upsertTopic(db: Db, row: TopicRow): Promise<{ row: TopicRow; created: boolean }> {
  const existing = await findTopic(db, row.urn);
  const [stored] = await db
    .insert(topics)
    .values(row)
    .onConflictDoUpdate({ target: topics.urn, set: { endpointUrl: row.endpointUrl } })
    .returning();
  return { row: stored!, created: !existing };
}

export async function deleteTopicRow(db: Db, projectId: string, urn: string): Promise<boolean> {
  const deleted = await db
    .delete(topics)
    .where(and(eq(topics.projectId, projectId), eq(topics.urn, urn)))
    .returning({ urn: topics.urn });
  return deleted.length > 0;
}

export async function notificationsUsingTopic(db: Db, projectId: string, topicId: string) {
  return db
    .select({ id: notifications.id, name: notifications.name })
    .from(notifications)
    .where(and(eq(notifications.projectId, projectId), eq(notifications.topicId, topicId)));
}

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
