/**
 * API keys are cached per database for `KEY_TTL_MS` (src/domain/projects/key-cache.ts): a key
 * revoked by another process (another server or Worker isolate on the same database, the CLI)
 * stops working here within that bound, one revoked through this process at once, and tokens that
 * failed are never cached.
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KEY_TTL_MS } from '../../src/domain/projects/key-cache';
import { createApiKey, revokeApiKey } from '../../src/domain/projects/projects';
import { databaseDeps } from '../../src/domain/shards/router';
import type { Db } from '../../src/store/db';
import { makeTestEnv, openTestDb, type TestEnv } from '../helpers/app';
import { useBackends } from '../helpers/backends';

const backends = useBackends();

describe.each(backends)('the API key cache ($name)', (backend) => {
  let env: TestEnv;
  /** Another client of the same database: another process, as far as the cache can tell. */
  let elsewhere: Db;
  let dir: string;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cts-key-cache-'));
    const url = backend.dbUrl() ?? `file:${join(dir, 'cts.db')}`;
    env = await makeTestEnv({ dbUrl: url });
    elsewhere = await openTestDb(url);
  });
  afterEach(() => {
    elsewhere.$client.close();
    env.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const read = (key: string) => env.call('GET', `/v3/${env.projectId}/traces`, { key });

  it('stops accepting a key revoked by another process within KEY_TTL_MS', async () => {
    const key = await createApiKey(env.deps, { projectId: env.projectId, role: 'reader' });
    expect((await read(key.token)).status).toBe(200);
    const other = { ...databaseDeps(elsewhere), clock: env.clock };
    expect(await revokeApiKey(other, env.projectId, key.id)).toBe(true);
    env.clock.advance(KEY_TTL_MS);
    expect((await read(key.token)).status).toBe(401);
    expect((await read(env.keys.reader)).status).toBe(200);
  });

  it('stops accepting a key revoked through this process at once', async () => {
    const key = await createApiKey(env.deps, { projectId: env.projectId, role: 'reader' });
    expect((await read(key.token)).status).toBe(200);
    await revokeApiKey(env.deps, env.projectId, key.id);
    expect((await read(key.token)).status).toBe(401);
  });

  it('does not remember a token that failed: a key created elsewhere works at once', async () => {
    const token = `cts_${'a1'.repeat(32)}`;
    expect((await read(token)).status).toBe(401);
    await createApiKey(
      { ...databaseDeps(elsewhere), clock: env.clock },
      { projectId: env.projectId, role: 'reader', token },
    );
    expect((await read(token)).status).toBe(200);
  });
});
