import { stringify } from 'csv-stringify/sync';
import type { Trace } from './schema';

/**
 * Every field of a trace, in the API's order; objects are written as JSON text. The operator's
 * name and ID also get their own columns (`user.name`, `user.id`), so that a spreadsheet can
 * sort and filter by them.
 */
export const CSV_COLUMNS = [
  'trace_id',
  'trace_name',
  'trace_rating',
  'trace_type',
  'service_type',
  'resource_type',
  'resource_id',
  'resource_name',
  'user',
  'user.name',
  'user.id',
  'time',
  'record_time',
  'source_ip',
  'request_id',
  'code',
  'api_version',
  'request',
  'response',
  'message',
  'location_info',
  'endpoint',
  'resource_url',
] as const satisfies ReadonlyArray<keyof Trace | 'user.name' | 'user.id'>;

// A spreadsheet treats a cell starting with one of these as a formula (or, for tab and CR, may
// shift it into one); the full-width forms are read as formulas by some spreadsheets too.
const FORMULA_START = /^[=+\-@\t\r\uFF1D\uFF0B\uFF0D\uFF20]/;

/** A cell value that no spreadsheet will evaluate: a risky first character gets a `'` in front. */
export function neutralise(value: string): string {
  return FORMULA_START.test(value) ? `'${value}` : value;
}

const iso = (ms: number) => new Date(ms).toISOString();

function cell(trace: Trace, column: (typeof CSV_COLUMNS)[number]): string {
  const value =
    column === 'user.name' ? trace.user?.name : column === 'user.id' ? trace.user?.id : trace[column];
  if (value === null || value === undefined) return '';
  if (column === 'time' || column === 'record_time') return iso(value as number);
  return neutralise(typeof value === 'string' ? value : JSON.stringify(value));
}

/**
 * CSV rows of traces, formula-safe; with `header`, the header line first and a UTF-8 BOM so
 * spreadsheets read it right. Streams write the header once, then rows in batches.
 */
export function csvRows(traces: Trace[], options: { header: boolean }): string {
  return stringify(
    traces.map((trace) => CSV_COLUMNS.map((column) => cell(trace, column))),
    { header: options.header, columns: [...CSV_COLUMNS], bom: options.header },
  );
}
