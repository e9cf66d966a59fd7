import type { Histogram } from '../../domain/traces/histogram';
import { MAX_EXPORT_ROWS } from '../csv';
import { EXACT_FILTERS, isPrefixSearch, type TraceFilters } from '../trace-filters';

const n = (count: number) => count.toLocaleString('en');

/**
 * What Export CSV will hold, said before it is clicked: the whole result, or its newest 5,000
 * traces (reference §11.2) — then the way to get everything: the API's NDJSON stream
 * (`Accept: application/x-ndjson` on `GET /v3/{project_id}/traces`), with this result's filters.
 */
export function ExportNote({
  filters,
  histogram,
  projectId,
  window,
}: {
  filters: TraceFilters;
  histogram?: Histogram;
  projectId: string;
  window: { from: number; to: number };
}) {
  const { normal, warning, incident } = histogram?.totals ?? { normal: 0, warning: 0, incident: 0 };
  const total = normal + warning + incident;
  const known = histogram !== undefined && histogram.countedFrom === undefined;
  if (filters.trace_id || (known && total === 0)) return null;
  if (known && total <= MAX_EXPORT_ROWS) {
    return (
      <p class="export-note">
        Export CSV holds {known ? `all ${n(total)} traces` : 'the trace'} of this result.
      </p>
    );
  }
  const api = new URLSearchParams({ from: String(window.from), to: String(window.to) });
  const put = (key: string, value: string | undefined) => value && api.set(key, value);
  put('service_type', filters.service_type);
  put('resource_type', filters.resource_type);
  if (filters.search && !isPrefixSearch(filters)) put(filters.search_by, filters.search);
  put('user', filters.user?.length === 1 ? filters.user[0] : undefined);
  for (const key of EXACT_FILTERS) put(key, filters[key]);
  const consoleOnly = (filters.user?.length ?? 0) > 1 || isPrefixSearch(filters);
  return (
    <div class="export-note">
      <p>
        {known
          ? `This result has ${n(total)} traces: `
          : 'This result may have more traces than a file holds: '}
        Export CSV holds the newest {n(MAX_EXPORT_ROWS)} (its file name then says so). For all of them, stream
        them from the API as NDJSON, one trace a line:
      </p>
      <code class="wrap">
        curl -H 'Accept: application/x-ndjson' -H 'X-Auth-Token: …' '/v3/{projectId}/traces?{api.toString()}'
      </code>
      {consoleOnly && (
        <p>
          The API takes one operator and exact values only: run it once per operator, or with the exact value.
        </p>
      )}
    </div>
  );
}
