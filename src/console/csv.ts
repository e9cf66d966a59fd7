import { csvRows } from '../domain/traces/csv';
import type { Trace } from '../domain/traces/schema';

export { CSV_COLUMNS, neutralise } from '../domain/traces/csv';

/** Most traces one CSV export holds (reference §11.2). */
export const MAX_EXPORT_ROWS = 5000;

/** The CSV text of traces: a header, one row per trace, UTF-8 with a BOM so spreadsheets read it right. */
export function tracesToCsv(traces: Trace[]): string {
  return csvRows(traces, { header: true });
}
