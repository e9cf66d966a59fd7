import type { Client } from '@libsql/client';

export const CTS_CODE = /^CTS\.\d{4}$/;

/** What is wrong with an error response, or undefined when it is a CTS error body (DESIGN §3). */
export function ctsErrorProblem(
  status: number,
  contentType: string | null,
  text: string,
): string | undefined {
  if (!contentType?.includes('application/json')) return `content-type ${contentType}, not JSON`;
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return 'the body is not JSON';
  }
  const { error_code, error_msg } = (body ?? {}) as Record<string, unknown>;
  if (typeof error_code !== 'string' || !CTS_CODE.test(error_code)) return `error_code ${String(error_code)}`;
  if (typeof error_msg !== 'string' || error_msg === '') return 'error_msg is not a non-empty string';
  if (status < 400) return `status ${status} with an error body`;
  return undefined;
}

/** A short, printable excerpt of a request or response body for failure messages. */
export function excerpt(value: unknown, max = 300): string {
  const text =
    typeof value === 'string'
      ? value
      : value instanceof Uint8Array
        ? `<${value.length} bytes>`
        : JSON.stringify(value);
  if (text === undefined) return String(value);
  const escaped = JSON.stringify(text.length > max ? `${text.slice(0, max)}…(${text.length} chars)` : text);
  return escaped;
}

/**
 * A refused management call that CTS recorded about itself (issue 13: refusals are audited): a
 * `CTS` trace rated `warning` with a 4xx code. Hostile input may add these, and nothing else.
 */
const REFUSAL_RECORD = "service_type = 'CTS' AND trace_rating = 'warning' AND code LIKE '4__'";

/** Per table, the rows a hostile request must leave exactly as they were. */
const UNCHANGED_ROWS: Record<string, string> = {
  traces: `WHERE NOT (${REFUSAL_RECORD})`,
  // Deliveries queued for a notification rule that matches the refusal records.
  notification_outbox: `WHERE trace_id NOT IN (SELECT trace_id FROM traces WHERE ${REFUSAL_RECORD})`,
};

/**
 * `traces.indexed` says whether a row's slotted index entries are written yet: an index pass
 * (store/staged-index.ts) may set it between two snapshots without changing what is stored.
 */
export const isBookkeeping = (column: string) => column === 'indexed';

/**
 * Every row of every table (migrations bookkeeping excepted), as one comparable string per table,
 * less the records of refused calls (and their notification deliveries) and the `indexed` column:
 * two snapshots are equal exactly when nothing else was inserted, updated or deleted. Rows are
 * ordered by rowid.
 */
export async function snapshotTables(client: Client): Promise<Record<string, string>> {
  const tables = await client.execute(
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '%drizzle%' ORDER BY name",
  );
  const snapshot: Record<string, string> = {};
  for (const row of tables.rows) {
    const name = String(row.name);
    const rows = await client.execute(`SELECT * FROM "${name}" ${UNCHANGED_ROWS[name] ?? ''} ORDER BY rowid`);
    snapshot[name] = JSON.stringify(
      rows.rows.map((r) =>
        Object.entries(r).flatMap(([column, value]) => (isBookkeeping(column) ? [] : [value])),
      ),
      (_, v) =>
        typeof v === 'bigint' ? v.toString() : v instanceof ArrayBuffer ? Buffer.from(v).toString('hex') : v,
    );
  }
  return snapshot;
}
