import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';
import { type Client, createClient } from '@libsql/client';
import { migrate } from 'drizzle-orm/libsql/migrator';
import type { Config } from '../config';
import { consoleLogger } from '../domain/deps';
import type { ConnectShard, ShardRef } from '../domain/shards/router';
import { createDb, type Db, embeddedPragmas } from '../store/db';
import { indexStaged, stageSmallWrites } from '../store/staged-index';
import { repairStoredText } from '../store/text-repair';
import { coalesceWrites } from '../store/write-queue';
import { openThreadClient } from './db-thread';
import { DIRECT_AUTOCHECKPOINT, splitClient } from './split-client';

export const MIGRATIONS_DIR = fileURLToPath(new URL('../../drizzle', import.meta.url));

/** The database URL the configuration points at (default: a file under the data directory). */
export function databaseUrl(config: Pick<Config, 'CTS_DATABASE_URL' | 'CTS_DATA_DIR'>): string {
  return config.CTS_DATABASE_URL ?? `file:${join(resolve(config.CTS_DATA_DIR), 'cts.db')}`;
}

/** Deno and Bun run this entry too: they keep the embedded database on the calling thread. */
const onNode = !('Deno' in globalThis) && !('bun' in process.versions);

type ThreadMode = Config['CTS_DATABASE_THREAD'];

/**
 * Opens the configured database from Node (embedded file, `:memory:` or a libSQL server). An
 * embedded file database on Node uses a database thread as `CTS_DATABASE_THREAD` (or `thread`)
 * says: `auto`, large writes and checkpoints there (`split-client.ts`); `all`, every call
 * (`db-thread.ts`); `off`, none.
 */
export async function openNodeDb(
  config: Pick<
    Config,
    'CTS_DATABASE_URL' | 'CTS_DATA_DIR' | 'CTS_DATABASE_AUTH_TOKEN' | 'CTS_DATABASE_CACHE_MB'
  > &
    Partial<Pick<Config, 'CTS_DATABASE_THREAD' | 'CTS_STAGED_INDEX'>>,
  { thread = config.CTS_DATABASE_THREAD ?? 'auto' }: { thread?: ThreadMode } = {},
): Promise<Db> {
  const url = databaseUrl(config);
  const embedded = url.startsWith('file:');
  const inMemory = url.startsWith('file::memory:') || url.includes('mode=memory');
  if (embedded && !inMemory) mkdirSync(resolve(url.slice('file:'.length), '..'), { recursive: true });
  const options = {
    url,
    ...(config.CTS_DATABASE_AUTH_TOKEN ? { authToken: config.CTS_DATABASE_AUTH_TOKEN } : {}),
    ...(embedded ? { concurrency: 1 } : {}),
  };
  // An in-memory database is one connection's: a second connection would open another database.
  const mode = !embedded || !onNode || (inMemory && thread === 'auto') ? 'off' : thread;
  const pragmas = embeddedPragmas(config.CTS_DATABASE_CACHE_MB);
  let client: Client;
  if (mode === 'all') {
    client = await openThreadClient(options);
    await client.executeMultiple(pragmas);
  } else {
    client = createClient(options);
    if (embedded) await client.executeMultiple(pragmas);
    if (mode === 'auto') {
      const threaded = await openThreadClient(options);
      await threaded.executeMultiple(pragmas);
      await client.execute(`PRAGMA wal_autocheckpoint = ${DIRECT_AUTOCHECKPOINT}`);
      client = splitClient(client, threaded);
    }
  }
  const db = createDb(client);
  // One process owns this client: concurrent trace writes may share transactions (group commit).
  coalesceWrites(db);
  // Small trace writes stage their slotted index entries; passes index them in batches (ADR 0001 §12).
  if (embedded && config.CTS_STAGED_INDEX !== 'off')
    stageSmallWrites(db, (error) => consoleLogger.error('index pass failed', { url, error: String(error) }));
  return db;
}

/**
 * Applies the generated migrations in `drizzle/`, repairs text that earlier versions could store
 * invalid (see store/text-repair.ts) and, in an embedded database, indexes the rows a stopped
 * process left staged (store/staged-index.ts); returns how many trace rows the repair rewrote.
 */
export async function migrateDb(db: Db): Promise<number> {
  await migrate(db, { migrationsFolder: MIGRATIONS_DIR });
  const repaired = await repairStoredText(db);
  // Only an embedded database stages rows (`openNodeDb`): a libSQL server is spared the write.
  if (db.$client.protocol === 'file') await indexStaged(db);
  return repaired;
}

/**
 * Opens registered shards from Node like the control database (embedded `file:` shards get the
 * same pragmas and group commit); a shard's auth token is read from the environment variable it
 * names, never from the database.
 */
export function nodeShardConnector(
  config: Pick<Config, 'CTS_DATA_DIR' | 'CTS_DATABASE_CACHE_MB'> &
    Partial<Pick<Config, 'CTS_DATABASE_THREAD' | 'CTS_STAGED_INDEX'>>,
  env: Record<string, string | undefined> = process.env,
): ConnectShard {
  return (shard) =>
    openNodeDb({
      ...config,
      CTS_DATABASE_URL: shard.url,
      CTS_DATABASE_AUTH_TOKEN: shard.tokenEnv ? env[shard.tokenEnv] : undefined,
    });
}

/** Opens a shard's database, applies the migrations and closes it again (`cts shards add`). */
export async function migrateShardDatabase(
  config: Parameters<typeof nodeShardConnector>[0],
  shard: ShardRef,
): Promise<void> {
  const db = await nodeShardConnector(config)(shard);
  try {
    await migrateDb(db);
  } finally {
    db.$client.close();
  }
}
