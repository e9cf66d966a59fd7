import type { ConsoleSession } from '../../domain/projects/sessions';
import type { Trace } from '../../domain/traces/schema';
import { formatTime } from '../format';
import { Layout } from '../layout';

export interface TraceViewProps {
  session: ConsoleSession;
  trace: Trace;
  /** Where "Back to Trace List" goes: the list with the filters the user came from. */
  backHref: string;
}

/** View Trace: the full trace as formatted JSON (JSX escapes it; it is never raw HTML). */
export function TraceViewPage({ session, trace, backHref }: TraceViewProps) {
  return (
    <Layout title={`Trace ${trace.trace_id}`} session={session} active="/console/traces">
      <div class="crumbs">
        <a href={backHref}>‹ Back to Trace List</a>
      </div>
      <h1>
        {trace.trace_name} <span class={`badge ${trace.trace_rating}`}>{trace.trace_rating}</span>
      </h1>
      <p class="sub">
        {trace.service_type} · {trace.resource_type} · {formatTime(trace.time)} UTC · trace ID{' '}
        <span class="mono">{trace.trace_id}</span>
      </p>
      <pre class="json">{JSON.stringify(trace, null, 2)}</pre>
    </Layout>
  );
}
