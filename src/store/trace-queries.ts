import { and, eq, getTableColumns, gte, lt, lte, or, type SQL, sql } from 'drizzle-orm';
import type { BatchItem } from 'drizzle-orm/batch';
import type { SQLiteColumn } from 'drizzle-orm/sqlite-core';
import type { Db } from './db';
import { type NewTraceRow, SLOT_MS, slotOf, type TraceRow, traces } from './schema/traces';

interface FilterIndex {
  column: SQLiteColumn;
  /** The index a query driven by this filter walks (named, so a missing one is an error, not a scan). */
  index: string;
  /** Indexed as `(project_id, slot, column, time)`: walked slot by slot, newest first. */
  slotted: boolean;
}

const plain = (column: SQLiteColumn, index: string): FilterIndex => ({ column, index, slotted: false });
const slotted = (column: SQLiteColumn, index: string): FilterIndex => ({ column, index, slotted: true });

/**
 * Columns a trace query may filter on with exact, case-sensitive equality, most selective first:
 * the first filter present drives the query through its index, the others are checked on the rows
 * it yields. Naming the index (`INDEXED BY`) keeps the plan independent of statistics.
 */
export const FILTERS = {
  request_id: slotted(traces.requestId, 'traces_request_id_slot'),
  resource_id: slotted(traces.resourceId, 'traces_resource_id_slot'),
  resource_name: slotted(traces.resourceName, 'traces_resource_name_slot'),
  source_ip: slotted(traces.sourceIp, 'traces_source_ip_slot'),
  user: slotted(traces.userName, 'traces_user_slot'),
  trace_name: slotted(traces.traceName, 'traces_trace_name_slot'),
  resource_type: plain(traces.resourceType, 'traces_resource_type_time'),
  code: plain(traces.code, 'traces_code_time'),
  service_type: plain(traces.serviceType, 'traces_service_time'),
  trace_rating: plain(traces.traceRating, 'traces_rating_time'),
  tracker_name: plain(traces.trackerName, 'traces_tracker_time'),
} as const satisfies Record<string, FilterIndex>;

export type FilterName = keyof typeof FILTERS;

export interface TraceFilter {
  projectId: string;
  /** Inclusive window on `time`. */
  from: number;
  to: number;
  /** Keyset continuation: only traces strictly after this one in (time DESC, seq DESC). */
  after?: { time: number; seq: number };
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

// Raw SQL, because drizzle's builder cannot say `INDEXED BY`; rows are mapped back to TraceRow.
const COLUMNS = Object.entries(getTableColumns(traces)) as Array<[keyof TraceRow, SQLiteColumn]>;
const selectList = sql.join(
  COLUMNS.map(([, column]) => sql`${column}`),
  sql`, `,
);
const toTraceRow = (raw: Record<string, unknown>): TraceRow =>
  Object.fromEntries(COLUMNS.map(([key, column]) => [key, raw[column.name] ?? null])) as unknown as TraceRow;
const indexed = (index: string) => sql`${traces} indexed by ${sql.identifier(index)}`;
const newestFirst = sql`${traces.time} desc, ${traces.seq} desc`;

/**
 * Slots walked per step, newest first: 1 h, then 6 h, 1 day, then the rest of the window. A
 * frequent value fills the page from the first steps and the query stops there (the compound's
 * LIMIT skips the later arms); a rare one costs one index seek per slot of the window.
 */
const SLOT_STEPS = [4, 24, 96, Number.POSITIVE_INFINITY];

/** The slots of `[from, to]`, newest first, cut into the steps of `SLOT_STEPS`. */
export function slotSteps(from: number, to: number): number[][] {
  const steps: number[][] = [];
  let slot = Math.floor(to / SLOT_MS);
  const last = Math.floor(from / SLOT_MS);
  for (const size of SLOT_STEPS) {
    const step: number[] = [];
    while (slot >= last && step.length < size) step.push(slot--);
    if (step.length > 0) steps.push(step);
  }
  return steps;
}

/** Traces matching the filter, newest first by (time, seq), at most `limit`. */
export async function selectTraces(db: Db, filter: TraceFilter, limit: number): Promise<TraceRow[]> {
  const query = selectTracesSql(filter, limit);
  if (!query) return [];
  const rows = await db.all<Record<string, unknown>>(query);
  return rows.map(toTraceRow);
}

/** The statement of `selectTraces` (exported for EXPLAIN QUERY PLAN checks); none for an empty window. */
export function selectTracesSql(filter: TraceFilter, limit: number): SQL | undefined {
  const to = filter.after ? Math.min(filter.to, filter.after.time) : filter.to;
  if (to < filter.from) return undefined;
  const conditions: SQL[] = [
    eq(traces.projectId, filter.projectId),
    gte(traces.time, filter.from),
    lte(traces.time, to),
  ];
  if (filter.after) {
    const { time, seq } = filter.after;
    conditions.push(or(lt(traces.time, time), and(eq(traces.time, time), lt(traces.seq, seq)))!);
  }
  let driver: FilterIndex | undefined;
  for (const [name, spec] of Object.entries(FILTERS) as Array<[FilterName, FilterIndex]>) {
    const value = filter.equals[name];
    if (value === undefined) continue;
    driver ??= spec;
    conditions.push(eq(spec.column, value));
  }
  const where = and(...conditions);
  if (!driver?.slotted) {
    return sql`select ${selectList} from ${indexed(driver?.index ?? 'traces_project_time')}
        where ${where} order by ${newestFirst} limit ${limit}`;
  }
  // Covering index scans pick the seqs of the page (index entries end with time and seq), slot
  // steps newest first; only the rows of the page are then read from the table.
  const arms = slotSteps(filter.from, to).map(
    (slots) =>
      sql`select * from (select ${traces.seq} from ${indexed(driver.index)}
          where ${where} and ${slotOf(traces.time)} in (select value from json_each(${JSON.stringify(slots)}))
          order by ${newestFirst} limit ${limit})`,
  );
  return sql`select ${selectList} from ${traces}
      where ${traces.seq} in (${sql.join(arms, sql` union all `)} limit ${limit})
      order by ${newestFirst}`;
}

/** Number of traces stored for a project (all time still in the database). */
export async function countTraces(db: Db, projectId: string): Promise<number> {
  const [row] = await db
    .select({ n: sql<number>`count(*)` })
    .from(traces)
    .where(eq(traces.projectId, projectId));
  return row?.n ?? 0;
}
