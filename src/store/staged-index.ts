import { sql } from 'drizzle-orm';
import { type Db, ON_DATABASE_THREAD } from './db';
import { runWrite } from './write-queue';

/**
 * Staged index entries (ADR 0001 §12, issue 16). A small write — a group of single-trace reports —
 * stores its rows with `indexed = 0`: they go into the table and the indexes whose new entries land
 * on a few hot pages (the trace id, time, and the low-cardinality filters), but not into the eight
 * slotted indexes, where each row of a small transaction dirties a leaf page of its own. An index
 * pass then sets `indexed = 1` on up to `INDEX_BATCH` rows in one transaction, which adds their
 * slotted entries together, a few rows a page. The rows are stored, and found by every query, from
 * their first commit: a query driven by a slotted filter also reads the staged rows of its project
 * through `traces_unindexed` (`trace-search.ts`). Which index holds a row is decided by SQLite
 * from the row itself (partial indexes on `indexed`), so no crash can leave a row in neither.
 *
 * Enabled per database by the runtime (`stageSmallWrites`); elsewhere every row is written with
 * `indexed = 1` and the staged part of a query finds nothing.
 */

/** Statements inserting fewer rows than this stage them (a 1,000-trace report is indexed at once). */
export const STAGE_BELOW = 64;
/** Rows an index pass indexes in one transaction, and the staged rows that start one. */
export const INDEX_BATCH = 1000;
/** A row waits at most about this long for its pass, however few rows are staged. */
export const MAX_STAGE_MS = 250;
/**
 * Staged rows past which writes are indexed at once again: bounds what queries read from
 * `traces_unindexed` (and what waits for a pass) if passes fail or fall behind.
 */
export const MAX_STAGED = 20_000;

interface Staging {
  /** Rows staged since the last pass started (an estimate: a staged statement may roll back). */
  staged: number;
  pass?: Promise<void>;
  timer?: ReturnType<typeof setTimeout>;
  onError(error: unknown): void;
}

const stagings = new WeakMap<Db, Staging>();

/** Lets small trace writes to `db` stage their slotted index entries (see above). */
export function stageSmallWrites(db: Db, onError: (error: unknown) => void): void {
  if (!stagings.has(db)) stagings.set(db, { staged: 0, onError });
}

/** The `indexed` value for a statement that inserts `rows` rows into `db`, counted if staged. */
export function indexedFlag(db: Db, rows: number): 0 | 1 {
  const staging = stagings.get(db);
  if (!staging || rows >= STAGE_BELOW || staging.staged >= MAX_STAGED) return 1;
  staging.staged += rows;
  return 0;
}

/** After a trace write: an index pass once a batch is staged, or `MAX_STAGE_MS` after the first. */
export function scheduleIndexPass(db: Db): void {
  const staging = stagings.get(db);
  if (!staging || staging.staged === 0 || staging.pass) return;
  if (staging.staged >= INDEX_BATCH) {
    runPass(db, staging);
  } else if (!staging.timer) {
    staging.timer = setTimeout(() => runPass(db, staging), MAX_STAGE_MS);
    (staging.timer as { unref?: () => void }).unref?.();
  }
}

function runPass(db: Db, staging: Staging): void {
  clearTimeout(staging.timer);
  staging.timer = undefined;
  if (staging.pass || db.$client.closed) return;
  const counted = staging.staged;
  staging.staged = 0;
  staging.pass = indexStaged(db)
    .then(
      () => {},
      (error) => {
        if (db.$client.closed) return; // shut down mid-pass: the next start indexes the rest
        staging.staged += counted; // still staged: counts towards MAX_STAGED
        staging.onError(error);
      },
    )
    .finally(() => {
      staging.pass = undefined;
      scheduleIndexPass(db); // rows staged meanwhile
    });
}

/**
 * Indexes every staged row of `db`, `INDEX_BATCH` rows a transaction (each through the write
 * queue, between groups of writes); returns how many. Also run at start-up for the rows a stopped
 * process left staged.
 */
export async function indexStaged(db: Db): Promise<number> {
  let total = 0;
  for (;;) {
    const [result] = (await runWrite(db, [db.run(INDEX_PASS)])) as Array<{ rowsAffected: number }>;
    const rows = result?.rowsAffected ?? 0;
    total += rows;
    if (rows < INDEX_BATCH) return total;
  }
}

const INDEX_PASS = sql.raw(
  `${ON_DATABASE_THREAD}update traces set indexed = 1 where seq in (select seq from traces indexed by traces_unindexed where indexed = 0 limit ${INDEX_BATCH})`,
);
