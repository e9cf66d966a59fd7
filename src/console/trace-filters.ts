import { z } from 'zod';
import { zodIssues } from '../api/http';
import { badField, invalidRequest } from '../domain/errors';
import { DAY_MS, HOUR_MS, type TraceSearch } from '../domain/traces/query';
import { TRACE_ID, TRACE_RATINGS, TRACKER_NAME } from '../domain/traces/schema';
import { PREFIX_FILTERS, type PrefixFilter } from '../store/trace-search';

/** Time range presets of the Trace List (the default is the last hour, as in CTS). */
export const RANGES = {
  '1h': { label: 'Last 1 hour', ms: HOUR_MS },
  '6h': { label: 'Last 6 hours', ms: 6 * HOUR_MS },
  '1d': { label: 'Last 1 day', ms: DAY_MS },
  '3d': { label: 'Last 3 days', ms: 3 * DAY_MS },
  '7d': { label: 'Last 1 week', ms: 7 * DAY_MS },
  custom: { label: 'Custom range (UTC)', ms: 0 },
} as const;
export type RangeName = keyof typeof RANGES;

export const SEARCH_BY = {
  resource_id: 'Resource ID',
  trace_name: 'Trace name',
  resource_name: 'Resource name',
} as const;

/** Search fields whose values can also be matched by prefix (see `PREFIX_FILTERS`). */
export const PREFIX_SEARCH: ReadonlyArray<string> = PREFIX_FILTERS;
export const canPrefix = (field: string): field is PrefixFilter => PREFIX_SEARCH.includes(field);

/** Most operators one query names (any of them matches). */
export const MAX_USERS = 10;

export const PAGE_SIZES = [10, 20, 50, 100, 200] as const;
/** How many pages back the URL remembers; beyond that, Previous restarts at the first page. */
const MAX_MARKERS = 100;

const text = (max: number) =>
  z
    .string()
    .trim()
    .max(max, `must be at most ${max} characters`)
    .transform((v) => (v === '' ? undefined : v))
    .optional();
/** `datetime-local` values, read as UTC. */
const localTime = z
  .string()
  .trim()
  .transform((v) => (v === '' ? undefined : v))
  .pipe(
    z
      .string()
      .regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?$/, 'must be a date and time')
      .optional(),
  )
  .optional();

/** The Trace List's URL query: every filter lives in the URL so that a list can be shared. */
export const TraceFiltersSchema = z.object({
  service_type: text(32),
  resource_type: text(64),
  search_by: z.enum(Object.keys(SEARCH_BY) as [keyof typeof SEARCH_BY]).catch('resource_id'),
  search: text(350),
  /** `exact` (the API's semantics) or `prefix` (resource ID and name only). */
  match: z.enum(['exact', 'prefix']).catch('exact'),
  /** One or more operator names, comma-separated. */
  user: text(MAX_USERS * 257)
    .transform((v) =>
      v === undefined ? undefined : [...new Set(v.split(',').map((name) => name.trim()))].filter(Boolean),
    )
    .pipe(
      z
        .array(z.string().max(256, 'names must be at most 256 characters each'))
        .max(MAX_USERS, `at most ${MAX_USERS} operators`)
        .transform((names) => (names.length === 0 ? undefined : names))
        .optional(),
    ),
  source_ip: text(64),
  code: text(256),
  request_id: text(128),
  tracker_name: text(64).pipe(z.string().regex(TRACKER_NAME, 'must be a tracker name').optional()),
  /** The API's `trace_type`: only `system` (management traces) exists. */
  trace_type: z
    .union([z.literal('system'), z.literal('')])
    .optional()
    .transform((v) => v || undefined),
  trace_rating: z
    .union([z.enum(TRACE_RATINGS), z.literal('')])
    .optional()
    .transform((v) => v || undefined),
  trace_id: text(64).pipe(z.string().regex(TRACE_ID, 'must be a trace ID').optional()),
  range: z.enum(Object.keys(RANGES) as [RangeName]).catch('1h'),
  from: localTime,
  to: localTime,
  limit: z.coerce
    .number()
    .refine((n) => (PAGE_SIZES as readonly number[]).includes(n))
    .catch(20),
  /** The markers that led to this page, oldest first: the last one is this page's `next`. */
  m: z.array(z.string().regex(TRACE_ID, 'must be a trace ID')).max(MAX_MARKERS).catch([]),
});

