import type { ConsoleSession } from '../../domain/projects/sessions';
import type { Trace } from '../../domain/traces/schema';
import { Layout } from '../layout';
import { type TimeChoice, TimeSwitch } from '../time-pref';
import { jsonNodes, parsedIfJson } from './json-view';
import { Value } from './trace-table';

export interface TraceViewProps {
  session: ConsoleSession;
  trace: Trace;
  /** Where "Back to Trace List" goes: the list with the filters the user came from. */
  backHref: string;
  /** This page's own path and query, for the time switch to come back to. */
  self: string;
  time: TimeChoice;
}

/** The fields of the JSON that the API may send as JSON text (issue 12): shown parsed. */
const JSON_TEXT_FIELDS = ['request', 'response', 'message'] as const;

/**
 * View Trace: the key facts with human times next to the epoch milliseconds, then the whole
 * trace as formatted JSON (every string in `<bdi>`; JSX escapes it, it is never raw HTML), to
 * download as a file or copy (the Copy button needs the console's script; without it the JSON
 * is in a focusable, selectable block).
 */
export function TraceViewPage({ session, trace, backHref, self, time }: TraceViewProps) {
  const shown: Record<string, unknown> = { ...trace };
  const parsed = JSON_TEXT_FIELDS.filter((key) => shown[key] !== parsedIfJson(shown[key]));
  for (const key of parsed) shown[key] = parsedIfJson(shown[key]);
  const download = `/console/traces/${encodeURIComponent(trace.trace_id)}/json`;
  const when = (ms: number) => (
    <>
      <time datetime={new Date(ms).toISOString()}>{time.format(ms)}</time> {time.zone}{' '}
      <span class="mono sub-inline">({ms})</span>
    </>
  );
  return (
    <Layout title={`Trace ${trace.trace_id}`} session={session} active="/console/traces">
      <div class="crumbs">
        <a href={backHref}>‹ Back to Trace List</a>
      </div>
      <h1 class="wrap">
        <bdi>{trace.trace_name}</bdi> <span class={`badge ${trace.trace_rating}`}>{trace.trace_rating}</span>
      </h1>
      <dl class="facts card">
        <div>
          <dt>Trace ID</dt>
          <dd class="mono">
            <bdi>{trace.trace_id}</bdi>
          </dd>
        </div>
        <div>
          <dt>Operation time</dt>
          <dd>{when(trace.time)}</dd>
        </div>
        <div>
          <dt>Record time</dt>
          <dd>{when(trace.record_time)}</dd>
        </div>
        <div>
          <dt>Trace source · resource type</dt>
          <dd>
            <bdi>{trace.service_type}</bdi> · <bdi>{trace.resource_type}</bdi>
          </dd>
        </div>
        <div>
          <dt>Resource</dt>
          <dd>
            <Value value={trace.resource_name} /> <span class="sub-inline">(</span>
            <Value value={trace.resource_id} />
            <span class="sub-inline">)</span>
          </dd>
        </div>
        <div>
          <dt>Operator · source IP</dt>
          <dd>
            <Value value={trace.user?.name} /> · <Value value={trace.source_ip} />
          </dd>
        </div>
      </dl>
      <div class="summary-line">
        <TimeSwitch time={time} back={self} />
        <span class="actions">
          <button type="button" data-copy="trace-json" hidden>
            Copy JSON
          </button>
          <a class="button" href={download} download>
            Download JSON
          </a>
        </span>
      </div>
      {parsed.length > 0 && (
        <p class="sub">The API returns {parsed.join(', ')} as JSON text; shown here parsed.</p>
      )}
      <section aria-label="The trace as JSON">
        <pre class="json" id="trace-json" tabindex={0}>
          {jsonNodes(shown)}
        </pre>
      </section>
    </Layout>
  );
}
