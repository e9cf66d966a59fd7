/**
 * `npm run dev:worker`: the Worker in `wrangler dev` (workerd, on http://127.0.0.1:8787) against
 * a local libSQL server (sqld) and a local S3 endpoint (s3rver), both on 127.0.0.1 with their
 * data under `data/dev-worker/` so it survives restarts. Migrates the database first, as
 * `cts migrate` does before a deployment. Ctrl-C stops all three.
 *
 * Settings: CTS_ADMIN_TOKEN / CTS_PROJECT_ID (defaults below, for local use only), PORT (8787).
 */
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import S3rver from 's3rver';
import { parseConfig } from '../src/config';
import { migrateDb, openNodeDb } from '../src/runtime/node-db';
import { startSqld } from '../test/helpers/sqld';

const ROOT = resolve(import.meta.dirname, '..');
const DATA = join(ROOT, 'data', 'dev-worker');
const adminToken = process.env.CTS_ADMIN_TOKEN || 'dev-admin-token-not-for-production';
const projectId = process.env.CTS_PROJECT_ID || '00000000000000000000000000000de7';
const port = process.env.PORT || '8787';

mkdirSync(join(DATA, 's3'), { recursive: true });
const sqld = await startSqld({ dbPath: join(DATA, 'sqld') });
const s3rver = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: join(DATA, 's3') });
const { port: s3Port } = await s3rver.run();

const db = await openNodeDb(parseConfig({ CTS_DATABASE_URL: sqld.url }));
await migrateDb(db);
db.$client.close();

const vars: Record<string, string> = {
  CTS_DATABASE_URL: sqld.url,
  CTS_ADMIN_TOKEN: adminToken,
  CTS_PROJECT_ID: projectId,
  CTS_S3_ENDPOINT: `http://127.0.0.1:${s3Port}`,
  CTS_S3_REGION: 'us-east-1',
  // s3rver accepts any signature made with these.
  CTS_S3_ACCESS_KEY_ID: 'S3RVER',
  CTS_S3_SECRET_ACCESS_KEY: 'S3RVER',
};
console.log(
  `libSQL ${sqld.url}, S3 ${vars.CTS_S3_ENDPOINT} (data in ${DATA})\n` +
    `Project ${projectId}, admin key ${adminToken}\n` +
    `Fire the cron: curl 'http://127.0.0.1:${port}/__scheduled?cron=*+*+*+*+*'\n`,
);

const wrangler = spawn(
  process.execPath,
  [
    join(ROOT, 'node_modules/wrangler/bin/wrangler.js'),
    'dev',
    '--ip',
    '127.0.0.1',
    '--port',
    port,
    '--test-scheduled',
    ...Object.entries(vars).flatMap(([name, value]) => ['--var', `${name}:${value}`]),
  ],
  { cwd: ROOT, stdio: 'inherit', env: { ...process.env, WRANGLER_SEND_METRICS: 'false' } },
);

let stopping = false;
async function stop(code: number) {
  if (stopping) return;
  stopping = true;
  if (wrangler.exitCode === null) wrangler.kill('SIGINT');
  s3rver.httpServer?.closeAllConnections();
  await Promise.all([s3rver.close(), sqld.stop()]);
  process.exit(code);
}
wrangler.once('exit', (code) => void stop(code ?? 0));
process.once('SIGINT', () => void stop(0));
process.once('SIGTERM', () => void stop(0));
