import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Client, createClient } from '@libsql/client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config';
import { openThreadClient } from '../../src/runtime/db-thread';
import { migrateDb, openNodeDb } from '../../src/runtime/node-db';
import { DIRECT_AUTOCHECKPOINT, LARGE_ARGS, splitClient } from '../../src/runtime/split-client';
import { embeddedPragmas, ON_DATABASE_THREAD } from '../../src/store/db';

// One embedded database through a direct connection and a database thread's (split-client.ts),
// both real: large writes go to the thread, the rest runs directly, in the order of the calls.

/** `client`, with each call's method written to `log` under `name`. */
function recorded(client: Client, name: string, log: string[]): Client {
  return new Proxy(client, {
    get(target, property) {
      const value = Reflect.get(target, property, target);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        const checkpoint = typeof args[0] === 'string' && args[0].startsWith('PRAGMA wal_checkpoint');
        if (property === 'execute' || property === 'batch')
          log.push(`${name} ${checkpoint ? 'checkpoint' : String(property)}`);
        return value.apply(target, args);
      };
    },
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('the split database client', () => {
  let dir: string;
  let url: string;
  let client: Client;
  let log: string[];
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cts-split-'));
    url = `file:${join(dir, 'test.db')}`;
    log = [];
    const direct = createClient({ url, concurrency: 1 } as never);
    await direct.executeMultiple(embeddedPragmas(8));
    await direct.execute(`PRAGMA wal_autocheckpoint = ${DIRECT_AUTOCHECKPOINT}`);
    await direct.execute('CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT NOT NULL)');
    const thread = await openThreadClient({ url, concurrency: 1 });
    await thread.executeMultiple(embeddedPragmas(8));
    client = splitClient(recorded(direct, 'direct', log), recorded(thread, 'thread', log));
  });
  afterEach(() => {
    client.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** One insert of `rows` rows of `size` characters each, as one JSON argument. */
  const insert = (rows: number, size: number) => ({
    sql: 'INSERT INTO t (body) SELECT value FROM json_each(?)',
    args: [JSON.stringify(Array.from({ length: rows }, (_, i) => `${i}`.padEnd(size, 'x')))],
  });
  const count = async () => Number((await client.execute('SELECT count(*) FROM t')).rows[0]![0]);

  it('runs a call with large arguments on the thread and every other call directly', async () => {
    await client.execute(insert(3, 100));
    await client.execute(insert(100, LARGE_ARGS / 50));
    await client.batch([insert(2, 100), insert(100, LARGE_ARGS / 50)]);
    await client.batch([insert(1, 10), 'SELECT 1']);
    expect(await count()).toBe(206);
    // Checkpoints go to the thread as well, beside the calls.
    expect(log.filter((call) => !call.endsWith('checkpoint'))).toEqual([
      'direct execute',
      'thread execute',
      'thread batch',
      'direct batch',
      'direct execute',
    ]);
    expect(log).toContain('thread checkpoint');
  });

  it('runs a statement no request waits for (ON_DATABASE_THREAD) on the thread, whatever its size', async () => {
    await client.execute(insert(3, 100));
    await client.execute(`${ON_DATABASE_THREAD}UPDATE t SET body = 'indexed' WHERE id <= 2`);
    await client.batch([insert(1, 10), `${ON_DATABASE_THREAD}DELETE FROM t WHERE id = 1`]);
    expect(log.filter((call) => !call.endsWith('checkpoint'))).toEqual([
      'direct execute',
      'thread execute',
      'thread batch',
    ]);
    const rows = await client.execute('SELECT id, body FROM t ORDER BY id');
    expect(rows.rows.map((row) => [row.id, row.body])).toEqual([
      [2, 'indexed'],
      [3, '2'.padEnd(100, 'x')],
      [4, '0'.padEnd(10, 'x')],
    ]);
  });

  it('keeps the order the calls were made in: a later read sees an earlier write on the thread', async () => {
    const large = client.execute(insert(2000, 100));
    const small = client.execute(insert(1, 10));
    const seen = client.execute('SELECT count(*) FROM t');
    const results = await Promise.all([large, small, seen]);
    expect(results.map((r) => r.rowsAffected)).toEqual([2000, 1, 0]);
    expect(Number(results[2].rows[0]![0])).toBe(2001);
    // The two connections never held the write lock at once: no write waited or failed as busy.
    const writes = await Promise.all(
      Array.from({ length: 20 }, (_, i) => client.execute(i % 4 === 0 ? insert(500, 200) : insert(2, 10))),
    );
    expect(writes.reduce((sum, r) => sum + r.rowsAffected, 0)).toBe(5 * 500 + 15 * 2);
    expect(await count()).toBe(2001 + 2530);
  });

  it('copies what the direct connection wrote back into the database on the thread (checkpoints)', async () => {
    const file = join(dir, 'test.db');
    const before = statSync(file).size;
    // ~2 MB in small writes: far below the direct connection's own checkpoint threshold.
    for (let i = 0; i < 100; i++) await client.execute(insert(10, 2000));
    expect(statSync(`${file}-wal`).size).toBeGreaterThan(2_000_000);
    let size = before;
    for (let waited = 0; waited < 5000 && size < 2_000_000; waited += 50) {
      await sleep(50);
      // A direct call lets the thread checkpoint again (at most every 100 ms).
      await client.execute('SELECT 1');
      size = statSync(file).size;
    }
    expect(size).toBeGreaterThan(2_000_000);
    expect(log).toContain('thread checkpoint');
    expect(log).not.toContain('direct checkpoint');
    expect(await count()).toBe(1000);
  });
});

describe('openNodeDb and CTS_DATABASE_THREAD', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'cts-split-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('by default (auto) splits an embedded file database; the direct connection checkpoints only as a backstop', async () => {
    const db = await openNodeDb(parseConfig({ CTS_DATA_DIR: dir }));
    try {
      expect(db.$client.constructor.name).toBe('SplitClient');
      await migrateDb(db);
      expect((await db.$client.execute('PRAGMA journal_mode')).rows[0]![0]).toBe('wal');
      expect((await db.$client.execute('PRAGMA wal_autocheckpoint')).rows[0]![0]).toBe(DIRECT_AUTOCHECKPOINT);
    } finally {
      db.$client.close();
    }
  });

  it('keeps an in-memory database on one connection, and reads the earlier boolean values', async () => {
    const memory = await openNodeDb(parseConfig({ CTS_DATABASE_URL: 'file::memory:' }));
    expect(memory.$client.constructor.name).not.toMatch(/Split|Thread/);
    memory.$client.close();
    expect(parseConfig({ CTS_DATABASE_THREAD: 'true' }).CTS_DATABASE_THREAD).toBe('all');
    expect(parseConfig({ CTS_DATABASE_THREAD: 'false' }).CTS_DATABASE_THREAD).toBe('off');
    expect(() => parseConfig({ CTS_DATABASE_THREAD: 'sometimes' })).toThrow(/CTS_DATABASE_THREAD/);
  });
});
