import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Client, createClient, LibsqlBatchError, LibsqlError } from '@libsql/client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config';
import { recordTraces } from '../../src/domain/traces/record';
import { ReportedTraceSchema } from '../../src/domain/traces/schema';
import { openThreadClient } from '../../src/runtime/db-thread';
import { migrateDb, openNodeDb } from '../../src/runtime/node-db';
import { isBusyError } from '../../src/store/db';
import { countTraces } from '../../src/store/trace-queries';
import { aTrace } from '../helpers/app';

// The embedded database on a worker thread (src/runtime/db-thread.ts), against the real driver:
// what comes back must be what the driver on this thread gives, errors included.

const SCHEMA = `
  CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, score REAL, data BLOB);
  INSERT INTO t (name, score, data) VALUES ('a', 1.5, x'0102'), ('b', NULL, NULL);
`;

describe('the database thread client', () => {
  let dir: string;
  let url: string;
  let thread: Client;
  let direct: Client;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cts-db-thread-'));
    url = `file:${join(dir, 'test.db')}`;
    thread = await openThreadClient({ url, concurrency: 1 });
    await thread.executeMultiple(`PRAGMA journal_mode = WAL; ${SCHEMA}`);
    direct = createClient({ url, concurrency: 1 } as never);
  });
  afterEach(() => {
    thread.close();
    direct.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('returns what the driver returns: rows by index and by name, counts, rowids', async () => {
    const query = { sql: 'SELECT id, name, score, data, ? AS extra FROM t ORDER BY id', args: [7] };
    const [mine, theirs] = [await thread.execute(query), await direct.execute(query)];
    expect(JSON.stringify(mine)).toBe(JSON.stringify(theirs));
    const row = mine.rows[0]!;
    expect([row[0], row[1], row[2], row[4], row.length]).toEqual([1, 'a', 1.5, 7, 5]);
    expect(row.name).toBe('a');
    expect(new Uint8Array(row.data as ArrayBuffer)).toEqual(new Uint8Array([1, 2]));
    // drizzle reads a row's enumerable keys (the column names) and its values by index.
    expect(Object.keys(row)).toEqual(Object.keys(theirs.rows[0]!));
    expect(Array.prototype.slice.call(row)).toEqual(Array.prototype.slice.call(theirs.rows[0]!));
    expect(mine.columns).toEqual(['id', 'name', 'score', 'data', 'extra']);

    const insert = await thread.execute('INSERT INTO t (name) VALUES (?)', ['c']);
    expect(insert.rowsAffected).toBe(1);
    expect(insert.lastInsertRowid).toBe(3n);
    const results = await thread.batch([
      { sql: 'UPDATE t SET score = ? WHERE name = ?', args: [2, 'c'] },
      'SELECT count(*) AS n FROM t',
    ]);
    expect(results.map((r) => r.rowsAffected)).toEqual([1, 0]);
    expect(results[1]!.rows[0]!.n).toBe(3);
  });

  it('rejects with the driver error and its code; a failed batch writes nothing', async () => {
    const duplicate = await thread.execute("INSERT INTO t (name) VALUES ('a')").catch((e) => e);
    expect(duplicate).toBeInstanceOf(LibsqlError);
    expect(duplicate.code).toBe('SQLITE_CONSTRAINT');
    expect(duplicate.extendedCode).toBe('SQLITE_CONSTRAINT_UNIQUE');
    expect(duplicate.message).toMatch(/^SQLITE_CONSTRAINT: UNIQUE constraint failed: t\.name/);
    expect(duplicate.cause.code).toBe('SQLITE_CONSTRAINT_UNIQUE');

    const failed = await thread
      .batch(["INSERT INTO t (name) VALUES ('z')", "INSERT INTO t (name) VALUES ('b')"])
      .catch((e) => e);
    expect(failed).toBeInstanceOf(LibsqlBatchError);
    expect([failed.statementIndex, failed.code]).toEqual([1, 'SQLITE_CONSTRAINT']);
    expect((await thread.execute("SELECT count(*) AS n FROM t WHERE name = 'z'")).rows[0]!.n).toBe(0);

    const syntax = await thread.execute('SELEC 1').catch((e) => e);
    expect(syntax.code).toBe('SQLITE_ERROR');
    // The thread is still serving.
    expect((await thread.execute('SELECT 1 AS one')).rows[0]!.one).toBe(1);
  });

  it('reports a write lock held elsewhere as SQLITE_BUSY (retryable)', async () => {
    await thread.execute('PRAGMA busy_timeout = 0');
    const holder = await direct.transaction('write');
    try {
      await holder.execute("INSERT INTO t (name) VALUES ('held')");
      const busy = await thread.execute("INSERT INTO t (name) VALUES ('blocked')").catch((e) => e);
      expect(busy).toBeInstanceOf(LibsqlError);
      expect(busy.code).toBe('SQLITE_BUSY');
      expect(isBusyError(busy)).toBe(true);
    } finally {
      await holder.rollback();
    }
    await thread.execute("INSERT INTO t (name) VALUES ('blocked')");
  });

  it('runs concurrent calls in the order they were made, each with its own result', async () => {
    const calls = Array.from({ length: 200 }, (_, i) =>
      i % 3 === 0
        ? thread.batch([
            { sql: 'INSERT INTO t (name) VALUES (?)', args: [`n${i}`] },
            'SELECT max(id) AS id FROM t',
          ])
        : thread.execute({ sql: 'SELECT ? AS i, (SELECT count(*) FROM t) AS n', args: [i] }),
    );
    const results = await Promise.all(calls);
    let inserted = 0;
    for (const [i, result] of results.entries()) {
      if (i % 3 === 0) {
        inserted++;
        expect((result as Awaited<ReturnType<Client['batch']>>)[1]!.rows[0]!.id).toBe(2 + inserted);
      } else {
        const row = (result as Awaited<ReturnType<Client['execute']>>).rows[0]!;
        expect([row.i, row.n]).toEqual([i, 2 + inserted]);
      }
    }
  });

  it('finishes the calls made before close, refuses later ones, and lets the process exit', async () => {
    const before = thread.execute('SELECT 1 AS one');
    thread.close();
    expect(thread.closed).toBe(true);
    expect((await before).rows[0]!.one).toBe(1);
    const after = await thread.execute('SELECT 1').catch((e) => e);
    expect(after).toBeInstanceOf(LibsqlError);
    expect(after.code).toBe('CLIENT_CLOSED');
    expect(() => thread.close()).not.toThrow();
  });

  it('refuses interactive transactions (the app writes atomically with batch)', async () => {
    await expect(thread.transaction()).rejects.toMatchObject({ code: 'TRANSACTION_UNSUPPORTED' });
  });
});

