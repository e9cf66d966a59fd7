/**
 * The built Worker bundle (`npm run build:worker`) in workerd, against a real libSQL server
 * (sqld, migrated by `cts migrate`) and a real S3 endpoint (s3rver), all on 127.0.0.1: the fetch
 * path, the cron path (transfer to the bucket, retention), and configuration errors.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { createClient } from '@libsql/client';
import type { Miniflare } from 'miniflare';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createS3BucketStore } from '../../src/transfer/s3-bucket';
import { aTrace } from '../helpers/app';
import { type S3rverHandle, startS3rver } from '../helpers/s3rver';
import { type SqldServer, startSqld } from '../helpers/sqld';
import { buildWorker, runCli, startWorkers } from '../helpers/worker';

const PROJECT = '9f86d081884c7d659a2feaa0c55ad015';
const TOKEN = 'worker-admin-token-0123456789';
const REGION = 'eu-west-0';
const BUCKET = 'cts-archive';
const DAY = 86_400_000;
/** The first cron tick of the tests, on a whole minute like a real trigger. */
const T1 = Math.floor(Date.now() / 60_000) * 60_000;

let outdir: string;
let bundle: string;
let sqld: SqldServer;
let blankSqld: SqldServer;
let s3: S3rverHandle;
let mf: Miniflare;
let workerLog = '';

beforeAll(async () => {
  outdir = mkdtempSync(join(tmpdir(), 'cts-worker-'));
  [bundle, sqld, blankSqld, s3] = await Promise.all([
    buildWorker(outdir),
    startSqld(),
    startSqld(),
    startS3rver(),
  ]);
  // What an operator runs before deploying: the Worker itself never runs DDL.
  const migrated = await runCli(['migrate'], { CTS_DATABASE_URL: sqld.url });
  expect(migrated.stdout).toContain('Migrations applied.');
  mf = startWorkers(
    bundle,
    {
      cts: {
        CTS_DATABASE_URL: sqld.url,
        CTS_ADMIN_TOKEN: TOKEN,
        CTS_PROJECT_ID: PROJECT,
        CTS_REGION: REGION,
        ...s3.config,
      },
      misconfigured: { CTS_REGION: 'Not A Region', CTS_ADMIN_TOKEN: TOKEN },
      unmigrated: { CTS_DATABASE_URL: blankSqld.url, CTS_ADMIN_TOKEN: TOKEN },
    },
    (chunk) => {
      workerLog += chunk;
    },
  );
  await mf.ready;
}, 120_000);

afterAll(async () => {
  // Settled, not all: a failed start must not leave the servers behind.
  await Promise.allSettled([mf?.dispose(), sqld?.stop(), blankSqld?.stop(), s3?.stop()]);
  rmSync(outdir, { recursive: true, force: true });
});

interface ErrorBody {
  error_code: string;
  error_msg: string;
  details: Array<{ field: string }>;
}
interface TracePage {
  traces: Array<{ trace_id: string }>;
  meta_data: { marker: string | null };
}
interface TrackerList {
  trackers: Array<{ status: string; detail?: string }>;
}

/** The JSON body of a Worker response (workerd's Response types `json()` as unknown). */
const json = async <T>(res: { json(): Promise<unknown> }) => (await res.json()) as T;

