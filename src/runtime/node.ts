import { resolve } from 'node:path';
import { type ServerType, serve } from '@hono/node-server';
import { createApp } from '../app';
import { type Config, parseConfig } from '../config';
import { consoleLogger, type Deps } from '../domain/deps';
import { bootstrap } from '../domain/projects/bootstrap';
import type { BucketStore } from '../transfer/bucket';
import { createS3BucketStore, s3OptionsFromConfig } from '../transfer/s3-bucket';
import { createFsBucketStore } from './fs-bucket';
import { migrateDb, openNodeDb } from './node-db';

/** The Node dependencies for a configuration: embedded or remote libSQL, S3 or folder buckets. */
export async function buildNodeDeps(config: Config, overrides: Partial<Deps> = {}): Promise<Deps> {
  const db = overrides.db ?? (await openNodeDb(config));
  await migrateDb(db);
  return {
    db,
    config,
    buckets: overrides.buckets ?? nodeBucketStore(config),
    clock: overrides.clock ?? Date.now,
    logger: overrides.logger ?? consoleLogger,
    waitUntil: overrides.waitUntil ?? ((work) => void work.catch(() => {})),
  };
}

/** S3 when `CTS_S3_ENDPOINT` is set, else folders under `<data dir>/buckets/`. */
export function nodeBucketStore(config: Config): BucketStore {
  if (config.CTS_S3_ENDPOINT) return createS3BucketStore(s3OptionsFromConfig(config));
  return createFsBucketStore(resolve(config.CTS_DATA_DIR, 'buckets'));
}

export interface RunningServer {
  url: string;
  deps: Deps;
  close(): Promise<void>;
}

/** Starts the single-process server: migrations, bootstrap, HTTP. */
export async function startNodeServer(
  env: Record<string, string | undefined>,
  overrides: Partial<Deps> = {},
): Promise<RunningServer> {
  const config = parseConfig(env);
  const deps = await buildNodeDeps(config, overrides);
  const boot = await bootstrap(deps, {
    projectId: config.CTS_PROJECT_ID,
    adminToken: config.CTS_ADMIN_TOKEN,
  });
  const app = createApp(deps);
  const server: ServerType = await new Promise((ready) => {
    const s = serve({ fetch: app.fetch, hostname: config.HOST, port: config.PORT }, () => ready(s));
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.PORT;
  const url = `http://${config.HOST.includes(':') ? `[${config.HOST}]` : config.HOST}:${port}`;
  deps.logger.info('Cloud Trace Service listening', { url, projectId: boot.project.id });
  if (boot.generatedKey) {
    // Printed once, on the first start only: the key is stored as a hash and cannot be shown again.
    console.log(
      `\nFirst start: created project ${boot.project.id} with an admin API key (shown only now):\n\n  ${boot.generatedKey.token}\n\n` +
        `Try: curl -H "X-Auth-Token: <key>" ${url}/v3/${boot.project.id}/traces\n`,
    );
  }
  return {
    url,
    deps,
    close: () =>
      new Promise<void>((done) => {
        server.close(() => done());
        deps.db.$client.close();
      }),
  };
}
