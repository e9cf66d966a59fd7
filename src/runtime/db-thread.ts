import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import {
  type Client,
  type InArgs,
  type InStatement,
  LibsqlBatchError,
  LibsqlError,
  type ResultSet,
  type Row,
  type Transaction,
  type TransactionMode,
} from '@libsql/client';
import {
  serveDatabase,
  type ThreadCall,
  type ThreadData,
  type ThreadReply,
  type WireError,
  type WireResultSet,
} from './db-thread-main';

/**
 * A libSQL `Client` whose embedded database runs on a worker thread (Node). The embedded driver
 * runs every statement synchronously: on the server's thread an insert of 1,000 traces stops
 * every other request for its duration. On its own thread it overlaps the parsing and validation
 * of the next requests. By default (`CTS_DATABASE_THREAD=auto`) only large writes and checkpoints
 * come here (`split-client.ts`): crossing threads costs a small write more than it saves;
 * `CTS_DATABASE_THREAD=all` sends every call (figures in ADR 0001, issue 16).
 *
 * Calls run on the thread one after another in the order they were made, exactly as on the
 * single connection (`concurrency: 1`) they replace; results come back as the driver builds them
 * (rows readable by index and by column name, as drizzle reads them), errors with their `code`.
 * Interactive transactions are not offered (the app uses `batch`; see store/db.ts).
 */
/** The exits of the database threads whose clients were closed and that have not exited yet. */
const closing = new Set<Promise<void>>();

/**
 * Resolves once every database thread closed so far has closed its database and exited. A process
 * awaits it before `process.exit`: exiting terminates a thread that is still closing its database,
 * and the native driver then aborts the process.
 */
export async function databaseThreadsClosed(): Promise<void> {
  await Promise.all(closing);
}

export async function openThreadClient(config: ThreadData['config']): Promise<Client> {
  const data: ThreadData = { clientPath: createRequire(import.meta.url).resolve('@libsql/client'), config };
  // `__name`: bundlers that keep function names (esbuild's keepNames) call it inside the function.
  const source = `"use strict";\nvar __name = (f) => f;\n(${serveDatabase.toString()})(require);`;
  const worker = new Worker(source, { eval: true, workerData: data });
  const client = new ThreadClient(worker);
  await client.opened;
  return client;
}

class ThreadClient implements Client {
  readonly protocol = 'file';
  closed = false;
  readonly opened: Promise<unknown>;
  #worker: Worker;
  #nextId = 1;
  #pending = new Map<number, { resolve(value: unknown): void; reject(error: unknown): void }>();
  #exited = false;
  #exit: Promise<void>;

