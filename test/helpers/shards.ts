import { createClient } from '@libsql/client';
import { createApiKey, createProject } from '../../src/domain/projects/projects';
import { addShard } from '../../src/domain/shards/shards';
import { migrateShardDatabase } from '../../src/runtime/node-db';
import type { TestEnv } from './app';

/** Registers a libSQL database (a `file:` path or a sqld URL) as a shard of `env`, migrated first. */
export async function registerShard(env: TestEnv, url: string, id?: string) {
  return addShard(env.deps, { url, id }, (ref) => migrateShardDatabase(env.deps.config, ref));
}

/**
 * A new project of `env` (placed as `createProject` places it, or on `shard`) with a key of each
 * role, as a TestEnv whose `call` and helpers (`report`, `configureTracker`) act for it.
 */
export async function projectOf(env: TestEnv, shard?: string): Promise<TestEnv> {
  const project = await createProject(env.deps, { shard });
  const keys = {
    admin: (await createApiKey(env.deps, { projectId: project.id, role: 'admin' })).token,
    reader: (await createApiKey(env.deps, { projectId: project.id, role: 'reader' })).token,
    reporter: (await createApiKey(env.deps, { projectId: project.id, role: 'reporter' })).token,
  };
  return {
    ...env,
    projectId: project.id,
    keys,
    call: (method, path, options = {}) => env.call(method, path, { key: keys.admin, ...options }),
  };
}

/** The trace ids a libSQL database holds for a project, read with a client of its own. */
export async function traceIdsIn(url: string, projectId: string): Promise<string[]> {
  const client = createClient({ url });
  try {
    const rows = await client.execute({
      sql: 'select trace_id from traces where project_id = ? order by seq',
      args: [projectId],
    });
    return rows.rows.map((row) => String(row.trace_id));
  } finally {
    client.close();
  }
}
