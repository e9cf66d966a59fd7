import type { BatchItem } from 'drizzle-orm/batch';
import type { Db } from './db';

/**
 * Group commit. With one embedded connection, every write is its own transaction and pays its
 * own commit (WAL frames for every index page it touched); writes that arrive while one is
 * committing wait anyway. Here they wait in a queue instead and go together in the next
 * transaction, each still atomic and with its own results. Nothing waits for a timer: a write
 * that finds the queue idle starts at once.
 *
 * Enabled per database by the runtime (`coalesceWrites`): on Workers a database call must belong
 * to the request that makes it, so the Worker keeps one transaction per write.
 */
interface Write {
  statements: BatchItem<'sqlite'>[];
  resolve(results: unknown[]): void;
  reject(error: unknown): void;
}

interface Queue {
  pending: Write[];
  running: boolean;
}

/** At most this many statements in one transaction (a 1,000-trace report is one or two). */
const MAX_GROUP_STATEMENTS = 32;

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
  const queue = queues.get(db);
  if (!queue) return runAtomically(db, statements);
  return new Promise((resolve, reject) => {
    queue.pending.push({ statements, resolve, reject });
    if (queue.running) return;
    queue.running = true;
    // The embedded driver runs a statement synchronously, blocking the event loop: start after the
    // requests already received have had a turn to reach their write, so that they join this group.
    nextTurn(() => void drain(db, queue));
  });
}

async function runAtomically(db: Db, statements: BatchItem<'sqlite'>[]): Promise<unknown[]> {
  const [first, ...others] = statements;
  if (!first) return [];
  // A single statement is atomic by itself: no BEGIN/COMMIT round trips.
  if (others.length === 0) return [await first];
  return db.batch([first, ...others]);
}

async function drain(db: Db, queue: Queue): Promise<void> {
  try {
    while (queue.pending.length > 0) {
      const group: Write[] = [];
      let size = 0;
      while (
        queue.pending.length > 0 &&
        (group.length === 0 || size + queue.pending[0]!.statements.length <= MAX_GROUP_STATEMENTS)
      ) {
        const write = queue.pending.shift()!;
        group.push(write);
        size += write.statements.length;
      }
      await runGroup(db, group);
    }
  } finally {
    queue.running = false;
  }
}

async function runGroup(db: Db, group: Write[]): Promise<void> {
  if (group.length > 1) {
    try {
      const results = await runAtomically(
        db,
        group.flatMap((write) => write.statements),
      );
      let at = 0;
      for (const write of group) {
        write.resolve(results.slice(at, at + write.statements.length));
        at += write.statements.length;
      }
      return;
    } catch {
      // One write's failure must not fail the others: retry each alone, below.
    }
  }
  for (const write of group) {
    try {
      write.resolve(await runAtomically(db, write.statements));
    } catch (error) {
      write.reject(error);
    }
  }
}