  constructor(worker: Worker) {
    this.#worker = worker;
    this.#exit = new Promise((resolve) => worker.once('exit', () => resolve()));
    // Reply 0 says the database is open.
    this.opened = new Promise((resolve, reject) => this.#pending.set(0, { resolve, reject }));
    worker.on('message', (reply: ThreadReply) => this.#settle(reply));
    worker.on('error', (error) => this.#fail(error));
    worker.on('exit', (code) => {
      this.#exited = true;
      this.closed = true;
      this.#fail(new LibsqlError(`The database thread exited (code ${code})`, 'CLIENT_CLOSED'));
    });
  }

  #settle(reply: ThreadReply): void {
    const call = this.#pending.get(reply.id);
    if (!call) return;
    this.#pending.delete(reply.id);
    // An idle client does not keep the process alive (as the synchronous driver would not); a
    // closed one does, until its thread has closed the database and exited.
    if (this.#pending.size === 0 && !this.closed) this.#worker.unref();
    if (reply.ok) call.resolve(reply.value);
    else call.reject(errorFromWire(reply.error));
  }

  #fail(error: unknown): void {
    const calls = [...this.#pending.values()];
    this.#pending.clear();
    for (const call of calls) call.reject(error);
  }

  #call(call: DistributiveOmit<ThreadCall, 'id'>): Promise<unknown> {
    if (this.closed || this.#exited)
      return Promise.reject(new LibsqlError('The client is closed', 'CLIENT_CLOSED'));
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      if (this.#pending.size === 0) this.#worker.ref();
      this.#pending.set(id, { resolve, reject });
      this.#worker.postMessage({ ...call, id });
    });
  }

  async execute(stmtOrSql: InStatement | string, args?: InArgs): Promise<ResultSet> {
    const stmt = typeof stmtOrSql === 'string' && args !== undefined ? { sql: stmtOrSql, args } : stmtOrSql;
    return resultFromWire((await this.#call({ op: 'execute', stmt })) as WireResultSet);
  }

  async batch(stmts: Array<InStatement | [string, InArgs?]>, mode?: TransactionMode): Promise<ResultSet[]> {
    const wire = (await this.#call({ op: 'batch', stmts, ...(mode ? { mode } : {}) })) as WireResultSet[];
    return wire.map(resultFromWire);
  }

  async migrate(stmts: InStatement[]): Promise<ResultSet[]> {
    return ((await this.#call({ op: 'migrate', stmts })) as WireResultSet[]).map(resultFromWire);
  }

  async executeMultiple(sql: string): Promise<void> {
    await this.#call({ op: 'executeMultiple', sql });
  }

  transaction(): Promise<Transaction> {
    return Promise.reject(
      new LibsqlError(
        'Interactive transactions are not available on the database thread',
        'TRANSACTION_UNSUPPORTED',
      ),
    );
  }

  sync(): Promise<undefined> {
    return Promise.resolve(undefined);
  }

  /** Closes after the calls already made; the thread then exits. */
  close(): void {
    if (this.closed) return;
    const closed = this.#call({ op: 'close' });
    this.closed = true;
    void closed.catch(() => {});
    const exit = this.#exit;
    closing.add(exit);
    void exit.then(() => closing.delete(exit));
  }

  reconnect(): void {
    throw new LibsqlError('The database thread cannot reconnect', 'CLIENT_CLOSED');
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** A row as @libsql/client builds it: values by index (and `length`) not enumerable, by column name enumerable. */
function rowFromWire(values: unknown[], columns: string[]): Row {
  const row = {};
  Object.defineProperty(row, 'length', { value: values.length });
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    Object.defineProperty(row, i, { value });
    const column = columns[i]!;
    if (!Object.hasOwn(row, column)) {
      Object.defineProperty(row, column, { value, enumerable: true, configurable: true, writable: true });
    }
  }
  return row as Row;
}

/** As @libsql/client's `ResultSet.toJSON`: integers that need a bigint as text, blobs as base64. */
const valueToJson = (value: unknown) =>
  typeof value === 'bigint'
    ? `${value}`
    : value instanceof ArrayBuffer
      ? Buffer.from(value).toString('base64')
      : value;

function resultFromWire(wire: WireResultSet): ResultSet {
  const rows = wire.rows.map((values) => rowFromWire(values, wire.columns));
  return {
    columns: wire.columns,
    columnTypes: wire.columnTypes,
    rows,
    rowsAffected: wire.rowsAffected,
    lastInsertRowid: wire.lastInsertRowid,
    toJSON() {
      return {
        columns: wire.columns,
        columnTypes: wire.columnTypes,
        rows: wire.rows.map((values) => values.map(valueToJson)),
        rowsAffected: wire.rowsAffected,
        lastInsertRowid: wire.lastInsertRowid === undefined ? null : `${wire.lastInsertRowid}`,
      };
    },
  };
}

function errorFromWire(wire: WireError): Error {
  let error: Error;
  if (wire.code !== undefined) {
    // As the driver throws it: the native error (its code the extended one) as the cause.
    const native = wire.message.startsWith(`${wire.code}: `)
      ? wire.message.slice(wire.code.length + 2)
      : wire.message;
    const cause = Object.assign(new Error(native), { code: wire.extendedCode ?? wire.code });
    error =
      wire.statementIndex !== undefined
        ? new LibsqlBatchError(
            wire.message,
            wire.statementIndex,
            wire.code,
            wire.extendedCode,
            wire.rawCode,
            cause,
          )
        : new LibsqlError(wire.message, wire.code, wire.extendedCode, wire.rawCode, cause);
  } else {
    error = new Error(wire.message);
  }
  // The message already starts with the code (LibsqlError's constructor added it on the thread).
  error.message = wire.message;
  error.name = wire.name;
  // The thread's stack says where SQLite failed; the caller's is lost across threads either way.
  if (wire.stack) error.stack = wire.stack;
  return error;
}
