import { and, eq, getTableColumns, gte, sql } from 'drizzle-orm';
import type { BatchItem } from 'drizzle-orm/batch';
import type { SQLiteColumn } from 'drizzle-orm/sqlite-core';
import { wellFormedJsonText } from '../domain/text';
import type { Db } from './db';
import { type NewTraceRow, traces } from './schema/traces';
import { indexedFlag, scheduleIndexPass } from './staged-index';
import { traceJson } from './trace-json';
import { type KeepAlive, type MergeKind, runMergeableWrite, runWrite } from './write-queue';

const INSERT_COLUMNS = Object.entries(getTableColumns(traces)).filter(
  ([key]) => key !== 'seq' && key !== 'indexed',
) as Array<[keyof NewTraceRow, SQLiteColumn]>;

/**
 * One statement whatever the batch size: the rows travel as one JSON array of arrays and SQLite
 * unpacks them (`json_each`), instead of 24 bound values a row. It prepares in microseconds
 * (a 1,000-row VALUES list is ~50 KB of SQL to parse), crosses the wire to a libSQL server as one
 * argument, and was as fast as the VALUES list through the embedded driver.
 */
const insertHead = (indexed: 0 | 1) =>
  sql.raw(
    `insert into traces (${INSERT_COLUMNS.map(([, column]) => column.name).join(', ')}, indexed) select ${INSERT_COLUMNS.map((_, i) => `value ->> ${i}`).join(', ')}, ${indexed} from json_each(`,
  );
/** By `indexed`: 1 indexes the rows at once, 0 stages their slotted entries (`staged-index.ts`). */
const INSERT_HEADS = [insertHead(0), insertHead(1)] as const;
const INSERT_TAIL = sql.raw(') where true on conflict do nothing');
/** A merged insert says which rows it stored, so that each report gets its own count. */
const MERGED_TAIL = sql.raw(') where true on conflict do nothing returning project_id, trace_id');
const PROJECT_AT = INSERT_COLUMNS.findIndex(([key]) => key === 'projectId');
const TRACE_ID_AT = INSERT_COLUMNS.findIndex(([key]) => key === 'traceId');

type InsertRow = Array<string | number | null>;

/**
 * The rows as one JSON text. `->>` decodes a `\udc00` escape into bytes that are not UTF-8 (and
 * crash every later read): repaired here whatever the caller validated, in one pass over the text.
 */
const payloadOf = (rows: InsertRow[]) => wellFormedJsonText(JSON.stringify(rows));

/**
 * Concurrent reports without notifications share one insert (group commit, write-queue.ts). Of
 * rows with the same (project, trace_id), SQLite stores the first in `json_each` order, i.e. the
 * first report's: each report counts the returned rows it was first to claim.
 */
function traceInsert(db: Db): MergeKind<InsertRow> {
  return {
    statement: (rows, merged) =>
      db.run(
        sql`${INSERT_HEADS[indexedFlag(db, rows.length)]}${payloadOf(rows)}${merged ? MERGED_TAIL : INSERT_TAIL}`,
      ),
    split(result, parts) {
      const stored = new Set<string>();
      for (const row of (result as { rows: ArrayLike<unknown>[] }).rows) stored.add(`${row[0]}\n${row[1]}`);
      return parts.map((rows) => {
        let rowsAffected = 0;
        for (const row of rows) {
          const key = `${row[PROJECT_AT]}\n${row[TRACE_ID_AT]}`;
          if (stored.delete(key)) rowsAffected++;
        }
        return { rowsAffected };
      });
    },
  };
}

const kinds = new WeakMap<Db, MergeKind<InsertRow>>();

/**
 * Inserts traces, skipping (project, trace_id) pairs already stored (or repeated in `rows`);
 * returns how many were inserted. `runBefore` (the notification outbox) runs first in the same
 * batch, i.e. atomically with the traces: its statements look at which trace_ids are not stored yet.
 * `keepAlive`: the request's `waitUntil` (see `coalesceWrites`).
 */
export async function insertTraces(
  db: Db,
  rows: NewTraceRow[],
  runBefore: BatchItem<'sqlite'>[] = [],
  keepAlive?: KeepAlive,
): Promise<number> {
  const values = rows.map((row) => INSERT_COLUMNS.map(([key]) => (row[key] ?? null) as InsertRow[number]));
  let results: unknown[];
  if (runBefore.length > 0) {
    const head = INSERT_HEADS[indexedFlag(db, values.length)];
    const insert = db.run(sql`${head}${payloadOf(values)}${INSERT_TAIL}`);
    results = await runWrite(db, [...runBefore, insert], keepAlive);
  } else {
    let kind = kinds.get(db);
    if (!kind) {
      kind = traceInsert(db);
      kinds.set(db, kind);
    }
    results = await runMergeableWrite(db, kind, values, keepAlive);
  }
  scheduleIndexPass(db);
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
