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
 * Enabled per database by the runtime (`coalesceWrites`). One group runs at a time, led by the
 * write at the head of the queue: it runs the group that holds it, then hands the lead to the next
 * head. So every database call is made by a request whose own write is in it, which Workers
 * require (a request's I/O belongs to that request), and a database gets one write at a time from
 * each isolate or process — a libSQL server (`sqld`) stopped answering every writer when 16 wrote
 * at once (ADR 0005).
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
  /** Wakes the writer to run the next group (it is the queue's head). */
  lead(): void;
}

interface Queue {
  pending: Write[];
  /** A leader is waiting for its turn or running a group. */
  running: boolean;
  /** Workers (see `coalesceWrites`). */
  requestScoped: boolean;
}

/** Keeps a request's work running after its response or its client's disconnection (`waitUntil`). */
export type KeepAlive = (work: Promise<unknown>) => void;

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

/**
 * Lets concurrent writes to `db` share transactions (see above).
 *
 * `requestScoped` (Workers): the runtime ties work to the request that started it. It cancels a
 * request's pending work when the client goes away — a write's wait, and the group it may lead
 * for others, would stop with it — so each write hands its wait to the `keepAlive` its caller
 * passes (the request's `waitUntil`). And it cancels a request that waits with no I/O or timer of
 * its own ("the Worker's code had hung"), which a write waiting for another request's group is:
 * each waiting write keeps a timer, which also ends a wait that lasts `QUEUE_WAIT_LIMIT_MS`
 * while the write is still queued (a busy error: nothing of it was written).
 */
export function coalesceWrites(db: Db, options: { requestScoped?: boolean } = {}): void {
  if (!queues.has(db))
    queues.set(db, { pending: [], running: false, requestScoped: options.requestScoped ?? false });
}

/** How long a write may wait in a request-scoped queue before it is refused as busy. */
export const QUEUE_WAIT_LIMIT_MS = 10_000;

/** A write that waited too long for its turn: nothing of it was written (see `isBusyError`). */
export class QueueWaitError extends Error {
  readonly code = 'SQLITE_BUSY';
  constructor() {
    super(`The write waited ${QUEUE_WAIT_LIMIT_MS} ms for the writes before it: the database is busy.`);
  }
}

/** Runs `statements` atomically, grouped with concurrent writes when `db` allows it. */
export function runWrite(
  db: Db,
  statements: BatchItem<'sqlite'>[],
  keepAlive?: KeepAlive,
): Promise<unknown[]> {
  return enqueue(db, { statements }, keepAlive);
}

/**
 * Runs the one statement `kind` makes of `items`, merged with concurrent writes of the same kind
 * when `db` allows it; resolves with `[result]` as `runWrite` would.
 */
export function runMergeableWrite<Item>(
  db: Db,
  kind: MergeKind<Item>,
  items: Item[],
  keepAlive?: KeepAlive,
): Promise<unknown[]> {
  return enqueue(db, { statements: [], merge: { kind: kind as MergeKind<unknown>, items } }, keepAlive);
}

/** A write's statements; a mergeable write's statement is made only if it runs alone. */
function statementsOf(write: Pick<Write, 'statements' | 'merge'>): BatchItem<'sqlite'>[] {
  return write.merge ? [write.merge.kind.statement(write.merge.items, false)] : write.statements;
}

function enqueue(
  db: Db,
  write: Pick<Write, 'statements' | 'merge'>,
  keepAlive?: KeepAlive,
): Promise<unknown[]> {
  const queue = queues.get(db);
  if (!queue) return runAtomically(db, statementsOf(write));
  const done = waitAndRun(db, queue, write);
  if (queue.requestScoped) keepAlive?.(done.then(ignore, ignore));
  return done;
}

const ignore = () => {};

type Outcome = 'lead' | { results: unknown[] } | { error: unknown };

/**
 * Queues the write and waits: for its results (a group led by another write held it), or for its
 * turn to lead, when it runs the group that holds it (it is the head) and hands the lead on.
 * Each wait is a promise the writer makes itself, so it resumes in its own request's context.
 */
async function waitAndRun(
  db: Db,
  queue: Queue,
  write: Pick<Write, 'statements' | 'merge'>,
): Promise<unknown[]> {
  let wake: (outcome: Outcome) => void = ignore;
  const next = () =>
    new Promise<Outcome>((settle) => {
      wake = settle;
    });
  let outcome = next();
  const entry: Write = {
    ...write,
    resolve: (results) => wake({ results }),
    reject: (error) => wake({ error }),
    lead: () => {
      watch?.stop(); // a leader waits on its own group's I/O, and is no longer queued
      wake('lead');
    },
  };
  queue.pending.push(entry);
  const watch = queue.requestScoped ? watchWait(queue, entry) : undefined;
  if (!queue.running) {
    queue.running = true;
    // The embedded driver runs a statement synchronously, blocking the event loop: start after the
    // requests already received have had a turn to reach their write, so that they join this group.
    nextTurn(() => entry.lead());
  }
  try {
    if ((await outcome) === 'lead') {
      outcome = next(); // settled by the group below, which holds this write
      try {
        await runGroup(db, takeGroup(queue));
      } finally {
        const head = queue.pending[0];
        if (head) head.lead();
        else queue.running = false;
      }
    }
    const settled = await outcome;
    if (settled === 'lead') throw new Error('write queue: a write was woken to lead twice');
    if ('error' in settled) throw settled.error;
    return settled.results;
  } finally {
    watch?.stop();
  }
}

/**
 * A timer in the waiting request's own context (see `coalesceWrites`): every
 * `QUEUE_WAIT_LIMIT_MS` a write still queued is taken out and refused as busy; one already in a
 * running group waits on for that group's answer.
 */
function watchWait(queue: Queue, entry: Write): { stop(): void } {
  let timer: ReturnType<typeof setTimeout>;
  const arm = () => {
    timer = setTimeout(() => {
      const at = queue.pending.indexOf(entry);
      if (at < 0) return arm();
      queue.pending.splice(at, 1);
      entry.reject(new QueueWaitError());
    }, QUEUE_WAIT_LIMIT_MS);
  };
  arm();
  return { stop: () => clearTimeout(timer) };
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
