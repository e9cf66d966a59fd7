import type { BatchItem } from 'drizzle-orm/batch';
import { type Db, isBusyError } from './db';

/**
 * Group commit. With one embedded connection, every write is its own transaction and pays its
 * own commit (WAL frames for every index page it touched); writes that arrive while one is
 * committing wait anyway. Here they wait in a queue instead and go together in the next
 * transaction, each still atomic and with its own results. Nothing waits for a timer: a write
 * that finds the queue idle starts at once.
 *
 * Writes of a `MergeKind` (trace inserts) go further: those of one group become one statement,
 * so that a group of single-trace reports costs one prepared statement and no BEGIN/COMMIT
 * round trip instead of one statement each (ADR 0001).
 *
 * A write the database refuses as busy (a libSQL server with concurrent writers answers so) is
 * retried after a short pause, a few times: nothing of it was written.
 *
 * Enabled per database by the runtime (`coalesceWrites`): on Workers a database call must belong
 * to the request that makes it, so the Worker keeps one transaction per write.
 */

/** Writes whose items can share one statement; each still gets its own result. */
export interface MergeKind<Item> {
  /** The statement for the items of one write (`merged` false) or of several, in order. */
  statement(items: Item[], merged: boolean): BatchItem<'sqlite'>;
  /** Each write's result from the merged statement's; `parts` are the writes' items in order. */
  split(result: unknown, parts: Item[][]): unknown[];
}

interface Write {
  /** Empty for a mergeable write: its statement is made when it runs (see `statementsOf`). */
  statements: BatchItem<'sqlite'>[];
  merge?: { kind: MergeKind<unknown>; items: unknown[] };
  resolve(results: unknown[]): void;
  reject(error: unknown): void;
}

interface Queue {
  pending: Write[];
  running: boolean;
}

/** At most this many statements in one transaction (a 1,000-trace report is one or two). */
const MAX_GROUP_STATEMENTS = 32;
/**
 * At most this many items in one group (as many as one report may carry), merged or not: large
 * reports commit one at a time, each answered as soon as it is stored, instead of waiting for a
 * whole group and then sending their clients back all at once — with the database on a thread
 * (`runtime/split-client.ts`) the server parses the next report while one is written.
 */
const MAX_MERGED_ITEMS = 1000;

const queues = new WeakMap<Db, Queue>();

/** After the I/O callbacks already due (Node, Bun); a timer elsewhere (Deno has no setImmediate). */
const nextTurn: (run: () => void) => void =
  typeof globalThis.setImmediate === 'function' ? globalThis.setImmediate : (run) => setTimeout(run, 0);

/** Lets concurrent writes to `db` share transactions (see above). */
export function coalesceWrites(db: Db): void {
  if (!queues.has(db)) queues.set(db, { pending: [], running: false });
}

/** Runs `statements` atomically, grouped with concurrent writes when `db` allows it. */
export function runWrite(db: Db, statements: BatchItem<'sqlite'>[]): Promise<unknown[]> {
  return enqueue(db, { statements });
}

/**
 * Runs the one statement `kind` makes of `items`, merged with concurrent writes of the same kind
 * when `db` allows it; resolves with `[result]` as `runWrite` would.
 */
export function runMergeableWrite<Item>(db: Db, kind: MergeKind<Item>, items: Item[]): Promise<unknown[]> {
  return enqueue(db, { statements: [], merge: { kind: kind as MergeKind<unknown>, items } });
}

/** A write's statements; a mergeable write's statement is made only if it runs alone. */
function statementsOf(write: Pick<Write, 'statements' | 'merge'>): BatchItem<'sqlite'>[] {
  return write.merge ? [write.merge.kind.statement(write.merge.items, false)] : write.statements;
}

function enqueue(db: Db, write: Pick<Write, 'statements' | 'merge'>): Promise<unknown[]> {
  const queue = queues.get(db);
  if (!queue) return runAtomically(db, statementsOf(write));
  return new Promise((resolve, reject) => {
    queue.pending.push({ ...write, resolve, reject });
    if (queue.running) return;
    queue.running = true;
    // The embedded driver runs a statement synchronously, blocking the event loop: start after the
    // requests already received have had a turn to reach their write, so that they join this group.
    nextTurn(() => void drain(db, queue));
  });
}

