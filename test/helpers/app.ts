import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from '@libsql/client';
import { createApp } from '../../src/app';
import { type Config, parseConfig } from '../../src/config';
import type { Deps, Logger } from '../../src/domain/deps';
import { createApiKey, createProject } from '../../src/domain/projects/projects';
import { databaseDeps } from '../../src/domain/shards/router';
import { createFsBucketStore } from '../../src/runtime/fs-bucket';
import { migrateDb, nodeShardConnector } from '../../src/runtime/node-db';
import { createDb, type Db } from '../../src/store/db';
import { stageSmallWrites } from '../../src/store/staged-index';

export const silentLogger: Logger = { info() {}, warn() {}, error() {} };

/** A clock the test moves by hand. */
export function manualClock(start = Date.UTC(2026, 10, 24, 12, 0, 0)) {
  let now = start;
  const clock = () => now;
  return Object.assign(clock, {
    set: (t: number) => {
      now = t;
    },
    advance: (ms: number) => {
      now += ms;
    },
  });
}

export type ManualClock = ReturnType<typeof manualClock>;

/**
 * A migrated database: in-memory by default, or any libSQL URL (e.g. a sqld server). An embedded
 * one stages the slotted index entries of small trace writes, as the Node server's does
 * (`openNodeDb`, store/staged-index.ts).
 */
export async function openTestDb(url = ':memory:', authToken?: string): Promise<Db> {
  const remote = /^(https?|wss?|libsql):/.test(url);
  const client = createClient({ url, authToken, ...(remote ? {} : { concurrency: 1 }) });
  const db = createDb(client);
  await migrateDb(db);
  // A failing index pass throws out of its promise: the run reports it as an unhandled error.
  if (!remote)
    stageSmallWrites(db, (error) => {
      throw error;
    });
  return db;
}

export interface TestEnv {
  app: ReturnType<typeof createApp>;
  deps: Deps;
  clock: ManualClock;
  projectId: string;
  keys: { admin: string; reader: string; reporter: string };
  /** Calls the app in-process with a key; JSON bodies are encoded. */
  call(
    method: string,
    path: string,
    options?: { key?: string | null; body?: unknown; headers?: Record<string, string> },
  ): Promise<Response>;
  close(): void;
}

/** A fresh app on its own database with one project and a key of each role. */
export async function makeTestEnv(
  options: { dbUrl?: string; authToken?: string; config?: Record<string, string>; deps?: Partial<Deps> } = {},
): Promise<TestEnv> {
  const clock = manualClock();
  const db = await openTestDb(options.dbUrl, options.authToken);
  const dataDir = mkdtempSync(join(tmpdir(), 'cts-test-'));
  const config: Config = parseConfig({ CTS_DATA_DIR: dataDir, ...options.config });
  const deps: Deps = {
    ...databaseDeps(db, nodeShardConnector(config)),
    config,
    buckets: createFsBucketStore(join(dataDir, 'buckets')),
    clock,
    logger: silentLogger,
    waitUntil: (work) => void work.catch(() => {}),
    ...options.deps,
  };
  const project = await createProject(deps);
  const keys = {
    admin: (await createApiKey(deps, { projectId: project.id, role: 'admin' })).token,
    reader: (await createApiKey(deps, { projectId: project.id, role: 'reader' })).token,
    reporter: (await createApiKey(deps, { projectId: project.id, role: 'reporter' })).token,
  };
  const app = createApp(deps);
  return {
    app,
    deps,
    clock,
    projectId: project.id,
    keys,
    call(method, path, { key = keys.admin, body, headers = {} } = {}) {
      const init: RequestInit = { method, headers: { ...headers } };
      if (key) (init.headers as Record<string, string>)['X-Auth-Token'] = key;
      if (body !== undefined) {
        (init.headers as Record<string, string>)['Content-Type'] ??= 'application/json';
        init.body = typeof body === 'string' ? body : JSON.stringify(body);
      }
      return Promise.resolve(app.request(path, init));
    },
    close: () => {
      deps.shards.close();
      db.$client.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A valid reported trace, with overrides. */
export function aTrace(overrides: Record<string, unknown> = {}) {
  return {
    trace_name: 'createServer',
    trace_rating: 'normal',
    trace_type: 'ApiCall',
    service_type: 'ECS',
    resource_type: 'ecs',
    resource_id: 'srv-1',
    resource_name: 'web-1',
    time: Date.UTC(2026, 10, 24, 11, 30, 0),
    user: { id: 'u1', name: 'alice', domain: { id: 'd1', name: 'acme' } },
    source_ip: '198.51.100.7',
    request_id: 'req-1',
    code: 200,
    api_version: '1.0',
    request: { server: { name: 'web-1' } },
    response: { status: 'SUCCESS' },
    ...overrides,
  };
}
