import { and, desc, eq, gte, lt, lte, or, type SQL, sql } from 'drizzle-orm';
import type { BatchItem } from 'drizzle-orm/batch';
import type { Db } from './db';
import { type NewTraceRow, type TraceRow, traces } from './schema/traces';

/** Columns a trace query may filter on with exact, case-sensitive equality. */
export const FILTER_COLUMNS = {
  tracker_name: traces.trackerName,
  service_type: traces.serviceType,
  user: traces.userName,
  resource_id: traces.resourceId,
  resource_name: traces.resourceName,
  resource_type: traces.resourceType,
  trace_name: traces.traceName,
  trace_rating: traces.traceRating,
  source_ip: traces.sourceIp,
  code: traces.code,
  request_id: traces.requestId,
} as const;

export type FilterName = keyof typeof FILTER_COLUMNS;

export interface TraceFilter {
  projectId: string;
  from: number;
  to: number;
  /** Keyset continuation: only traces strictly after this one in (time DESC, trace_id DESC). */
  after?: { time: number; traceId: string };
  equals: Partial<Record<FilterName, string>>;
}

// 25 columns a row; SQLite allows 32,766 bound parameters a statement.
const INSERT_CHUNK = 1000;

/**
 * Inserts traces, skipping (project, trace_id) pairs already stored; returns the ids inserted.
 * `runBefore` (the notification outbox) runs first in the same batch, i.e. atomically with the
 * traces: its statements look at which trace_ids are not stored yet.
 */
export async function insertTraces(
  db: Db,
  rows: NewTraceRow[],
  runBefore: BatchItem<'sqlite'>[] = [],
): Promise<Set<string>> {
  const inserted = new Set<string>();
  const inserts = [];
  for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
    inserts.push(
      db
        .insert(traces)
        .values(rows.slice(i, i + INSERT_CHUNK))
        .onConflictDoNothing()
        .returning({ traceId: traces.traceId }),
    );
  }
  const results = await db.batch([...runBefore, ...inserts] as [
    BatchItem<'sqlite'>,
    ...BatchItem<'sqlite'>[],
  ]);
  for (const result of results.slice(runBefore.length) as Array<Array<{ traceId: string }>>) {
    for (const row of result) inserted.add(row.traceId);
  }
  return inserted;
}

export async function findTrace(db: Db, projectId: string, traceId: string): Promise<TraceRow | undefined> {
  const [row] = await db
    .select()
    .from(traces)
    .where(and(eq(traces.projectId, projectId), eq(traces.traceId, traceId)))
    .limit(1);
  return row;
}

/** Traces matching the filter, newest first by (time, trace_id), at most `limit`. */
export async function selectTraces(db: Db, filter: TraceFilter, limit: number): Promise<TraceRow[]> {
  const conditions: SQL[] = [
    eq(traces.projectId, filter.projectId),
    gte(traces.time, filter.from),
    lte(traces.time, filter.to),
  ];
  for (const [name, value] of Object.entries(filter.equals) as Array<[FilterName, string | undefined]>) {
    if (value !== undefined) conditions.push(eq(FILTER_COLUMNS[name], value));
  }
  if (filter.after) {
    const { time, traceId } = filter.after;
    conditions.push(or(lt(traces.time, time), and(eq(traces.time, time), lt(traces.traceId, traceId)))!);
  }
  return db
    .select()
    .from(traces)
    .where(and(...conditions))
    .orderBy(desc(traces.time), desc(traces.traceId))
    .limit(limit);
}

/** Number of traces stored for a project (all time still in the database). */
export async function countTraces(db: Db, projectId: string): Promise<number> {
  const [row] = await db
    .select({ n: sql<number>`count(*)` })
    .from(traces)
    .where(eq(traces.projectId, projectId));
  return row?.n ?? 0;
}