export type TraceFilters = z.infer<typeof TraceFiltersSchema>;

/** Reads the filters from a URL query or a form; a bad value throws a 400 naming the field. */
export function parseTraceFilters(params: URLSearchParams): TraceFilters {
  const raw: Record<string, unknown> = {};
  for (const key of new Set(params.keys())) raw[key] = key === 'm' ? params.getAll(key) : params.get(key);
  const result = TraceFiltersSchema.safeParse(raw);
  if (!result.success) {
    const details = zodIssues(result.error);
    throw invalidRequest(details, `Invalid filter ${details[0]?.field}: ${details[0]?.message}`);
  }
  return result.data;
}

const utc = (local: string) => Date.parse(`${local}Z`);

/** The domain query for these filters at `now` (without paging: `next` is added by the caller). */
export function toTraceQuery(filters: TraceFilters, now: number, limit = filters.limit): TraceSearch {
  const window: Pick<TraceSearch, 'from' | 'to'> = {};
  if (filters.range === 'custom') {
    if (filters.from) window.from = utc(filters.from);
    if (filters.to) window.to = utc(filters.to);
    if (window.from === undefined && window.to === undefined) throw badField('from', 'choose a start or end');
  } else {
    window.from = now - RANGES[filters.range].ms;
  }
  return {
    limit,
    ...window,
    service_type: filters.service_type,
    resource_type: filters.resource_type,
    users: filters.user,
    trace_rating: filters.trace_rating,
    trace_id: filters.trace_id,
    source_ip: filters.source_ip,
    code: filters.code,
    request_id: filters.request_id,
    tracker_name: filters.tracker_name,
    trace_type: filters.trace_type,
    ...searchCriterion(filters),
  };
}

/** Whether the search box is matched by prefix (only offered for fields that allow it). */
export const isPrefixSearch = (filters: TraceFilters) =>
  filters.match === 'prefix' && canPrefix(filters.search_by);

function searchCriterion(filters: TraceFilters): Partial<TraceSearch> {
  if (!filters.search) return {};
  if (isPrefixSearch(filters)) return { prefixes: { [filters.search_by]: filters.search } };
  return { [filters.search_by]: filters.search };
}

/** Filters that are one exact value, named alike in the console's URL and the API's query. */
export const EXACT_FILTERS = [
  'source_ip',
  'code',
  'request_id',
  'tracker_name',
  'trace_type',
  'trace_rating',
] as const satisfies ReadonlyArray<keyof TraceFilters>;

/** The URL query for these filters (defaults left out), with the marker stack `m`. */
export function filterParams(filters: TraceFilters, markers: string[] = filters.m): URLSearchParams {
  const params = new URLSearchParams();
  const put = (key: string, value: string | number | undefined) => {
    if (value !== undefined && value !== '') params.set(key, String(value));
  };
  put('service_type', filters.service_type);
  put('resource_type', filters.resource_type);
  if (filters.search) {
    put('search_by', filters.search_by);
    put('search', filters.search);
    if (isPrefixSearch(filters)) put('match', 'prefix');
  }
  put('user', filters.user?.join(','));
  for (const key of EXACT_FILTERS) put(key, filters[key]);
  put('trace_id', filters.trace_id);
  if (filters.range !== '1h') put('range', filters.range);
  if (filters.range === 'custom') {
    put('from', filters.from);
    put('to', filters.to);
  }
  if (filters.limit !== 20) put('limit', filters.limit);
  for (const marker of markers) params.append('m', marker);
  return params;
}

export function listHref(filters: TraceFilters, markers: string[] = filters.m): string {
  const query = filterParams(filters, markers).toString();
  return query ? `/console/traces?${query}` : '/console/traces';
}

/** Whether any filter other than the time range is set. */
export function hasCriteria(filters: TraceFilters): boolean {
  return Boolean(
    filters.service_type ||
      filters.resource_type ||
      filters.search ||
      filters.user ||
      filters.source_ip ||
      filters.code ||
      filters.request_id ||
      filters.tracker_name ||
      filters.trace_type ||
      filters.trace_rating ||
      filters.trace_id,
  );
}
