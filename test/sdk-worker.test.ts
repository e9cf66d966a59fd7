import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Miniflare } from 'miniflare';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config';
import { createApiKey, createProject } from '../src/domain/projects/projects';
import { databaseDeps } from '../src/domain/shards/router';
import { createS3BucketStore, s3OptionsFromConfig } from '../src/transfer/s3-bucket';
import { openTestDb } from './helpers/app';
import { ctsClient } from './helpers/cts-sdk';
import { exerciseEveryOperation } from './helpers/cts-sdk-suite';
import { type S3rverHandle, startS3rver } from './helpers/s3rver';
import { type SqldServer, startSqld } from './helpers/sqld';
import { buildWorker, runCli, startWorkers } from './helpers/worker';

// The official SDK's transport and signer against the Worker bundle in workerd (sqld database,
// s3rver buckets): AK/SK verification with Web Crypto, on the Worker's own runtime.

const SECRET = 'worker-secret-for-ak-sk-0123456789abcdef';
const BUCKET = 'sdk-worker-tracked';

let outdir: string;
let sqld: SqldServer;
let s3: S3rverHandle;
let mf: Miniflare;
let endpoint: string;
const pairs: Record<string, { ak: string; sk: string; token: string; projectId: string }> = {};

beforeAll(async () => {
  outdir = mkdtempSync(join(tmpdir(), 'cts-sdk-worker-'));
  let bundle: string;
  [bundle, sqld, s3] = await Promise.all([
    buildWorker(outdir),
    startSqld(),
    startS3rver({ buckets: [BUCKET] }),
  ]);
  await runCli(['migrate'], { CTS_DATABASE_URL: sqld.url });
  // Keys made where the Worker reads them, with the secret the Worker derives SKs from.
  const db = await openTestDb(sqld.url);
  const deps = { ...databaseDeps(db), clock: Date.now, config: parseConfig({ CTS_SECRET: SECRET }) };
  for (const name of ['sdk', 'other']) {
    const project = await createProject(deps, { name });
    const key = await createApiKey(deps, { projectId: project.id, role: 'admin' });
    pairs[name] = {
      ak: key.accessKey!.id,
      sk: key.accessKey!.secret,
      token: key.token,
      projectId: project.id,
    };
  }
  db.$client.close();
  mf = startWorkers(bundle, {
    cts: { CTS_DATABASE_URL: sqld.url, CTS_SECRET: SECRET, CTS_JOBS_INTERVAL_SECONDS: '86400', ...s3.config },
  });
  endpoint = (await mf.ready).origin;
}, 120_000);

afterAll(async () => {
  await Promise.allSettled([mf?.dispose(), sqld?.stop(), s3?.stop()]);
  if (outdir) rmSync(outdir, { recursive: true, force: true });
});

describe('the official CTS SDK against the Worker in workerd (AK/SK)', () => {
  it('the bucket the suite tracks exists in the S3 store', async () => {
    const store = createS3BucketStore(s3OptionsFromConfig(parseConfig(s3.config)));
    expect(await store.exists(BUCKET)).toBe(true);
  });

  it('runs all 16 CtsClient operations signed, each answer in the SDK model', async () => {
    const sdk = pairs.sdk!;
    const other = pairs.other!;
    const client = (ak: string, sk: string, securityToken?: string) =>
      ctsClient({ endpoint, ak, sk, projectId: sdk.projectId, securityToken });
    await exerciseEveryOperation({
      client: client(sdk.ak, sdk.sk),
      foreignClient: client(other.ak, other.sk),
      badSecretClient: client(sdk.ak, `${sdk.sk.slice(0, -1)}${sdk.sk.endsWith('0') ? '1' : '0'}`),
      temporaryClient: client(sdk.ak, sdk.sk, 'temporary-session-token'),
      projectId: sdk.projectId,
      domainId: sdk.projectId,
      accessKeyId: sdk.ak,
      bucket: BUCKET,
      async report(traces) {
        const res = await fetch(`${endpoint}/v3/${sdk.projectId}/traces`, {
          method: 'POST',
          headers: { 'X-Auth-Token': sdk.token, 'Content-Type': 'application/json' },
          body: JSON.stringify({ traces }),
        });
        expect(res.status, await res.clone().text()).toBe(201);
      },
    });
  });
});
