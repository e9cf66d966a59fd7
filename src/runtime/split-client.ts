import type { Client, InArgs, InStatement, ResultSet, Transaction, TransactionMode } from '@libsql/client';
import { ON_DATABASE_THREAD } from '../store/db';

/**
 * One embedded database through two connections: `direct` on the calling thread, `thread` on a
 * database thread (`db-thread.ts`). A call that carries at least `LARGE_ARGS` characters of
 * arguments — an insert of many traces — or that no request waits for (`ON_DATABASE_THREAD`: an
 * index pass) runs on the thread, so that the server parses and validates the next requests while
 * SQLite writes; every other call (reads, a group of single-trace reports) runs directly, without
 * the cost of crossing threads (ADR 0001, issue 16).
 *
 * Calls keep the order they were made in, as on one connection: while a call on the thread is
 * running, later calls wait for it, so the two connections never hold a write lock at once and a
 * caller's later read sees its earlier write. With nothing on the thread, a direct call runs at once.
 */
export const LARGE_ARGS = 65_536;
/** How often the thread checkpoints what the direct connection wrote, at most. */
const CHECKPOINT_EVERY_MS = 100;
/**
 * WAL pages after which the direct connection checkpoints by itself (~160 MB): only if the
 * thread's checkpoints fall behind (or stop), so that the WAL stays bounded whatever happens.
 */
export const DIRECT_AUTOCHECKPOINT = 40_000;

type BatchStatement = InStatement | [string, InArgs?];

/** Whether `stmt` is a statement no request waits for (an index pass). */
function isBackground(stmt: BatchStatement | string): boolean {
  const sql = typeof stmt === 'string' ? stmt : Array.isArray(stmt) ? stmt[0] : stmt.sql;
  return sql.startsWith(ON_DATABASE_THREAD);
}

/** Characters of text arguments (and bytes of blobs) that `stmt` carries. */
function argsSize(stmt: BatchStatement | string): number {
  if (typeof stmt === 'string') return 0;
  const args = Array.isArray(stmt) ? stmt[1] : stmt.args;
  if (!args) return 0;
  let size = 0;
  for (const value of Array.isArray(args) ? args : Object.values(args)) {
    if (typeof value === 'string') size += value.length;
    else if (value instanceof ArrayBuffer || ArrayBuffer.isView(value)) size += value.byteLength;
  }
  return size;
}

export function splitClient(direct: Client, thread: Client): Client {
  return new SplitClient(direct, thread);
}

class SplitClient implements Client {
  readonly protocol = 'file';
  #direct: Client;
  #thread: Client;
  /** The last call sent to the thread, settled or not; undefined once it has settled. */
  #onThread: Promise<unknown> | undefined;
  /** The last call that ran directly (settled or not). */
  #lastDirect: Promise<unknown> | undefined;
  #checkpointing = false;
  #checkpointedAt = 0;

  constructor(direct: Client, thread: Client) {
    this.#direct = direct;
    this.#thread = thread;
  }

  get closed(): boolean {
    return this.#direct.closed;
  }

  #run<T>(large: boolean, call: (client: Client) => Promise<T>): Promise<T> {
    const before = this.#onThread;
    if (!large && !before) {
      const result = call(this.#direct);
      this.#lastDirect = result;
      this.#checkpointSoon();
      return result;
    }
    // A direct call starts a microtask after it was made: a call for the thread waits for it too.
    const after = before ?? this.#lastDirect;
    const run = () => call(large ? this.#thread : this.#direct);
    const result = after ? after.then(run, run) : run();
    const settled = () => {};
    const tail = result.then(settled, settled);
    this.#onThread = tail;
    void tail.then(() => {
      if (this.#onThread === tail) this.#onThread = undefined;
    });
    return result;
  }

  /**
   * Copies what the direct connection committed from the WAL back into the database, on the
   * thread: the direct connection checkpoints only as a backstop (`DIRECT_AUTOCHECKPOINT`), so
   * that a small write never stops the server's thread to copy pages and wait for the disk.
   * PASSIVE never waits for a writer or blocks one; what it cannot copy yet, the next one does.
   */
  #checkpointSoon(): void {
    if (this.#checkpointing || performance.now() - this.#checkpointedAt < CHECKPOINT_EVERY_MS) return;
    this.#checkpointing = true;
    const done = () => {
      this.#checkpointing = false;
      this.#checkpointedAt = performance.now();
    };
    this.#thread.execute('PRAGMA wal_checkpoint(PASSIVE)').then(done, done);
  }

  execute(stmtOrSql: InStatement | string, args?: InArgs): Promise<ResultSet> {
    const stmt = typeof stmtOrSql === 'string' && args !== undefined ? { sql: stmtOrSql, args } : stmtOrSql;
    return this.#run(isBackground(stmt) || argsSize(stmt) >= LARGE_ARGS, (client) => client.execute(stmt));
  }

  batch(stmts: BatchStatement[], mode?: TransactionMode): Promise<ResultSet[]> {
    let size = 0;
    for (const stmt of stmts) size += argsSize(stmt);
    return this.#run(size >= LARGE_ARGS || stmts.some(isBackground), (client) => client.batch(stmts, mode));
  }

  migrate(stmts: InStatement[]): Promise<ResultSet[]> {
    return this.#run(false, (client) => client.migrate(stmts));
  }

  executeMultiple(sql: string): Promise<void> {
    return this.#run(false, (client) => client.executeMultiple(sql));
  }

  transaction(mode?: TransactionMode): Promise<Transaction> {
    return this.#run(false, (client) => client.transaction(mode));
  }

  sync(): Promise<undefined> {
    return Promise.resolve(undefined);
  }

  close(): void {
    this.#direct.close();
    this.#thread.close();
  }

  reconnect(): void {
    this.#direct.reconnect();
  }
}
