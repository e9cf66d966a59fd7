import type { ConsoleSession } from '../../domain/projects/sessions';
import type { Trace } from '../../domain/traces/schema';
import { MAX_EXPORT_ROWS } from '../csv';
import { formatTime } from '../format';
import { PostForm } from '../forms';
import { ErrorBox, Layout } from '../layout';
import { filterParams, hasCriteria, listHref, RANGES, type TraceFilters } from '../trace-filters';
import { FilterForm } from './trace-filter-form';

export interface TraceListProps {
  session: ConsoleSession;
  /** The raw query, to refill the form even when a value did not parse. */
  values: URLSearchParams;
  /** Absent when the filters did not parse. */
  filters?: TraceFilters;
  result?: { traces: Trace[]; marker: string | null; from: number; to: number };
  error?: { message: string; code?: string };
}

export function TraceListPage({ session, values, filters, result, error }: TraceListProps) {
  return (
    <Layout title="Trace List" session={session} active="/console/traces">
      <h1>Trace List</h1>
      <FilterForm values={values} />
      {error && <ErrorBox message={error.message} code={error.code} />}
      {filters && result && <Results session={session} filters={filters} result={result} />}
    </Layout>
  );
}

function Results({
  session,
  filters,
  result,
}: {
  session: ConsoleSession;
  filters: TraceFilters;
  result: NonNullable<TraceListProps['result']>;
}) {
  const page = filters.m.length + 1;
  const exportFields = [...filterParams(filters, [])];
  return (
    <section aria-label="Traces">
      <div class="summary-line">
        <span>
          {filters.trace_id
            ? `Trace ID ${filters.trace_id} (other filters are ignored)`
            : `${formatTime(result.from)} – ${formatTime(result.to)} UTC`}{' '}
          · page {page} · {result.traces.length} trace{result.traces.length === 1 ? '' : 's'}
        </span>
        <span class="actions">
          <a class="button" href={listHref(filters)}>
            Refresh
          </a>
          <PostForm action="/console/traces/export" csrf={session.csrfToken}>
            {exportFields.map(([name, value]) => (
              <input type="hidden" name={name} value={value} />
            ))}
            <button type="submit" title={`All traces of this result, at most ${MAX_EXPORT_ROWS}`}>
              Export CSV
            </button>
          </PostForm>
        </span>
      </div>
      {result.traces.length === 0 ? (
        <EmptyState filters={filters} />
      ) : (
        <div class="traces">
          <div class="trace-head" aria-hidden="true">
            <span />
            <span>Trace name</span>
            <span>Resource type</span>
            <span>Trace source</span>
            <span>Resource ID</span>
            <span>Resource name</span>
            <span>Trace status</span>
            <span>Operator</span>
            <span>Operation time (UTC)</span>
            <span>Operation</span>
          </div>
          {result.traces.map((trace) => (
            <TraceRow trace={trace} back={filterParams(filters).toString()} />
          ))}
        </div>
      )}
      <Pager filters={filters} marker={result.marker} />
    </section>
  );
}

function EmptyState({ filters }: { filters: TraceFilters }) {
  const wider = listHref({ ...filters, range: '7d', m: [] });
  let message: string;
  if (filters.m.length > 0) message = 'No more traces on this page.';
  else if (filters.trace_id) message = `No trace with ID ${filters.trace_id} in the last 7 days.`;
  else if (filters.range === '1h' && !hasCriteria(filters))
    message = 'No traces in the last hour — widen the range.';
  else if (filters.range === 'custom') message = 'No traces match in this time range — widen the range.';
  else
    message = `No traces match these filters in the ${RANGES[filters.range].label.toLowerCase()} — widen the range or clear filters.`;
  return (
    <div class="empty" role="status">
      <p>{message}</p>
      <p class="actions">
        {filters.range !== '7d' && !filters.trace_id && (
          <a class="button" href={wider}>
            Show the last week
          </a>
        )}
        {hasCriteria(filters) && (
          <a class="button" href="/console/traces">
            Clear filters
          </a>
        )}
      </p>
    </div>
  );
}

const dash = (value: string | null | undefined) =>
  value === null || value === undefined || value === '' ? '—' : value;

function TraceRow({ trace, back }: { trace: Trace; back: string }) {
  const viewHref = `/console/traces/${encodeURIComponent(trace.trace_id)}${back ? `?back=${encodeURIComponent(back)}` : ''}`;
  const fields: Array<[string, string]> = [
    ['Trace ID', trace.trace_id],
    ['Trace type', trace.trace_type],
    ['Source IP', dash(trace.source_ip)],
    ['Request ID', dash(trace.request_id)],
    ['Code', dash(trace.code)],
    ['API version', dash(trace.api_version)],
    ['Record time (UTC)', formatTime(trace.record_time)],
    ['User ID', dash(trace.user?.id)],
    ['Domain', dash(trace.user?.domain?.name ?? trace.user?.domain?.id)],
    ['Location info', dash(trace.location_info)],
    [
      'Resource URL',
      dash(
        trace.endpoint || trace.resource_url ? `${trace.endpoint ?? ''}${trace.resource_url ?? ''}` : null,
      ),
    ],
  ];
  return (
    <details class="trace">
      <summary>
        <span class="c-name">{trace.trace_name}</span>
        <span class="c-rtype">
          <span class="label">Resource type: </span>
          {trace.resource_type}
        </span>
        <span class="c-svc">
          <span class="label">Source: </span>
          {trace.service_type}
        </span>
        <span class="c-rid">
          <span class="label">Resource ID: </span>
          {dash(trace.resource_id)}
        </span>
        <span class="c-rname">
          <span class="label">Resource name: </span>
          {dash(trace.resource_name)}
        </span>
        <span class="c-rating">
          <span class={`badge ${trace.trace_rating}`}>{trace.trace_rating}</span>
        </span>
        <span class="c-user">
          <span class="label">Operator: </span>
          {dash(trace.user?.name)}
        </span>
        <span class="c-time">{formatTime(trace.time)}</span>
        <span class="c-op">
          <a href={viewHref}>View Trace</a>
        </span>
      </summary>
      <dl class="fields">
        {fields.map(([name, value]) => (
          <div>
            <dt>{name}</dt>
            <dd>{value}</dd>
          </div>
        ))}
      </dl>
    </details>
  );
}

function Pager({ filters, marker }: { filters: TraceFilters; marker: string | null }) {
  const previous = filters.m.length > 0 ? listHref(filters, filters.m.slice(0, -1)) : undefined;
  const next = marker ? listHref(filters, [...filters.m, marker]) : undefined;
  if (!previous && !next) return null;
  return (
    <nav class="pager" aria-label="Pages">
      {previous ? (
        <a class="button" rel="prev" href={previous}>
          ‹ Previous
        </a>
      ) : (
        <span class="button disabled">‹ Previous</span>
      )}
      <span>Page {filters.m.length + 1}</span>
      {next ? (
        <a class="button" rel="next" href={next}>
          Next ›
        </a>
      ) : (
        <span class="button disabled">Next ›</span>
      )}
    </nav>
  );
}
