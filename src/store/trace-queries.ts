import { and, eq, getTableColumns, gte, sql } from 'drizzle-orm';
import type { BatchItem } from 'drizzle-orm/batch';
import type { SQLiteColumn } from 'drizzle-orm/sqlite-core';
import { wellFormedJsonText } from '../domain/text';
import type { Db } from './db';
import { type NewTraceRow, traces } from './schema/traces';
import { traceJson } from './trace-json';
import { runWrite } from './write-queue';

const INSERT_COLUMNS = Object.entries(getTableColumns(traces)).filter(([key]) => key !== 'seq') as Array<
  [keyof NewTraceRow, SQLiteColumn]
>;

/**
 * One statement whatever the batch size: the rows travel as one JSON array of arrays and SQLite
 * unpacks them (`json_each`), instead of 24 bound values a row. It prepares in microseconds
 * (a 1,000-row VALUES list is ~50 KB of SQL to parse), crosses the wire to a libSQL server as one
 * argument, and was as fast as the VALUES list through the embedded driver.
 */
const INSERT_HEAD = sql.raw(
  `insert into traces (${INSERT_COLUMNS.map(([, column]) => column.name).join(', ')}) select ${INSERT_COLUMNS.map((_, i) => `value ->> ${i}`).join(', ')} from json_each(`,
);
const INSERT_TAIL = sql.raw(') where true on conflict do nothing');

/**
 * Inserts traces, skipping (project, trace_id) pairs already stored (or repeated in `rows`);
 * returns how many were inserted. `runBefore` (the notification outbox) runs first in the same
 * batch, i.e. atomically with the traces: its statements look at which trace_ids are not stored yet.
 */
export async function insertTraces(
  db: Db,
  rows: NewTraceRow[],
  runBefore: BatchItem<'sqlite'>[] = [],
): Promise<number> {
  // `->>` decodes a `\udc00` escape into bytes that are not UTF-8 (and crash every later read):
  // repaired here whatever the caller validated, in one pass over the text.
  const payload = wellFormedJsonText(
    JSON.stringify(rows.map((row) => INSERT_COLUMNS.map(([key]) => row[key] ?? null))),
  );
  const insert = db.run(sql`${INSERT_HEAD}${payload}${INSERT_TAIL}`);
  const results = await runWrite(db, [...runBefore, insert]);
  return (results.at(-1) as { rowsAffected: number }).rowsAffected;
}

/** Where a trace sits in query order (time, seq), for keyset continuation after it. */
export async function findTraceKey(
  db: Db,
  projectId: string,
  traceId: string,
): Promise<{ time: number; seq: number } | undefined> {
  const [row] = await db
    .select({ time: traces.time, seq: traces.seq })
    .from(traces)
    .where(and(eq(traces.projectId, projectId), eq(traces.traceId, traceId)))
    .limit(1);
  return row;
}

/** A trace in the API's shape as JSON text, if the project has it with `time` ≥ `notBefore`. */
export async function selectTraceJsonById(
  db: Db,
  projectId: string,
  traceId: string,
  notBefore: number,
): Promise<string | undefined> {
  const [row] = await db
    .select({ json: traceJson })
    .from(traces)
    .where(and(eq(traces.projectId, projectId), eq(traces.traceId, traceId), gte(traces.time, notBefore)))
    .limit(1);
  return row?.json;
}

/** Number of traces stored for a project (all time still in the database). */
export async function countTraces(db: Db, projectId: string): Promise<number> {
  const [row] = await db
    .select({ n: sql<number>`count(*)` })
    .from(traces)
    .where(eq(traces.projectId, projectId));
  return row?.n ?? 0;
}
