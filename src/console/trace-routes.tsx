import { Hono } from 'hono';
import { CtsError } from '../domain/errors';
import { recordAudit } from '../domain/traces/audit';
import { traceHistogram } from '../domain/traces/histogram';
import { queryTraces, queryWindow } from '../domain/traces/query';
import { TRACE_ID } from '../domain/traces/schema';
import { MAX_EXPORT_ROWS, tracesToCsv } from './csv';
import { CSRF_FIELD } from './forms';
import { verifyForm } from './guards';
import { render } from './layout';
import { MessagePage } from './pages/message';
import { TraceListPage } from './pages/trace-list';
import { TraceViewPage } from './pages/trace-view';
import { type ConsoleContext, type ConsoleEnv, consoleActor } from './session';
import { timeChoice } from './time-pref';
import { filterParams, listHref, parseTraceFilters, type TraceFilters, toTraceQuery } from './trace-filters';

/** Renders the Trace List for a query string; a bad filter or query shows its message in the page. */
async function traceList(c: ConsoleContext, values: URLSearchParams, problem?: CtsError) {
  const session = c.var.session;
  let filters: TraceFilters | undefined;
  try {
    filters = parseTraceFilters(values);
    if (problem) throw problem;
    const now = c.var.deps.clock();
    const query = toTraceQuery(filters, now);
    const page = await queryTraces(c.var.deps, session.principal.projectId, {
      ...query,
      next: filters.m.at(-1),
    });
    const window = queryWindow(query, now);
    // The picture of the whole window (not of this page); a trace ID asks for one trace.
    const histogram = filters.trace_id
      ? undefined
      : await traceHistogram(c.var.deps, session.principal.projectId, query);
    const result = { traces: page.traces, marker: page.meta_data.marker, histogram, ...window };
    return render(
      c,
      <TraceListPage
        session={session}
        values={values}
        filters={filters}
        result={result}
        time={timeChoice(c)}
      />,
    );
  } catch (error) {
    if (!(error instanceof CtsError) || error.status >= 500) throw error;
    const shown = { message: error.message, code: error.code };
    return render(c, <TraceListPage session={session} values={values} error={shown} />, 400);
  }
}

/**
 * The Trace List URL without empty or default fields, when `values` has some (and parses);
 * otherwise undefined. Only ever drops fields, so it cannot redirect in a loop.
 */
function canonicalQuery(values: URLSearchParams): string | undefined {
  let filters: TraceFilters;
  try {
    filters = parseTraceFilters(values);
  } catch {
    return undefined;
  }
  const kept = filterParams(filters);
  const sent = [...values.keys()].length;
  return kept.size < sent ? listHref(filters) : undefined;
}

/** The form of a post, less the CSRF token, as a query string. */
async function formValues(c: ConsoleContext): Promise<URLSearchParams> {
  const form = await c.req.parseBody({ all: true });
  const values = new URLSearchParams();
  for (const [name, value] of Object.entries(form)) {
    if (name === CSRF_FIELD) continue;
    for (const item of Array.isArray(value) ? value : [value]) {
      if (typeof item === 'string') values.append(name, item);
    }
  }
  return values;
}

const stamp = (ms: number) => new Date(ms).toISOString().slice(0, 19).replaceAll(':', '-');

export const traceRoutes = new Hono<ConsoleEnv>()
  .get('/traces', (c) => {
    const values = new URL(c.req.url).searchParams;
    // A GET form sends every field, set or not; the URL to keep and share holds only the set ones.
    const canonical = canonicalQuery(values);
    if (canonical !== undefined) return c.redirect(canonical, 303);
    return traceList(c, values);
  })
  .post('/traces/export', verifyForm, async (c) => {
    const values = await formValues(c);
    const { projectId } = c.var.session.principal;
    let filters: TraceFilters;
    let query: ReturnType<typeof toTraceQuery>;
    let page: Awaited<ReturnType<typeof queryTraces>>;
    try {
      filters = parseTraceFilters(values);
      query = toTraceQuery(filters, c.var.deps.clock(), MAX_EXPORT_ROWS);
      // The whole current result from its first row, not the page on screen (reference §11.2).
      page = await queryTraces(c.var.deps, projectId, query);
    } catch (error) {
      if (error instanceof CtsError && error.status < 500) return traceList(c, values, error);
      throw error;
    }
    const csv = tracesToCsv(page.traces);
    await recordAudit(c.var.deps, consoleActor(c), {
      traceName: 'getTrace',
      resourceType: 'trace',
      resourceName: 'csv-export',
      request: { ...Object.fromEntries(filterParams(filters, [])), from: query.from, to: query.to },
      response: { rows: page.traces.length, truncated: page.meta_data.marker !== null },
    });
    // The file says what it holds: its name and a header tell when the cap cut the result.
    const truncated = page.meta_data.marker !== null;
    const cut = truncated ? `newest-${MAX_EXPORT_ROWS}-` : '';
    return c.body(csv, 200, {
      'Content-Type': 'text/csv; charset=utf-8',
      'Content-Disposition': `attachment; filename="traces-${projectId}-${cut}${stamp(c.var.deps.clock())}Z.csv"`,
      'X-CTS-Export': `rows=${page.traces.length}; truncated=${truncated}`,
      'Cache-Control': 'no-store',
    });
  })
  .get('/traces/:traceId/json', async (c) => {
    const trace = await findTrace(c, c.req.param('traceId'));
    if (!trace) return notFound(c, c.req.param('traceId'), '/console/traces');
    const name = trace.trace_id.replace(/[^A-Za-z0-9._-]/g, '_');
    return c.body(`${JSON.stringify(trace, null, 2)}\n`, 200, {
      'Content-Type': 'application/json; charset=utf-8',
      'Content-Disposition': `attachment; filename="trace-${name}.json"`,
      'Cache-Control': 'no-store',
    });
  })
  .get('/traces/:traceId', async (c) => {
    const traceId = c.req.param('traceId');
    const session = c.var.session;
    const back = new URLSearchParams(c.req.query('back') ?? '');
    const backHref = back.size > 0 ? `/console/traces?${back}` : '/console/traces';
    const trace = await findTrace(c, traceId);
    if (!trace) return notFound(c, traceId, backHref);
    const url = new URL(c.req.url);
    return render(
      c,
      <TraceViewPage
        session={session}
        trace={trace}
        backHref={backHref}
        self={url.pathname + url.search}
        time={timeChoice(c)}
      />,
    );
  });

/** A trace of the signed-in project by ID (within the 7 queryable days). */
async function findTrace(c: ConsoleContext, traceId: string) {
  if (!TRACE_ID.test(traceId)) return undefined;
  const page = await queryTraces(c.var.deps, c.var.session.principal.projectId, {
    trace_id: traceId,
    limit: 1,
  });
  return page.traces[0];
}

function notFound(c: ConsoleContext, traceId: string, backHref: string) {
  const message = `There is no trace with ID ${traceId} in this project (traces are kept 7 days).`;
  const link = { href: backHref, label: 'Back to Trace List' };
  return render(
    c,
    <MessagePage title="Trace not found" message={message} session={c.var.session} link={link} />,
    404,
  );
}
