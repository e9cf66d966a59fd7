import { and, asc, eq, isNotNull, ne, sql } from 'drizzle-orm';
import type { Db } from './db';
import { traces } from './schema/traces';
import { trackers } from './schema/trackers';

export type TrackerRow = typeof trackers.$inferSelect;
export type NewTrackerRow = typeof trackers.$inferInsert;
export type TrackerPatch = Partial<Omit<TrackerRow, 'id' | 'projectId' | 'trackerName' | 'createTime'>>;

/** The project's trackers (one by name when given), oldest first. */
export async function selectTrackers(db: Db, projectId: string, trackerName?: string): Promise<TrackerRow[]> {
  const where = trackerName
    ? and(eq(trackers.projectId, projectId), eq(trackers.trackerName, trackerName))
    : eq(trackers.projectId, projectId);
  return db.select().from(trackers).where(where).orderBy(asc(trackers.createTime), asc(trackers.trackerName));
}

export async function selectTracker(
  db: Db,
  projectId: string,
  trackerName: string,
): Promise<TrackerRow | undefined> {
  const [row] = await selectTrackers(db, projectId, trackerName);
  return row;
}

export async function selectTrackerById(db: Db, id: string): Promise<TrackerRow | undefined> {
  const [row] = await db.select().from(trackers).where(eq(trackers.id, id)).limit(1);
  return row;
}

/** Inserts a tracker; false when the project already has one of that name. */
export async function insertTracker(db: Db, row: NewTrackerRow): Promise<boolean> {
  const inserted = await db.insert(trackers).values(row).onConflictDoNothing().returning({ id: trackers.id });
  return inserted.length > 0;
}

export async function updateTracker(db: Db, id: string, patch: TrackerPatch): Promise<void> {
  await db.update(trackers).set(patch).where(eq(trackers.id, id));
}

/**
 * Sets a transfer outcome on the tracker unless it was disabled meanwhile (a PUT between the
 * transfer's start and its end wins): `error` with its detail, or back to `enabled` from `error`.
 */
export async function setTransferStatus(
  db: Db,
  id: string,
  outcome: { status: 'error'; detail: string; lastError: string; bucketName: string } | { status: 'enabled' },
): Promise<void> {
  if (outcome.status === 'enabled') {
    await db
      .update(trackers)
      .set({ status: 'enabled', detail: null, lastError: null })
      .where(and(eq(trackers.id, id), eq(trackers.status, 'error')));
    return;
  }
  await db
    .update(trackers)
    .set({ status: 'error', detail: outcome.detail, lastError: outcome.lastError })
    .where(
      and(eq(trackers.id, id), ne(trackers.status, 'disabled'), eq(trackers.bucketName, outcome.bucketName)),
    );
}

/** Deletes the project's trackers of a type (one by name when given); returns the rows deleted. */
export async function deleteTrackers(
  db: Db,
  projectId: string,
  trackerType: string,
  trackerName?: string,
): Promise<TrackerRow[]> {
  const conditions = [eq(trackers.projectId, projectId), eq(trackers.trackerType, trackerType)];
  if (trackerName !== undefined) conditions.push(eq(trackers.trackerName, trackerName));
  return db
    .delete(trackers)
    .where(and(...conditions))
    .returning();
}

/** Trackers that transfer: not disabled (an `error` tracker keeps trying) and with a bucket. */
export async function selectTransferringTrackers(db: Db): Promise<TrackerRow[]> {
  return db
    .select()
    .from(trackers)
    .where(and(ne(trackers.status, 'disabled'), isNotNull(trackers.bucketName)))
    .orderBy(sql`coalesce(${trackers.lastTransferAt}, 0)`, asc(trackers.id));
}

/** The highest `seq` handed out so far (0 when no trace was ever stored). */
export async function maxSeq(db: Db): Promise<number> {
  // sqlite_sequence keeps the AUTOINCREMENT high-water mark even after retention emptied the table.
  const [row] = await db.all<{ seq: number | null }>(
    sql`select max(coalesce((select seq from sqlite_sequence where name = 'traces'), 0), coalesce((select max(${traces.seq}) from ${traces}), 0)) as seq`,
  );
  return Number(row?.seq ?? 0);
}
