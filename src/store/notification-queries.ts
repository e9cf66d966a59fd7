import { and, asc, eq, inArray, sql } from 'drizzle-orm';
import type { Db } from './db';
import {
  type NotificationRow,
  notificationOutbox,
  notifications,
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