describe('openNodeDb on Node', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'cts-db-thread-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('with CTS_DATABASE_THREAD=all, runs the embedded database on a thread: pragmas, migrations, group commit', async () => {
    const db = await openNodeDb(parseConfig({ CTS_DATA_DIR: dir, CTS_DATABASE_THREAD: 'all' }));
    try {
      expect(db.$client.constructor.name).toBe('ThreadClient');
      await migrateDb(db);
      const pragmas = await db.$client.execute('PRAGMA journal_mode');
      expect(pragmas.rows[0]![0]).toBe('wal');
      expect((await db.$client.execute('PRAGMA wal_autocheckpoint')).rows[0]![0]).toBe(10000);
      const projectId = '0123456789abcdef0123456789abcdef';
      const traces = (...ids: string[]) =>
        ids.map((id) => ReportedTraceSchema.parse(aTrace({ trace_id: id, time: Date.now() })));
      const deps = { db, clock: Date.now };
      const results = await Promise.all([
        recordTraces(deps, projectId, traces('a', 'b')),
        recordTraces(deps, projectId, traces('b', 'c')),
        recordTraces(deps, projectId, traces('c', 'c', 'd')),
      ]);
      expect(results.map((r) => [r.recorded, r.duplicates])).toEqual([
        [2, 0],
        [1, 1],
        [1, 2],
      ]);
      expect(await countTraces(db, projectId)).toBe(4);
    } finally {
      db.$client.close();
    }
  });

  it('keeps the driver on the calling thread when asked (the bench ceilings)', async () => {
    for (const db of [
      await openNodeDb(parseConfig({ CTS_DATA_DIR: dir, CTS_DATABASE_THREAD: 'off' })),
      await openNodeDb(parseConfig({ CTS_DATA_DIR: dir, CTS_DATABASE_THREAD: 'all' }), { thread: 'off' }),
    ]) {
      expect(db.$client.constructor.name).toBe('Sqlite3Client');
      db.$client.close();
    }
  });
});
