import { and, asc, desc, eq, gt, lt, lte, notInArray, type Placeholder, type SQL, sql } from 'drizzle-orm';
import type { Db } from './db';
import { traces } from './schema/traces';
import { trackers, transferredFiles } from './schema/trackers';
import { traceJson } from './trace-json';

export type TransferredFileRow = typeof transferredFiles.$inferSelect;
export type NewTransferredFileRow = typeof transferredFiles.$inferInsert;

export interface TraceRange {
  projectId: string;
  trackerName: string;
  /** Exclusive lower bound (the cursor). */
  afterSeq: number;
  /** Inclusive upper bound, when the range is closed. */
  toSeq?: number;
  /** Services the tracker does not transfer (`management_event_selector.exclude_service`). */
  excludeServices?: string[] | null;
}

/**
 * A tracker's traces in `seq` order. The unary `+` keeps SQLite off the `(project_id, …)`
 * indexes: with them it would read and sort every trace of the project; on the rowid it reads
 * only the range after the cursor.
 */
function inRange(range: Omit<TraceRange, 'afterSeq'> & { afterSeq: number | Placeholder }): SQL {
  const conditions = [
    gt(traces.seq, range.afterSeq),
    sql`+${traces.projectId} = ${range.projectId}`,
    eq(traces.trackerName, range.trackerName),
  ];
  if (range.toSeq !== undefined) conditions.push(lte(traces.seq, range.toSeq));
  if (range.excludeServices?.length) conditions.push(notInArray(traces.serviceType, range.excludeServices));
  return and(...conditions)!;
}

export interface TraceJsonRow {
  seq: number;
  serviceType: string;
  time: number;
  /** The trace in the API's shape, as JSON text. */
  json: string;
}

/**
 * Reads a closed range (`toSeq` set) in chunks of up to `limit` traces as API JSON, in ingestion
 * order: `read(afterSeq)` returns the chunk after `afterSeq`. A chunk is one row: each column is
 * the chunk's values joined in `seq` order, the JSON separated by newlines (which JSON built by
 * SQLite never contains raw). One row instead of `limit` spares the client its per-row result
 * objects, which cost about as much as building the JSON. The aggregates see the rows in the
 * subquery's order (pinned by a test; an explicit ORDER BY in them is 2.5× slower): ADR 0002.
 */
export function traceJsonReader(
  db: Db,
  range: Omit<TraceRange, 'afterSeq'>,
  limit: number,
): (afterSeq: number) => Promise<TraceJsonRow[]> {
  const chunk = db
    .select({
      seq: traces.seq,
      serviceType: traces.serviceType,
      time: traces.time,
      json: sql`${traceJson}`.as('json'),
    })
    .from(traces)
    .where(inRange({ ...range, afterSeq: sql.placeholder('afterSeq') }))
    .orderBy(asc(traces.seq))
    .limit(limit)
    .as('chunk');
  const query = db
    .select({
      count: sql<number>`count(*)`,
      seqs: sql<string | null>`group_concat(${chunk.seq})`,
      services: sql<string | null>`group_concat(${chunk.serviceType})`,
      times: sql<string | null>`group_concat(${chunk.time})`,
      json: sql<string | null>`group_concat(${chunk.json}, char(10))`,
    })
    .from(chunk)
    .prepare();
  return async (afterSeq) => {
    const [row] = await query.all({ afterSeq });
    if (
      !row?.count ||
      row.seqs === null ||
      row.services === null ||
      row.times === null ||
      row.json === null
    ) {
      return [];
    }
    const seqs = row.seqs.split(',');
    const services = row.services.split(',');
    const times = row.times.split(',');
    const json = row.json.split('\n');
    if (json.length !== row.count || seqs.length !== row.count) {
      throw new Error(
        `Transfer read ${json.length} JSON texts for ${row.count} traces after seq ${afterSeq}`,
      );
    }
    return json.map((text, i) => ({
      seq: Number(seqs[i]),
      serviceType: services[i]!,
      time: Number(times[i]),
      json: text,
    }));
  };
}

/**
 * Where a page of at most `size` traces after the cursor ends: the seq of the size-th trace, or of
 * the last one when fewer are waiting; undefined when none is.
 */
export async function pageEnd(db: Db, range: TraceRange, size: number): Promise<number | undefined> {
  const [nth] = await db
    .select({ seq: traces.seq })
    .from(traces)
    .where(inRange(range))
    .orderBy(asc(traces.seq))
    .limit(1)
    .offset(size - 1);
  if (nth) return nth.seq;
  const [last] = await db
    .select({ seq: sql<number | null>`max(${traces.seq})` })
    .from(traces)
    .where(inRange(range));
  return last?.seq ?? undefined;
}

/**
 * How many traces wait after the cursor, counted up to `cap` (then `capped`). Counting reads each
 * waiting row, so a huge backlog is only known to be at least `cap`: the cost stays bounded.
 */
export async function countBacklog(
  db: Db,
  range: TraceRange,
  cap: number,
): Promise<{ count: number; capped: boolean }> {
  const waiting = db.select({ one: sql`1` }).from(traces).where(inRange(range)).limit(cap).as('waiting');
  const [row] = await db.select({ n: sql<number>`count(*)` }).from(waiting);
  const count = row?.n ?? 0;
  return { count, capped: count >= cap };
}

