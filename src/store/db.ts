import type { Client } from '@libsql/client';
import type { LibSQLDatabase } from 'drizzle-orm/libsql/driver-core';
import { drizzle } from 'drizzle-orm/libsql/web';
import * as schema from './schema';

export type Db = LibSQLDatabase<typeof schema> & { $client: Client };

/** Wraps an already-built libSQL client (node, web or remote) in the typed drizzle database. */
export function createDb(client: Client): Db {
  return drizzle({ client, schema });
}

/**
 * Begins a statement that no request waits for (an index pass, `staged-index.ts`): a runtime with
 * a database thread runs it there (`runtime/split-client.ts`), in order with the other calls.
 */
export const ON_DATABASE_THREAD = '/* background */ ';

/**
 * Per-connection settings for an embedded database. The embedded client is opened with a single
 * connection (`concurrency: 1`) so these stay in force; writes that must be atomic use
 * `db.batch`, never an interactive transaction (which would hold that one connection).
 */
export function embeddedPragmas(cacheMb: number): string {
  return [
    'PRAGMA journal_mode = WAL',
    'PRAGMA synchronous = NORMAL',
    'PRAGMA busy_timeout = 5000',
    'PRAGMA temp_store = MEMORY',
    `PRAGMA cache_size = -${cacheMb * 1024}`,
    // Checkpoint every ~40 MB of WAL instead of 4 MB: index pages that every write batch touches
    // (the current slot's) are copied back to the database once per checkpoint, not per batch.
    'PRAGMA wal_autocheckpoint = 10000',
    'PRAGMA journal_size_limit = 67108864',
    'PRAGMA foreign_keys = ON',
  ].join(';\n');
}

/**
 * Whether a database error (or one it wraps: drizzle wraps the driver's) is SQLite's "busy" or
 * "locked": another connection holds the write lock. Nothing was written; the write may be retried.
 * A libSQL server (sqld) answers concurrent write transactions this way.
 */
export function isBusyError(error: unknown): boolean {
  for (let e = error, depth = 0; e != null && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = String((e as { code?: unknown }).code ?? '');
    if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) return true;
  }
  return false;
}

/** Connection failures of a libSQL server's client (Node's fetch, workerd's, the OS). */
const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
]);

/**
 * Whether a database error (or one it wraps) says the database server could not be reached:
 * the request may be retried later; nothing of a write that failed so was committed.
 */
export function isUnreachableError(error: unknown): boolean {
  for (let e = error, depth = 0; e != null && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = String((e as { code?: unknown }).code ?? '');
    if (UNREACHABLE_CODES.has(code) || code.startsWith('UND_ERR_CONNECT') || code === 'UND_ERR_SOCKET')
      return true;
    const message = String((e as { message?: unknown }).message ?? '');
    // Node's fetch: TypeError "fetch failed"; workerd: "Network connection lost." (an Error there).
    if (e instanceof Error && /^(fetch failed|Network connection lost)/.test(message)) return true;
  }
  return false;
}

/** Whether a database answers a query within `timeoutMs` (`cts shards list`); never throws. */
export async function answers(db: Db, timeoutMs = 3_000): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  try {
    return await Promise.race([db.$client.execute('select 1').then(() => true), timeout]);
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}
