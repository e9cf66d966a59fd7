import type { TraceRow } from '../../store/schema/traces';
import { findTraceKey, selectTraceJsonById } from '../../store/trace-queries';
import { FILTERS, type FilterName, type PrefixFilter, selectTraces } from '../../store/trace-search';
import type { Deps } from '../deps';
import { badField } from '../errors';
import type { Trace, TraceQuery } from './schema';

export const HOUR_MS = 3_600_000;
export const DAY_MS = 24 * HOUR_MS;
/** The query window: CTS keeps the last 7 days queryable. */
export const QUERY_WINDOW_MS = 7 * DAY_MS;

export interface TracePage {
  traces: Trace[];
  meta_data: { count: number; marker: string | null };
}

/** A page whose traces are still JSON texts (the API's shape), for responses that just pass them on. */
export interface TraceJsonPage {
  traces: string[];
  meta_data: { count: number; marker: string | null };
}

/**
 * The API's query plus what the console can also ask: several operators (any of them), and
 * resource IDs or names that start with a value. Both walk the same indexes as an exact value.
 */
export interface TraceSearch extends TraceQuery {
  users?: string[];
  prefixes?: Partial<Record<PrefixFilter, string>>;
}

const parseJson = (text: string | null): unknown => (text === null ? null : JSON.parse(text));

/** A stored row in the API's shape (reference §3.2, the SDK's `Traces`). */
export function toApiTrace(row: TraceRow): Trace {
  return {
    trace_id: row.traceId,
    trace_name: row.traceName,
    trace_rating: row.traceRating,
    trace_type: row.traceType,
    request: row.request,
    response: row.response,
    code: row.code,
    api_version: row.apiVersion,
    message: row.message,
    record_time: row.recordTime,
    time: row.time,
    user: parseJson(row.user) as Trace['user'],
    service_type: row.serviceType,
    resource_type: row.resourceType,
    resource_id: row.resourceId,
    resource_name: row.resourceName,
    source_ip: row.sourceIp,
    request_id: row.requestId,
    location_info: row.locationInfo,
    endpoint: row.endpoint,
    resource_url: row.resourceUrl,
    ...(row.extras === null ? {} : (JSON.parse(row.extras) as Partial<Trace>)),
  };
}

/**
 * The time window of a query: `to` defaults to now, `from` to `to` − 1 h; both are clamped to
 * the last 7 days. A `from` later than `to` (as sent, or than now when `to` is not sent) is a
 * client error rather than an empty page.
 */
export function queryWindow(
  query: Pick<TraceQuery, 'from' | 'to'>,
  now: number,
): { from: number; to: number } {
  const requestedTo = query.to ?? now;
  if (query.from !== undefined && query.from > requestedTo) {
    throw badField(
      'from',
      query.to === undefined ? 'must not be in the future' : 'must not be later than to',
    );
  }
  const oldest = now - QUERY_WINDOW_MS;
  const clamp = (t: number) => Math.min(Math.max(t, oldest), now);
  const to = clamp(requestedTo);
  const from = clamp(query.from ?? to - HOUR_MS);
  return { from, to: Math.max(from, to) };
}

/** One page of traces, newest first by (`time`, ingestion order) (reference §3.1 and DESIGN §3). */
export async function queryTraces(
  deps: Pick<Deps, 'db' | 'clock'>,
  projectId: string,
  query: TraceSearch,
): Promise<TracePage> {
  const page = await queryTraceJson(deps, projectId, query);
  return { traces: page.traces.map((json) => JSON.parse(json) as Trace), meta_data: page.meta_data };
}

/** The exact-value criteria of a query, as the store takes them. */
export function equalsOf(query: TraceSearch): Partial<Record<FilterName, string | string[]>> {
  const equals: Partial<Record<FilterName, string | string[]>> = {};
  for (const name of Object.keys(FILTERS) as FilterName[]) {
    const value = query[name];
    if (value !== undefined) equals[name] = value;
  }
  if (query.users !== undefined && query.users.length > 0) equals.user = query.users;
  // Reference §3.1: `tracker_name` defaults to `system` when `trace_type=system` is asked for.
  if (query.trace_type === 'system') equals.tracker_name ??= 'system';
  // Data traces are those reported to a data tracker (any tracker but `system`), one when named.
  if (query.trace_type === 'data' && query.tracker_name === 'system')
    throw badField('tracker_name', 'must name a data tracker when trace_type is data');
  return equals;
}

/** `queryTraces` with every trace as JSON text, built by the database. */
export async function queryTraceJson(
  deps: Pick<Deps, 'db' | 'clock'>,
  projectId: string,
  query: TraceSearch,
): Promise<TraceJsonPage> {
  const now = deps.clock();
  if (query.trace_id !== undefined) {
    // `trace_id` overrides every other criterion, but not the 7 days that are queryable.
    const json = await selectTraceJsonById(deps.db, projectId, query.trace_id, now - QUERY_WINDOW_MS);
    const found = json === undefined ? [] : [json];
    return { traces: found, meta_data: { count: found.length, marker: null } };
  }
  const { from, to } = queryWindow(query, now);
  let after: { time: number; seq: number } | undefined;
  if (query.next !== undefined) {
    after = await findTraceKey(deps.db, projectId, query.next);
    if (!after) throw badField('next', 'names no trace of this project');
  }
  const equals = equalsOf(query);
  // One row more than asked tells whether there is a next page.
  const dataOnly = query.trace_type === 'data' && equals.tracker_name === undefined;
  const rows = await selectTraces(
    deps.db,
    {
      projectId,
      from,
      to,
      after,
      equals,
      prefixes: query.prefixes,
      ...(dataOnly ? { notTracker: 'system' } : {}),
    },
    query.limit + 1,
  );
  const page = rows.slice(0, query.limit);
  const marker = rows.length > query.limit ? (page.at(-1)?.trace_id ?? null) : null;
  return { traces: page.map((row) => row.json), meta_data: { count: page.length, marker } };
}