const call = async (path: string, init: { method?: string; body?: unknown; worker?: string } = {}) => {
  const worker = await mf.getWorker(init.worker ?? 'cts');
  return worker.fetch(`http://cts.test${path}`, {
    method: init.method ?? 'GET',
    headers: { 'X-Auth-Token': TOKEN, 'Content-Type': 'application/json' },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
};

async function report(traces: Record<string, unknown>[]) {
  const res = await call(`/v3/${PROJECT}/traces`, { method: 'POST', body: { traces } });
  expect(res.status, await res.clone().text()).toBe(201);
  return res.json() as Promise<{ recorded: number }>;
}

/** One cron tick at `scheduledTime`, as Cloudflare fires it. */
async function tick(scheduledTime: number) {
  const worker = await mf.getWorker('cts');
  const result = await worker.scheduled({ cron: '* * * * *', scheduledTime: new Date(scheduledTime) });
  expect(result.outcome, workerLog).toBe('ok');
}

/** Trace ids still stored, read straight from the libSQL server. */
async function storedIds(ids: string[]): Promise<string[]> {
  const client = createClient({ url: sqld.url });
  try {
    const placeholders = ids.map(() => '?').join(', ');
    const result = await client.execute({
      sql: `SELECT trace_id FROM traces WHERE trace_id IN (${placeholders}) ORDER BY trace_id`,
      args: ids,
    });
    return result.rows.map((row) => String(row.trace_id));
  } finally {
    client.close();
  }
}

const bucket = () => createS3BucketStore({ ...s3, forcePathStyle: true }).bucket(BUCKET);

async function archive(): Promise<Map<string, string[]>> {
  const files = new Map<string, string[]>();
  for await (const { key } of bucket().list('CloudTraces/')) {
    const object = (await bucket().get(key))!;
    const traces = JSON.parse(gunzipSync(object.body).toString('utf8')) as Array<{ trace_id: string }>;
    files.set(
      key,
      traces.map((t) => t.trace_id),
    );
  }
  return files;
}

/** `CloudTraces/{region}/{yyyy}/{m}/{d}/system/{SERVICE}/audit_CloudTrace_{region}-{project}_{time}Z_{16 hex}.json.gz` */
function expectedKey(service: string, at: number): RegExp {
  const d = new Date(at);
  const stamp = d.toISOString().slice(0, 19).replaceAll(':', '-');
  const folder = `CloudTraces/${REGION}/${d.getUTCFullYear()}/${d.getUTCMonth() + 1}/${d.getUTCDate()}/system/${service}`;
  return new RegExp(`^${folder}/audit_CloudTrace_${REGION}-${PROJECT}_${stamp}Z_[0-9a-f]{16}\\.json\\.gz$`);
}

describe('the Worker bundle', () => {
  it('stays under the 3 MB gzip limit of the free plan', () => {
    const gzipped = gzipSync(readFileSync(bundle)).byteLength;
    console.log(`worker bundle: ${readFileSync(bundle).byteLength} bytes, ${gzipped} bytes gzip`);
    expect(gzipped).toBeLessThan(3 * 1024 * 1024);
  });

  it('answers 500 with a CTS error naming each bad setting', async () => {
    const res = await call('/v3', { worker: 'misconfigured' });
    expect(res.status).toBe(500);
    const body = await json<ErrorBody>(res);
    expect(body.error_code).toBe('CTS.0005');
    expect(body.details.map((d) => d.field).sort()).toEqual(['CTS_DATABASE_URL', 'CTS_REGION']);
    expect(body.error_msg).toContain('CTS_DATABASE_URL');
  });

  it('tells to run `cts migrate` against a database without the schema', async () => {
    const res = await call(`/v3/${PROJECT}/traces`, {
      worker: 'unmigrated',
      method: 'POST',
      body: { traces: [] },
    });
    expect(res.status).toBe(500);
    const body = await json<ErrorBody>(res);
    expect(body.error_code).toBe('CTS.0004');
    expect(body.error_msg).toContain('cts migrate');
  });
});

describe('the fetch handler', () => {
  const now = Date.now();
  const sent = Array.from({ length: 25 }, (_, i) => ({
    trace_id: `w-${String(i).padStart(2, '0')}`,
    time: now - 60_000 + i * 1000,
    resource_id: `srv-${i % 3}`,
    user: { name: i % 2 ? 'alice' : 'bob' },
    service_type: i % 5 === 0 ? 'OBS' : 'ECS',
  }));

  beforeAll(async () => {
    expect(await report(sent.map((t) => aTrace(t)))).toMatchObject({ recorded: 25 });
  });

  it('bootstraps the project from CTS_ADMIN_TOKEN and rejects other keys', async () => {
    expect((await call(`/v3/${PROJECT}/trackers`)).status).toBe(200);
    const worker = await mf.getWorker('cts');
    const res = await worker.fetch(`http://cts.test/v3/${PROJECT}/traces`, {
      headers: { 'X-Auth-Token': 'not-a-key-0123456789' },
    });
    expect(res.status).toBe(401);
  });

  it('pages through every trace, newest first, without loss or repetition', async () => {
    const seen: string[] = [];
    let next: string | null = null;
    do {
      const res = await call(`/v3/${PROJECT}/traces?limit=10&service_type=ECS${next ? `&next=${next}` : ''}`);
      const page = await json<TracePage>(res);
      seen.push(...page.traces.map((t) => t.trace_id));
      next = page.meta_data.marker;
    } while (next);
    const ecs = sent.filter((t) => t.service_type === 'ECS');
    expect(seen).toEqual(ecs.map((t) => t.trace_id).reverse());
  });

  it('serves the console (hono/jsx pages)', async () => {
    const worker = await mf.getWorker('cts');
    const entry = await worker.fetch('http://cts.test/console', { redirect: 'manual' });
    expect(entry.status).toBe(303);
    const page = await worker.fetch(new URL(entry.headers.get('location')!, 'http://cts.test').href);
    expect(page.status).toBe(200);
    expect(await page.text()).toMatch(/^<!doctype html>.*<form/is);
  });

  it('combines filters', async () => {
    const res = await call(`/v3/${PROJECT}/traces?resource_id=srv-1&user=alice&limit=200`);
    const ids = (await json<TracePage>(res)).traces.map((t) => t.trace_id);
    const expected = sent.filter((t) => t.resource_id === 'srv-1' && t.user.name === 'alice');
    expect(ids).toEqual(expected.map((t) => t.trace_id).reverse());
    expect(ids.length).toBeGreaterThan(0);
  });
});

describe('the cron trigger', () => {
  const old = (id: string) => aTrace({ trace_id: id, time: T1 - 8 * DAY, service_type: 'EVS' });

  it('transfers trace files to the bucket with the CTS keys and deletes old transferred traces', async () => {
    const configure = await call(`/v3/${PROJECT}/tracker`, {
      method: 'PUT',
      body: {
        tracker_type: 'system',
        tracker_name: 'system',
        obs_info: {
          bucket_name: BUCKET,
          is_obs_created: true, // CreateBucket, from inside workerd
          file_prefix_name: 'audit',
          compress_type: 'gzip',
          is_sort_by_service: true,
        },
      },
    });
    expect(configure.status, await configure.clone().text()).toBe(200);
    await report(['old-a1', 'old-a2', 'old-a3'].map(old));

    await tick(T1);

    const files = await archive();
    for (const key of files.keys()) {
      const service = key.split('/')[6]!;
      expect(key).toMatch(expectedKey(service, T1));
    }
    const services = [...files.keys()].map((key) => key.split('/')[6]).sort();
    expect(services).toEqual(expect.arrayContaining(['ECS', 'EVS', 'OBS']));
    const archived = [...files.values()].flat();
    expect(new Set(archived).size).toBe(archived.length);
    expect(archived).toEqual(expect.arrayContaining(['w-00', 'w-24', 'old-a1', 'old-a2', 'old-a3']));
    // Older than 7 days and transferred: gone. Recent: kept.
    expect(await storedIds(['old-a1', 'old-a2', 'old-a3', 'w-00'])).toEqual(['w-00']);
  });

  it('keeps old traces that could not be transferred, and ships them once the bucket is back', async () => {
    await report(['old-b1', 'old-b2'].map(old));
    const before = await archive();
    // The bucket goes away: the run fails, the tracker shows why, nothing is deleted.
    for (const key of before.keys()) await bucket().delete(key);
    await deleteBucket();

    await tick(T1 + 60_000);
    expect(await storedIds(['old-b1', 'old-b2'])).toEqual(['old-b1', 'old-b2']);
    const trackers = await json<TrackerList>(await call(`/v3/${PROJECT}/trackers`));
    expect(trackers.trackers[0]).toMatchObject({ status: 'error', detail: 'noBucket' });

    await createS3BucketStore({ ...s3, forcePathStyle: true }).create(BUCKET);
    await tick(T1 + 120_000);
    const files = await archive();
    expect([...files.values()].flat()).toEqual(expect.arrayContaining(['old-b1', 'old-b2']));
    // The failed run fixed the file's name (upload time included): the retry writes that same key.
    const shipped = [...files].find(([, ids]) => ids.includes('old-b1'));
    expect(shipped?.[0]).toMatch(expectedKey('EVS', T1 + 60_000));
    expect(await storedIds(['old-b1', 'old-b2'])).toEqual([]);
    const recovered = await json<TrackerList>(await call(`/v3/${PROJECT}/trackers`));
    expect(recovered.trackers[0]).toMatchObject({ status: 'enabled' });
  });
});

async function deleteBucket() {
  const { DeleteBucketCommand, S3Client } = await import('@aws-sdk/client-s3');
  const client = new S3Client({
    endpoint: s3.endpoint,
    region: s3.region,
    forcePathStyle: true,
    credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
  });
  await client.send(new DeleteBucketCommand({ Bucket: BUCKET }));
  client.destroy();
}
