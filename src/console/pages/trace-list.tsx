import type { ConsoleSession } from '../../domain/projects/sessions';
import type { Histogram } from '../../domain/traces/histogram';
import type { Trace } from '../../domain/traces/schema';
import { MAX_EXPORT_ROWS } from '../csv';
import { UTC } from '../format';
import { PostForm } from '../forms';
import { ErrorBox, Layout } from '../layout';
import { type TimeChoice, TimeSwitch } from '../time-pref';
import { filterParams, listHref, type TraceFilters } from '../trace-filters';
import { ExportNote } from './export-note';
import { TraceChart } from './trace-chart';
import { EmptyState } from './trace-empty';
import { FilterForm } from './trace-filter-form';
import { TraceTable } from './trace-table';

export interface TraceListProps {
  session: ConsoleSession;
  /** The raw query, to refill the form even when a value did not parse. */
  values: URLSearchParams;
  /** Absent when the filters did not parse. */
  filters?: TraceFilters;
  result?: { traces: Trace[]; marker: string | null; from: number; to: number; histogram?: Histogram };
  error?: { message: string; code?: string };
  /** How times are shown (UTC unless the user chose local time). */
  time?: TimeChoice;
}

export function TraceListPage({
  session,
  values,
  filters,
  result,
  error,
  time = { ...UTC, choice: 'utc' },
}: TraceListProps) {
  return (
    <Layout title="Trace List" session={session} active="/console/traces">
      <h1>Trace List</h1>
      <FilterForm values={values} />
      {error && <ErrorBox message={error.message} code={error.code} />}
      {filters && result && <Results session={session} filters={filters} result={result} time={time} />}
    </Layout>
  );
}

function Results({
  session,
  filters,
  result,
  time,
}: {
  session: ConsoleSession;
  filters: TraceFilters;
  result: NonNullable<TraceListProps['result']>;
  time: TimeChoice;
}) {
  const page = filters.m.length + 1;
  const exportFields = [...filterParams(filters, [])];
  return (
    <section aria-label="Traces">
      <div class="summary-line">
        <span>
          {filters.trace_id
            ? `Trace ID ${filters.trace_id} (other filters are ignored)`
            : `${time.format(result.from)} – ${time.format(result.to)} ${time.zone}`}{' '}
          · page {page} · {result.traces.length} trace{result.traces.length === 1 ? '' : 's'} ·{' '}
          <TimeSwitch time={time} back={listHref(filters)} />
        </span>
        <span class="actions">
          <a class="button" href={listHref(filters)}>
            Refresh
          </a>
          <PostForm action="/console/traces/export" csrf={session.csrfToken}>
            {exportFields.map(([name, value]) => (
              <input type="hidden" name={name} value={value} />
            ))}
            <button type="submit" title={`All traces of this result, at most the newest ${MAX_EXPORT_ROWS}`}>
              Export CSV
            </button>
          </PostForm>
        </span>
      </div>
      <ExportNote
        filters={filters}
        histogram={result.histogram}
        projectId={session.principal.projectId}
        window={result}
      />
      {result.histogram?.bars.some((bar) => bar.normal + bar.warning + bar.incident > 0) && (
        <TraceChart histogram={result.histogram} filters={filters} time={time} />
      )}
      {result.traces.length === 0 ? (
        <EmptyState filters={filters} />
      ) : (
        <TraceTable traces={result.traces} filters={filters} time={time} />
      )}
      <Pager filters={filters} marker={result.marker} />
    </section>
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
