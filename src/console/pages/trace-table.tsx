import { raw } from 'hono/html';
import type { Trace } from '../../domain/traces/schema';
import type { TimeDisplay } from '../format';
import { listHref, type TraceFilters } from '../trace-filters';

/**
 * The Trace List's table: one row per trace with column headers (a real table for screen
 * readers), long values cut with an ellipsis and given in full in `title` and in the row's
 * expanded fields. Every value a client reported sits in `<bdi>`, so a right-to-left override
 * in it cannot reorder the text around it. Operator, source IP and resource ID are links that
 * narrow the list to that value over the same time range: resource → actor → IP → everything.
 */
export function TraceTable({
  traces,
  filters,
  time,
}: {
  traces: Trace[];
  filters: TraceFilters;
  time: TimeDisplay;
}) {
  const back = listHref(filters).split('?')[1] ?? '';
  return (
    <div class="table-wrap" id="trace-table">
      <table class="traces">
        <caption class="visually-hidden">Traces, newest first</caption>
        <thead>
          <tr>
            <th scope="col" class="c-name">
              Trace name
            </th>
            <th scope="col" class="c-rtype">
              Resource type
            </th>
            <th scope="col" class="c-svc">
              Trace source
            </th>
            <th scope="col" class="c-rid">
              Resource ID
            </th>
            <th scope="col" class="c-rname">
              Resource name
            </th>
            <th scope="col" class="c-rating">
              Trace status
            </th>
            <th scope="col" class="c-user">
              Operator
            </th>
            <th scope="col" class="c-ip">
              Source IP
            </th>
            <th scope="col" class="c-time">
              Operation time ({time.zone})
            </th>
            <th scope="col" class="c-op">
              Operation
            </th>
          </tr>
        </thead>
        <tbody>
          {traces.map((trace) => (
            <TraceRow trace={trace} filters={filters} back={back} time={time} />
          ))}
        </tbody>
      </table>
    </div>
  );
}

const present = (value: string | null | undefined): value is string =>
  value !== null && value !== undefined && value !== '';

/** A user-supplied value: isolated from the surrounding text's direction; a dash when absent. */
export function Value({ value }: { value: string | null | undefined }) {
  return present(value) ? <bdi>{value}</bdi> : <span class="none">—</span>;
}

/** A cell that narrows the list to its value (same time range and page size, no other criteria). */
function Pivot({
  value,
  filters,
  set,
  label,
}: {
  value: string | null | undefined;
  filters: TraceFilters;
  set: Partial<TraceFilters>;
  label: string;
}) {
  if (!present(value)) return <Value value={value} />;
  const { range, from, to, limit } = filters;
  const base: TraceFilters = {
    range,
    from,
    to,
    limit,
    search_by: 'resource_id',
    match: 'exact',
    trace_type: undefined,
    trace_rating: undefined,
    m: [],
  };
  return (
    <a href={listHref({ ...base, ...set })} title={`${label}: ${value} (show all its traces)`}>
      <bdi>{value}</bdi>
    </a>
  );
}

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};
const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (char) => ESCAPES[char]!);

/**
 * A row's expanded fields as one escaped string, the same HTML `<Value>` writes. As JSX nodes,
 * 16 fields × 200 rows were about half of the Trace List's render time (`npm run bench console`).
 */
function fieldList(fields: Array<[string, string | null | undefined]>) {
  let html = '<dl class="fields">';
  for (const [name, value] of fields) {
    const shown = present(value) ? `<bdi>${escapeHtml(value)}</bdi>` : '<span class="none">—</span>';
    html += `<div><dt>${escapeHtml(name)}</dt><dd>${shown}</dd></div>`;
  }
  return raw(`${html}</dl>`);
}

function TraceRow({
  trace,
  filters,
  back,
  time,
}: {
  trace: Trace;
  filters: TraceFilters;
  back: string;
  time: TimeDisplay;
}) {
  const viewHref = `/console/traces/${encodeURIComponent(trace.trace_id)}${back ? `?back=${encodeURIComponent(back)}` : ''}`;
  const url =
    present(trace.endpoint) || present(trace.resource_url)
      ? `${trace.endpoint ?? ''}${trace.resource_url ?? ''}`
      : null;
  const fields: Array<[string, string | null | undefined]> = [
    ['Trace ID', trace.trace_id],
    ['Trace type', trace.trace_type],
    ['Trace source', trace.service_type],
    ['Resource type', trace.resource_type],
    ['Resource ID', trace.resource_id],
    ['Resource name', trace.resource_name],
    ['Operator', trace.user?.name],
    ['User ID', trace.user?.id],
    ['Domain', trace.user?.domain?.name ?? trace.user?.domain?.id],
    ['Source IP', trace.source_ip],
    ['Request ID', trace.request_id],
    ['Code', trace.code === null ? null : String(trace.code)],
    ['API version', trace.api_version],
    [`Record time (${time.zone})`, time.format(trace.record_time)],
    ['Location info', trace.location_info],
    ['Resource URL', url],
  ];
  return (
    <tr>
      <td class="c-name">
        <details>
          <summary>
            <bdi>{trace.trace_name}</bdi>
          </summary>
          {fieldList(fields)}
        </details>
      </td>
      <td class="c-rtype">
        <bdi>{trace.resource_type}</bdi>
      </td>
      <td class="c-svc">
        <bdi>{trace.service_type}</bdi>
      </td>
      <td class="c-rid cut" title={trace.resource_id ?? undefined}>
        <Pivot
          value={trace.resource_id}
          filters={filters}
          set={{ search_by: 'resource_id', search: trace.resource_id ?? undefined }}
          label="Resource ID"
        />
      </td>
      <td class="c-rname cut" title={trace.resource_name ?? undefined}>
        <Value value={trace.resource_name} />
      </td>
      <td class="c-rating">
        <span class={`badge ${trace.trace_rating}`}>{trace.trace_rating}</span>
      </td>
      <td class="c-user cut" title={trace.user?.name}>
        <Pivot
          value={trace.user?.name}
          filters={filters}
          set={{ user: trace.user?.name ? [trace.user.name] : undefined }}
          label="Operator"
        />
      </td>
      <td class="c-ip cut" title={trace.source_ip ?? undefined}>
        <Pivot
          value={trace.source_ip}
          filters={filters}
          set={{ source_ip: trace.source_ip ?? undefined }}
          label="Source IP"
        />
      </td>
      <td class="c-time">
        <time datetime={new Date(trace.time).toISOString()}>{time.format(trace.time)}</time>
      </td>
      <td class="c-op">
        <a href={viewHref}>View Trace</a>
      </td>
    </tr>
  );
}
