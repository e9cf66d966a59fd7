import type { Trace } from '../domain/traces/schema';

/** The API's exact filters that the archive can answer (reference §3.1, DESIGN §3), by API name. */
export const ARCHIVE_FILTERS = [
  'service_type',
  'resource_type',
  'resource_id',
  'resource_name',
  'trace_name',
  'trace_rating',
  'user',
  'source_ip',
  'code',
  'request_id',
  'trace_id',
] as const;

export type ArchiveFilter = (typeof ARCHIVE_FILTERS)[number];
export type TraceFilters = Partial<Record<ArchiveFilter, string>>;

/** Whether a trace matches every filter: exact and case-sensitive like the API; `user` is `user.name`. */
export function matchesTrace(trace: Trace, filters: TraceFilters): boolean {
  for (const name of ARCHIVE_FILTERS) {
    const wanted = filters[name];
    if (wanted === undefined) continue;
    const value = name === 'user' ? trace.user?.name : trace[name];
    if (value !== wanted) return false;
  }
  return true;
}