/** Pauses before the retries of a write the database refused as busy (nothing was written). */
const BUSY_RETRY_MS = [10, 50, 250];

async function runAtomically(db: Db, statements: BatchItem<'sqlite'>[]): Promise<unknown[]> {
  for (const pause of BUSY_RETRY_MS) {
    try {
      return await runOnce(db, statements);
    } catch (error) {
      if (!isBusyError(error)) throw error;
      await new Promise((resolve) => setTimeout(resolve, pause));
    }
  }
  return runOnce(db, statements);
}

async function runOnce(db: Db, statements: BatchItem<'sqlite'>[]): Promise<unknown[]> {
  const [first, ...others] = statements;
  if (!first) return [];
  // A single statement is atomic by itself: no BEGIN/COMMIT round trips.
  if (others.length === 0) return [await first];
  return db.batch([first, ...others]);
}

/** The writes of one merged statement. */
interface Merged {
  kind: MergeKind<unknown>;
  writes: Write[];
  items: number;
}

/** What one transaction runs: plain writes' statements, and merged statements. */
type Part = { write: Write } | { merged: Merged };

async function drain(db: Db, queue: Queue): Promise<void> {
  try {
    while (queue.pending.length > 0) await runGroup(db, takeGroup(queue));
  } finally {
    queue.running = false;
  }
}

function takeGroup(queue: Queue): Part[] {
  const parts: Part[] = [];
  const open = new Map<MergeKind<unknown>, Merged>();
  let size = 0;
  let items = 0;
  while (queue.pending.length > 0) {
    const write = queue.pending[0]!;
    const merge = write.merge;
    if (merge && parts.length > 0 && items + merge.items.length > MAX_MERGED_ITEMS) break;
    items += merge?.items.length ?? 0;
    const joins = merge && open.get(merge.kind);
    if (joins) {
      joins.writes.push(write);
      joins.items += merge.items.length;
    } else {
      const cost = merge ? 1 : write.statements.length;
      if (parts.length > 0 && size + cost > MAX_GROUP_STATEMENTS) break;
      size += cost;
      if (merge) {
        const merged = { kind: merge.kind, writes: [write], items: merge.items.length };
        open.set(merge.kind, merged);
        parts.push({ merged });
      } else {
        parts.push({ write });
      }
    }
    queue.pending.shift();
  }
  return parts;
}

const writesOf = (part: Part) => ('write' in part ? [part.write] : part.merged.writes);

async function runGroup(db: Db, parts: Part[]): Promise<void> {
  const alone = parts.length === 1 && 'write' in parts[0]!;
  if (!alone) {
    try {
      const statements = parts.flatMap((part) => {
        if ('write' in part) return part.write.statements;
        const { kind, writes } = part.merged;
        if (writes.length === 1) return statementsOf(writes[0]!);
        return [
          kind.statement(
            writes.flatMap((write) => write.merge!.items),
            true,
          ),
        ];
      });
      const results = await runAtomically(db, statements);
      let at = 0;
      for (const part of parts) {
        if ('write' in part || part.merged.writes.length === 1) {
          const [write] = writesOf(part);
          const count = write!.merge ? 1 : write!.statements.length;
          write!.resolve(results.slice(at, at + count));
          at += count;
          continue;
        }
        const { kind, writes } = part.merged;
        const each = kind.split(
          results[at++],
          writes.map((write) => write.merge!.items),
        );
        for (const [i, write] of writes.entries()) write.resolve([each[i]]);
      }
      return;
    } catch {
      // One write's failure must not fail the others: retry each alone, below.
    }
  }
  for (const write of parts.flatMap(writesOf)) {
    try {
      write.resolve(await runAtomically(db, statementsOf(write)));
    } catch (error) {
      write.reject(error);
    }
  }
}
