/**
 * The Worker bundle in workerd with projects on shards: a control `sqld` and two shard `sqld`s
 * registered by `cts shards add`. Each project's requests go to its shard (the placement is
 * cached per isolate), the cron trigger archives every shard, and a stopped shard answers 503
 * with `Retry-After` for its project only.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Miniflare } from 'miniflare';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createS3BucketStore } from '../../src/transfer/s3-bucket';
import { aTrace } from '../helpers/app';
import { type S3rverHandle, startS3rver } from '../helpers/s3rver';
import { traceIdsIn } from '../helpers/shards';
import { type SqldServer, startSqld } from '../helpers/sqld';
import { buildWorker, runCli, startWorkers } from '../helpers/worker';

const TOKEN = 'worker-shards-admin-token-0123';
const FIRST = 'aa86d081884c7d659a2feaa0c55ad015';

let outdir: string;
let bundle: string;
let control: SqldServer;
let shards: SqldServer[];
let s3: S3rverHandle;
let mf: Miniflare;
let workerLog = '';
const keys: Record<string, string> = {};

beforeAll(async () => {
  outdir = mkdtempSync(join(tmpdir(), 'cts-worker-shards-'));
  let one: SqldServer;
  let two: SqldServer;
  [bundle, control, one, two, s3] = await Promise.all([
    buildWorker(outdir),
    startSqld(),
    startSqld(),
    startSqld(),
    startS3rver(),
  ]);
  shards = [one, two];
  const cli = { CTS_DATABASE_URL: control.url };
  await runCli(['migrate'], cli);
  await runCli(['shards', 'add', '--url', one.url, '--id', 'one'], cli);
  await runCli(['shards', 'add', '--url', two.url, '--id', 'two'], cli);
  mf = startWorkers(
    bundle,
    { cts: { CTS_DATABASE_URL: control.url, CTS_ADMIN_TOKEN: TOKEN, CTS_PROJECT_ID: FIRST, ...s3.config } },
    (chunk) => {
      workerLog += chunk;
    },
  );
  await mf.ready;
  // The isolate's start bootstraps the first project (on "one": both empty, the older wins); the
  // CLI's next project goes to the emptier shard, "two".
  await (await mf.getWorker('cts')).fetch('http://cts.test/health');
  const second = JSON.parse((await runCli(['projects', 'create'], cli)).stdout) as {
    id: string;
  };
  keys.second = second.id;
  const key = await runCli(['keys', 'create', '--project', second.id, '--role', 'admin'], cli);
  keys.secondToken = key.stdout.match(/cts_[0-9a-f]{64}/)![0];
}, 120_000);

afterAll(async () => {
  await Promise.allSettled([
    mf?.dispose(),
    control?.stop(),
    ...(shards ?? []).map((s) => s.stop()),
    s3?.stop(),
  ]);
  rmSync(outdir, { recursive: true, force: true });
});

const call = async (path: string, token: string, init: { method?: string; body?: unknown } = {}) => {
  const worker = await mf.getWorker('cts');
  return worker.fetch(`http://cts.test${path}`, {
    method: init.method ?? 'GET',
    headers: { 'X-Auth-Token': token, 'Content-Type': 'application/json' },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
};

it('routes each project to its shard, archives every shard from the cron, and isolates a stopped one', async () => {
  const projects = [
    { id: FIRST, token: TOKEN, shard: shards[0]!, bucket: 'worker-shard-one' },
    { id: keys.second!, token: keys.secondToken!, shard: shards[1]!, bucket: 'worker-shard-two' },
  ];
  const now = Date.now();
  for (const p of projects) {
    const configure = await call(`/v3/${p.id}/tracker`, p.token, {
      method: 'PUT',
      body: {
        tracker_type: 'system',
        tracker_name: 'system',
        obs_info: { bucket_name: p.bucket, is_obs_created: true },
      },
    });
    expect(configure.status, await configure.clone().text()).toBe(200);
    const res = await call(`/v3/${p.id}/traces`, p.token, {
      method: 'POST',
      body: { traces: [aTrace({ trace_id: `at-${p.bucket}`, time: now - 120_000 })] },
    });
    expect(res.status, await res.clone().text()).toBe(201);
  }
  expect(await traceIdsIn(shards[0]!.url, FIRST)).toContain('at-worker-shard-one');
  expect(await traceIdsIn(shards[1]!.url, keys.second!)).toContain('at-worker-shard-two');
  expect(await traceIdsIn(control.url, FIRST)).toEqual([]);

  const worker = await mf.getWorker('cts');
  const tick = await worker.scheduled({ cron: '* * * * *', scheduledTime: new Date(now + 3_600_000) });
  expect(tick.outcome, workerLog).toBe('ok');
  for (const p of projects) {
    const bucket = createS3BucketStore({ ...s3, forcePathStyle: true }).bucket(p.bucket);
    const keysIn: string[] = [];
    for await (const { key } of bucket.list('CloudTraces/')) keysIn.push(key);
    expect(
      keysIn.some((key) => key.includes(`/ECS/`)),
      p.bucket,
    ).toBe(true);
  }

  await shards[1]!.stop();
  const refused = await call(`/v3/${keys.second}/traces`, keys.secondToken!);
  expect(refused.status, workerLog.slice(-3000)).toBe(503);
  expect(refused.headers.get('Retry-After')).toBe('1');
  expect(((await refused.json()) as { error_code: string }).error_code).toBe('CTS.0005');
  const served = await call(`/v3/${FIRST}/traces`, TOKEN);
  expect(served.status).toBe(200);
  expect(
    ((await served.json()) as { traces: Array<{ trace_id: string }> }).traces.map((t) => t.trace_id),
  ).toContain('at-worker-shard-one');
}, 120_000);
