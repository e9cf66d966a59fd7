import { getTableColumns, sql } from 'drizzle-orm';
import { wellFormedJsonText } from '../domain/text';
import type { Db } from './db';
import { readMaintenanceMark, writeMaintenanceMark } from './maintenance-queries';
import { traces } from './schema/traces';

const TASK = 'traces-utf8';
/** Rows checked per statement: bounds one request to a libSQL server on a large table. */
const CHUNK = 50_000;

const TEXT_COLUMNS = Object.values(getTableColumns(traces))
  .filter((column) => column.columnType === 'SQLiteText')
  .map((column) => column.name);

/**
 * Earlier versions could store text that is not UTF-8 in `traces`: a lone `\udc00` in a JSON
 * body became the bytes `ED B0 80` through `->>`, and the libSQL client aborts the process on
 * reading them. Such bytes (a UTF-16 surrogate, `ED A0..BF xx`) always start with `ED`, so a row
 * is a candidate when a text column holds an `ED` byte (`instr` on the column as a blob, which
 * returns no text); candidates are read as blobs, and a column that is not valid UTF-8 is
 * rewritten with U+FFFD in place of each bad sequence. Hangul (also `ED`) decodes and is kept.
 * The JSON columns could also keep such a string as the escape `\udc00` (valid UTF-8, but no
 * valid Unicode once parsed): those escapes become `\ufffd`.
 *
 * Runs after the migrations; `maintenance` remembers the last `seq` checked, so each row is
 * checked once and later starts only look at rows added since (which cannot hold such bytes).
 * Returns how many rows were rewritten.
 */
export async function repairStoredText(db: Db): Promise<number> {
  const done = await readMaintenanceMark(db, TASK);
  const [last] = await db.select({ seq: sql<number | null>`max(${traces.seq})` }).from(traces);
  const through = last?.seq ?? 0;
  let repaired = 0;
  for (let from = done ?? 0; from < through; from += CHUNK) {
    const rows = await repairRange(db, from, Math.min(from + CHUNK, through));
    repaired += rows;
  }
  await writeMaintenanceMark(db, TASK, through);
  return repaired;
}

/** The columns holding JSON text, where an earlier version could store a `\udc00` escape. */
const JSON_COLUMNS = [traces.user, traces.request, traces.response, traces.message].map(
  (column) => column.name,
);
const CANDIDATE = [
  ...TEXT_COLUMNS.map((name) => `instr(cast("${name}" as blob), x'ed') > 0`),
  ...JSON_COLUMNS.map((name) => `"${name}" like '%\\ud%'`),
].join(' or ');
const AS_BLOBS = TEXT_COLUMNS.map((name) => `cast("${name}" as blob) as "${name}"`).join(', ');
const strict = new TextDecoder('utf-8', { fatal: true });
const lenient = new TextDecoder('utf-8');

/** The text of bytes that are not UTF-8: one U+FFFD per encoded surrogate (as the writer meant). */
function decodeRepairing(bytes: Uint8Array): string {
  const fixed = Uint8Array.from(bytes);
  for (let i = 0; i + 2 < fixed.length; i++) {
    const [a, b, c] = [fixed[i], fixed[i + 1] ?? 0, fixed[i + 2] ?? 0];
    if (a === 0xed && b >= 0xa0 && b <= 0xbf && c >= 0x80 && c <= 0xbf) fixed.set([0xef, 0xbf, 0xbd], i);
  }
  return lenient.decode(fixed); // anything else invalid: U+FFFD per bad byte
}

/** Repairs the candidates with `from < seq <= to`; returns how many rows changed. */
async function repairRange(db: Db, from: number, to: number): Promise<number> {
  const candidates = await db.$client.execute({
    sql: `select seq, ${AS_BLOBS} from traces where seq > ? and seq <= ? and (${CANDIDATE})`,
    args: [from, to],
  });
  let repaired = 0;
  for (const row of candidates.rows) {
    const fixes: Record<string, string> = {};
    for (const name of TEXT_COLUMNS) {
      const value = row[name];
      if (!(value instanceof ArrayBuffer)) continue;
      const bytes = new Uint8Array(value);
      let text: string;
      try {
        text = strict.decode(bytes);
      } catch {
        text = decodeRepairing(bytes);
        fixes[name] = text;
      }
      if (JSON_COLUMNS.includes(name)) {
        const repaired = wellFormedJsonText(text);
        if (repaired !== text) fixes[name] = repaired;
      }
    }
    const names = Object.keys(fixes);
    if (names.length === 0) continue;
    await db.$client.execute({
      sql: `update traces set ${names.map((name) => `"${name}" = ?`).join(', ')} where seq = ?`,
      args: [...names.map((name) => fixes[name] ?? null), Number(row.seq)],
    });
    repaired++;
  }
  return repaired;
}
