import { and, eq, gte, inArray, lt, lte, ne, or, type SQL, sql } from 'drizzle-orm';
import type { SQLiteColumn } from 'drizzle-orm/sqlite-core';
import type { Db } from './db';
import { SLOT_MS, slotOf, traces } from './schema/traces';
import { traceJson } from './trace-json';

/**
 * The trace list query (reference §3.1): equality filters, a time window, newest first by
 * (time, seq), keyset continuation. Every plan walks one named index; see
 * docs/adr/0001-trace-storage.md for why the indexes are what they are.
 */

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
  access_key_id: slotted(traces.accessKeyId, 'traces_access_key_id_slot'),
  resource_id: slotted(traces.resourceId, 'traces_resource_id_slot'),
  resource_name: slotted(traces.resourceName, 'traces_resource_name_slot'),
  source_ip: slotted(traces.sourceIp, 'traces_source_ip_slot'),
  user: slotted(traces.userName, 'traces_user_slot'),
  enterprise_project_id: slotted(traces.enterpriseProjectId, 'traces_enterprise_project_slot'),
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
  /** Exact values; several values of one filter match any of them. */
  equals: Partial<Record<FilterName, string | string[]>>;
  /** Values that start with these (walked through the same index as the exact value). */
  prefixes?: Partial<Record<PrefixFilter, string>>;
  /**
   * Traces of every tracker but this one (`trace_type=data`: all data trackers). Checked on the
   * rows the driving index yields: with no other filter that is the project's time index.
   */
  notTracker?: string;
}

/** Filters that can match a prefix: the slotted index holds the value, so a prefix is a range of it. */
export const PREFIX_FILTERS = ['resource_id', 'resource_name'] as const;
export type PrefixFilter = (typeof PREFIX_FILTERS)[number];

/**
 * The least string greater than every string starting with `prefix` (its last code point plus
 * one, skipping the surrogate block): `column >= prefix AND column < bound` is the prefix as an
 * index range (SQLite compares text as UTF-8 bytes, i.e. by code point). None when no such
 * bound exists (a prefix of U+10FFFF only).
 */
export function prefixBound(prefix: string): string | undefined {
  const points = [...prefix];
  while (points.length > 0) {
    const last = points.pop()!.codePointAt(0)!;
    if (last < 0x10ffff) return points.join('') + String.fromCodePoint(last === 0xd7ff ? 0xe000 : last + 1);
  }
  return undefined;
}

function condition(column: SQLiteColumn, value: string | string[] | undefined, prefix: string | undefined) {
  const parts: SQL[] = [];
  if (Array.isArray(value)) parts.push(value.length === 1 ? eq(column, value[0]!) : inArray(column, value));
  else if (value !== undefined) parts.push(eq(column, value));
  if (prefix !== undefined) {
    parts.push(gte(column, prefix));
    const bound = prefixBound(prefix);
    if (bound !== undefined) parts.push(lt(column, bound));
  }
  return parts;
}

// Raw SQL, because drizzle's builder cannot say `INDEXED BY`.
const selectList = sql`${traces.traceId} as trace_id, ${traceJson} as json`;
const indexed = (index: string) => sql`${traces} indexed by ${sql.identifier(index)}`;
const newestFirst = sql`${traces.time} desc, ${traces.seq} desc`;

/**
 * Slots (hours) walked per step, newest first: the current and the last hour, the 6 before, the
 * day before, then the rest of the window. A frequent value fills the page from the first steps
 * and the query stops there (the compound's LIMIT skips the later arms); a rare one costs one
 * index seek per hour of the window (169 for 7 days, ~0.2 ms).
 */
const SLOT_STEPS = [2, 6, 24, Number.POSITIVE_INFINITY];

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

/** A trace of a query result: its id and the API shape as JSON text, built by SQLite. */
export interface TraceJsonRow {
  trace_id: string;
  json: string;
}

/**
 * Traces matching the filter, newest first by (time, seq), at most `limit`, as API JSON: one
 * text column a row instead of 25, and no parse/stringify round trip of the JSON columns.
 */
export async function selectTraces(db: Db, filter: TraceFilter, limit: number): Promise<TraceJsonRow[]> {
  const query = selectTracesSql(filter, limit);
  return query ? db.all<TraceJsonRow>(query) : [];
}

/** The conditions of a filter and the index that drives them; none for an empty window. */
function matching(
  filter: TraceFilter,
): { from: number; to: number; where: SQL; driver?: FilterIndex } | undefined {
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
  if (filter.notTracker !== undefined) conditions.push(ne(traces.trackerName, filter.notTracker));
  let driver: FilterIndex | undefined;
  for (const [name, spec] of Object.entries(FILTERS) as Array<[FilterName, FilterIndex]>) {
    const parts = condition(spec.column, filter.equals[name], filter.prefixes?.[name as PrefixFilter]);
    if (parts.length === 0) continue;
    driver ??= spec;
    conditions.push(...parts);
  }
  return { from: filter.from, to, where: and(...conditions)!, driver };
}

/**
 * The `seq`s of the newest `limit` matches, through covering index scans: slot steps newest
 * first for a slotted driver (index entries end with time and seq), one scan otherwise.
 *
 * A slotted index holds only indexed rows (`indexed = 1`): each step also reads the project's
 * staged rows of its hours through `traces_unindexed` (under a thousand while passes keep up, at
 * most `MAX_STAGED`; `staged-index.ts`), so a trace is found from the moment it is stored.
 */
function newestSeqs(m: NonNullable<ReturnType<typeof matching>>, limit: number): SQL {
  const { driver, where } = m;
  if (!driver?.slotted) {
    return sql`select ${traces.seq} from ${indexed(driver?.index ?? 'traces_project_time')}
        where ${where} order by ${newestFirst} limit ${limit}`;
  }
  const arms = slotSteps(m.from, m.to).map((slots) => {
    // A step's slots are consecutive hours, newest first: its staged rows are a time range.
    const [stepStart, stepEnd] = [slots.at(-1)! * SLOT_MS, (slots[0]! + 1) * SLOT_MS];
    return sql`select seq from (
          select ${traces.seq}, ${traces.time} from ${indexed(driver.index)}
            where ${where} and ${traces.indexed} = 1
              and ${slotOf(traces.time)} in (select value from json_each(${JSON.stringify(slots)}))
          union all
          select ${traces.seq}, ${traces.time} from ${indexed('traces_unindexed')}
            where ${where} and ${traces.indexed} = 0 and ${traces.time} >= ${stepStart} and ${traces.time} < ${stepEnd}
          order by 2 desc, 1 desc limit ${limit})`;
  });
  return sql`${sql.join(arms, sql` union all `)} limit ${limit}`;
}

/** The `seq`s of the newest `limit` traces matching the filter (for counts over a result); none for an empty window. */
export function newestSeqsSql(filter: TraceFilter, limit: number): SQL | undefined {
  const m = matching(filter);
  return m && newestSeqs(m, limit);
}

/** The statement of `selectTraces` (exported for EXPLAIN QUERY PLAN checks); none for an empty window. */
export function selectTracesSql(filter: TraceFilter, limit: number): SQL | undefined {
  const m = matching(filter);
  if (!m) return undefined;
  if (!m.driver?.slotted) {
    return sql`select ${selectList} from ${indexed(m.driver?.index ?? 'traces_project_time')}
        where ${m.where} order by ${newestFirst} limit ${limit}`;
  }
  // Covering index scans pick the seqs of the page; only the rows of the page are then read.
  return sql`select ${selectList} from ${traces}
      where ${traces.seq} in (${newestSeqs(m, limit)})
      order by ${newestFirst}`;
}
