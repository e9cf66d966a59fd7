/**
 * The code that runs on the database thread (see db-thread.ts). It is shipped to the thread as
 * its source text (`serveDatabase.toString()`), so that the same file works from TypeScript
 * (tests, `tsx`) and from any bundle without a second entry point: it must use nothing but its
 * parameter and globals — no imports, no helpers from outside the function.
 */

/** A call from the main thread. */
export type ThreadCall =
  | { id: number; op: 'execute'; stmt: unknown }
  | { id: number; op: 'batch' | 'migrate'; stmts: unknown[]; mode?: string }
  | { id: number; op: 'executeMultiple'; sql: string }
  | { id: number; op: 'close' };

/** A result set as it crosses threads: rows as plain arrays, in column order. */
export interface WireResultSet {
  columns: string[];
  columnTypes: string[];
  rows: unknown[][];
  rowsAffected: number;
  lastInsertRowid: bigint | undefined;
}

/** An error as it crosses threads, with the libSQL fields that callers look at. */
export interface WireError {
  name: string;
  message: string;
  stack?: string;
  code?: string;
  extendedCode?: string;
  rawCode?: number;
  statementIndex?: number;
}

export type ThreadReply =
  | { id: number; ok: true; value: WireResultSet | WireResultSet[] | undefined }
  | { id: number; ok: false; error: WireError };

/** What the thread is started with (`workerData`). */
export interface ThreadData {
  /** Resolved path of `@libsql/client` (CommonJS build): the thread has no module resolution of ours. */
  clientPath: string;
  config: { url: string; authToken?: string; concurrency?: number };
}

/** The thread's main function; `require` is the thread's own. */
export function serveDatabase(require: (id: string) => unknown): void {
  const { parentPort, workerData } = require('node:worker_threads') as typeof import('node:worker_threads');
  const data = workerData as ThreadData;
  const { createClient } = require(data.clientPath) as typeof import('@libsql/client');
  const wireResult = (result: import('@libsql/client').ResultSet): WireResultSet => ({
    columns: result.columns,
    columnTypes: result.columnTypes,
    rows: result.rows.map((row) => Array.prototype.slice.call(row)),
    rowsAffected: result.rowsAffected,
    lastInsertRowid: result.lastInsertRowid,
  });
  const wireError = (error: unknown): WireError => {
    if (!(error instanceof Error)) return { name: 'Error', message: String(error) };
    const fields = error as Error & Partial<WireError>;
    return {
      name: error.name,
      message: error.message,
      stack: error.stack,
      code: fields.code,
      extendedCode: fields.extendedCode,
      rawCode: fields.rawCode,
      statementIndex: fields.statementIndex,
    };
  };
  const port = parentPort!;
  let client: import('@libsql/client').Client;
  try {
    client = createClient(data.config);
  } catch (error) {
    port.postMessage({ id: 0, ok: false, error: wireError(error) } satisfies ThreadReply);
    port.close();
    return;
  }
  // Reply 0: the database is open.
  port.postMessage({ id: 0, ok: true, value: undefined } satisfies ThreadReply);

  const run = async (call: ThreadCall): Promise<WireResultSet | WireResultSet[] | undefined> => {
    switch (call.op) {
      case 'execute':
        return wireResult(await client.execute(call.stmt as never));
      case 'batch':
        return (await client.batch(call.stmts as never, call.mode as never)).map(wireResult);
      case 'migrate':
        return (await client.migrate(call.stmts as never)).map(wireResult);
      case 'executeMultiple':
        await client.executeMultiple(call.sql);
        return undefined;
      case 'close':
        client.close();
        return undefined;
    }
  };

  // Calls run one after another, in the order they were sent: the embedded driver is synchronous,
  // and the order is what the main thread's callers (group commit) rely on.
  let queue = Promise.resolve();
  port.on('message', (call: ThreadCall) => {
    queue = queue.then(async () => {
      let reply: ThreadReply;
      try {
        reply = { id: call.id, ok: true, value: await run(call) };
      } catch (error) {
        reply = { id: call.id, ok: false, error: wireError(error) };
      }
      port.postMessage(reply);
      if (call.op === 'close') port.close();
    });
  });
}
