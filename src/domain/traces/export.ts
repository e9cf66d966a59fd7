import type { Deps } from '../deps';
import { toOcsf } from './ocsf';
import { queryTraceJson, queryWindow } from './query';
import type { TraceQuery } from './schema';

/** Lines of a streamed export: traces in the API's shape, or OCSF API Activity events. */
export type ExportFormat = 'ndjson' | 'ocsf';

/** Traces read per step: one keyset page of the database at a time, never the whole result. */
const EXPORT_PAGE = 500;
const encoder = new TextEncoder();

/**
 * Every trace matching a query's filters and window — no page size, no 5,000 cap — as NDJSON,
 * newest first, streamed: each page is read from the database (keyset continuation) only when the
 * reader has taken the previous one, so memory stays bounded whatever the result's size. The
 * window is fixed when the export starts. The first page is read before the stream is returned,
 * so that a bad query is an error response, not a broken stream.
 */
export async function exportTraces(
  deps: Pick<Deps, 'db' | 'clock' | 'config'>,
  projectId: string,
  query: TraceQuery,
  format: ExportFormat,
): Promise<ReadableStream<Uint8Array>> {
  const window = query.trace_id === undefined ? queryWindow(query, deps.clock()) : {};
  const context = { region: deps.config.CTS_REGION, projectId };
  const page = (next: string | undefined) =>
    queryTraceJson(deps, projectId, { ...query, ...window, limit: EXPORT_PAGE, next });
  const lines = (traces: string[]) => {
    let text = '';
    for (const json of traces)
      text += `${format === 'ocsf' ? JSON.stringify(toOcsf(JSON.parse(json), context)) : json}\n`;
    return encoder.encode(text);
  };
  let current = await page(query.next);
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        if (current.traces.length > 0) controller.enqueue(lines(current.traces));
        const marker = current.meta_data.marker;
        if (marker === null) controller.close();
        else current = await page(marker);
      },
    },
    { highWaterMark: 0 },
  );
}