/** The first trace of the range (the oldest waiting, in ingestion order). */
export async function firstInRange(
  db: Db,
  range: TraceRange,
): Promise<{ seq: number; time: number; recordTime: number } | undefined> {
  const [row] = await db
    .select({ seq: traces.seq, time: traces.time, recordTime: traces.recordTime })
    .from(traces)
    .where(inRange(range))
    .orderBy(asc(traces.seq))
    .limit(1);
  return row;
}

export async function isFileRecorded(db: Db, bucket: string, objectKey: string): Promise<boolean> {
  const [row] = await db
    .select({ id: transferredFiles.id })
    .from(transferredFiles)
    .where(and(eq(transferredFiles.bucket, bucket), eq(transferredFiles.objectKey, objectKey)))
    .limit(1);
  return row !== undefined;
}

/**
 * Records an uploaded file and, when it completes the page, moves the cursor — atomically
 * (`db.batch`). The cursor moves only from the value the page started at, so a concurrent run or
 * a re-enable that moved it meanwhile is not undone; a file already recorded is not doubled.
 */
export async function recordTransferredFile(
  db: Db,
  file: NewTransferredFileRow,
  cursorMove?: { trackerId: string; from: number; to: number; at: number },
): Promise<void> {
  const insert = db.insert(transferredFiles).values(file).onConflictDoNothing();
  if (!cursorMove) {
    await insert;
    return;
  }
  await db.batch([
    insert,
    db
      .update(trackers)
      .set({
        transferCursor: cursorMove.to,
        transferPlanEnd: null,
        transferPlanAt: null,
        lastTransferAt: cursorMove.at,
      })
      .where(and(eq(trackers.id, cursorMove.trackerId), eq(trackers.transferCursor, cursorMove.from))),
  ]);
}

/** Moves the cursor over a page that held nothing to write (e.g. every file already recorded). */
export async function moveCursor(
  db: Db,
  move: { trackerId: string; from: number; to: number; at: number },
): Promise<void> {
  await db
    .update(trackers)
    .set({ transferCursor: move.to, transferPlanEnd: null, transferPlanAt: null, lastTransferAt: move.at })
    .where(and(eq(trackers.id, move.trackerId), eq(trackers.transferCursor, move.from)));
}

/** Fixes a page plan unless one exists or the cursor moved; returns the tracker's plan after. */
export async function fixPlan(
  db: Db,
  plan: { trackerId: string; cursor: number; end: number; at: number },
): Promise<{ cursor: number; end: number | null; at: number | null } | undefined> {
  await db
    .update(trackers)
    .set({ transferPlanEnd: plan.end, transferPlanAt: plan.at })
    .where(
      and(
        eq(trackers.id, plan.trackerId),
        eq(trackers.transferCursor, plan.cursor),
        sql`${trackers.transferPlanEnd} is null`,
      ),
    );
  const [row] = await db
    .select({ cursor: trackers.transferCursor, end: trackers.transferPlanEnd, at: trackers.transferPlanAt })
    .from(trackers)
    .where(eq(trackers.id, plan.trackerId));
  return row;
}

/** Files of a tracker, newest first, optionally of one UTC day window and service. */
export async function selectTransferredFiles(
  db: Db,
  filter: {
    projectId: string;
    trackerName: string;
    from?: number;
    to?: number;
    serviceType?: string;
    beforeId?: number;
  },
  limit: number,
): Promise<TransferredFileRow[]> {
  const conditions = [
    eq(transferredFiles.projectId, filter.projectId),
    eq(transferredFiles.trackerName, filter.trackerName),
  ];
  if (filter.from !== undefined) conditions.push(sql`${transferredFiles.uploadedAt} >= ${filter.from}`);
  if (filter.to !== undefined) conditions.push(lt(transferredFiles.uploadedAt, filter.to));
  if (filter.serviceType !== undefined) conditions.push(eq(transferredFiles.serviceType, filter.serviceType));
  if (filter.beforeId !== undefined) conditions.push(lt(transferredFiles.id, filter.beforeId));
  return db
    .select()
    .from(transferredFiles)
    .where(and(...conditions))
    .orderBy(desc(transferredFiles.uploadedAt), desc(transferredFiles.id))
    .limit(limit);
}

/** Per UTC day of upload (and service): how many files, traces and bytes a tracker archived. */
export async function summarizeTransferredFiles(
  db: Db,
  projectId: string,
  trackerName: string,
): Promise<Array<{ day: string; serviceType: string | null; files: number; traces: number; bytes: number }>> {
  const day = sql<string>`strftime('%Y-%m-%d', ${transferredFiles.uploadedAt} / 1000, 'unixepoch')`;
  return db
    .select({
      day,
      serviceType: transferredFiles.serviceType,
      files: sql<number>`count(*)`,
      traces: sql<number>`sum(${transferredFiles.traceCount})`,
      bytes: sql<number>`sum(${transferredFiles.size})`,
    })
    .from(transferredFiles)
    .where(and(eq(transferredFiles.projectId, projectId), eq(transferredFiles.trackerName, trackerName)))
    .groupBy(day, transferredFiles.serviceType)
    .orderBy(desc(day), asc(transferredFiles.serviceType));
}

export async function selectTransferredFile(
  db: Db,
  projectId: string,
  id: number,
): Promise<TransferredFileRow | undefined> {
  const [row] = await db
    .select()
    .from(transferredFiles)
    .where(and(eq(transferredFiles.projectId, projectId), eq(transferredFiles.id, id)))
    .limit(1);
  return row;
}
