import { existsSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config';
import { createFsBucketStore, sweepStaleTemporaryFiles } from '../src/runtime/fs-bucket';
import { nodeBucketStore } from '../src/runtime/node';
import { BucketError, type BucketStore } from '../src/transfer/bucket';
import { createS3BucketStore } from '../src/transfer/s3-bucket';
import { type S3rverHandle, startS3rver } from './helpers/s3rver';

let s3: S3rverHandle;
let fsRoot: string;
beforeAll(async () => {
  s3 = await startS3rver();
  fsRoot = mkdtempSync(join(tmpdir(), 'cts-fs-bucket-'));
});
afterAll(async () => {
  await s3?.stop();
  rmSync(fsRoot, { recursive: true, force: true });
});

const gzipBytes = () => new Uint8Array([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 1, 2, 3, 0, 255]);

const stores: Array<[string, () => BucketStore]> = [
  ['filesystem', () => createFsBucketStore(fsRoot)],
  [
    's3 (s3rver)',
    () =>
      createS3BucketStore({
        endpoint: s3.endpoint,
        region: s3.region,
        accessKeyId: s3.accessKeyId,
        secretAccessKey: s3.secretAccessKey,
        forcePathStyle: true,
      }),
  ],
];

describe.each(stores)('bucket store contract: %s', (label, makeStore) => {
  const bucketName = `contract-${label.startsWith('s3') ? 's3' : 'fs'}`;
  let store: BucketStore;
  beforeAll(async () => {
    store = makeStore();
    expect(await store.exists(bucketName)).toBe(false);
    await store.create(bucketName);
  });

  it('reports whether a bucket exists', async () => {
    expect(await store.exists(bucketName)).toBe(true);
    expect(await store.exists('no-such-bucket-here')).toBe(false);
  });

  it('stores exact bytes, content type and metadata, and finds no missing key', async () => {
    const bucket = store.bucket(bucketName);
    const body = gzipBytes();
    await bucket.put('CloudTraces/r/2026/1/2/system/ECS/a.json.gz', body, {
      contentType: 'application/gzip',
      metadata: { signature: 'abc123', 'signature-algorithm': 'SHA256withRSA' },
    });
    const got = await bucket.get('CloudTraces/r/2026/1/2/system/ECS/a.json.gz');
    expect(got).not.toBeNull();
    expect(Array.from(got!.body)).toEqual(Array.from(body));
    expect(got!.contentType).toBe('application/gzip');
    expect(got!.metadata).toEqual({ signature: 'abc123', 'signature-algorithm': 'SHA256withRSA' });
    expect(await bucket.get('CloudTraces/r/2026/1/2/system/ECS/missing.json.gz')).toBeNull();
  });

  it('overwrites a key with the same bytes (a retried upload)', async () => {
    const bucket = store.bucket(bucketName);
    const body = new TextEncoder().encode('[{"trace_id":"x"}]');
    await bucket.put('retry/file.json', body, { contentType: 'application/json' });
    await bucket.put('retry/file.json', body, { contentType: 'application/json' });
    const keys: string[] = [];
    for await (const object of bucket.list('retry/')) keys.push(object.key);
    expect(keys).toEqual(['retry/file.json']);
    expect(new TextDecoder().decode((await bucket.get('retry/file.json'))!.body)).toBe('[{"trace_id":"x"}]');
  });

  it('lists by prefix in key order with sizes, and deletes', async () => {
    const bucket = store.bucket(bucketName);
    for (const key of ['list/b/2.json', 'list/a/1.json', 'list/a/0.json', 'listing/x.json']) {
      await bucket.put(key, new TextEncoder().encode(key), { contentType: 'application/json' });
    }
    const listed: Array<{ key: string; size: number }> = [];
    for await (const object of bucket.list('list/')) listed.push(object);
    expect(listed).toEqual([
      { key: 'list/a/0.json', size: 13 },
      { key: 'list/a/1.json', size: 13 },
      { key: 'list/b/2.json', size: 13 },
    ]);
    const partial: string[] = [];
    for await (const object of bucket.list('list/a/1')) partial.push(object.key);
    expect(partial).toEqual(['list/a/1.json']);

    await bucket.delete('list/a/0.json');
    expect(await bucket.get('list/a/0.json')).toBeNull();
    await bucket.delete('list/a/0.json'); // deleting a missing key is not an error
  });

  it('fails with noBucket on a bucket that does not exist', async () => {
    const missing = store.bucket('gone-bucket');
    const failure = await missing
      .put('k.json', new Uint8Array([1]), { contentType: 'application/json' })
      .catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(BucketError);
    expect((failure as BucketError).failure).toBe('noBucket');
  });
});

describe('S3 errors', () => {
  it('maps a refused request to bucketPolicyError', async () => {
    const store = createS3BucketStore({
      endpoint: s3.endpoint,
      region: s3.region,
      accessKeyId: 'WRONG',
      secretAccessKey: 'WRONG',
      maxAttempts: 1,
    });
    await store.create('policy-check').catch(() => {});
    const failure = await store
      .bucket('contract-s3')
      .put('x.json', new Uint8Array([1]), { contentType: 'application/json' })
      .catch((e: unknown) => e);
    expect((failure as BucketError).failure).toBe('bucketPolicyError');
  });

  it('maps an unreachable endpoint to unavailable', async () => {
    const store = createS3BucketStore({
      endpoint: 'http://127.0.0.1:9',
      region: 'us-east-1',
      accessKeyId: 'a',
      secretAccessKey: 'b',
      maxAttempts: 1,
    });
    const failure = await store
      .bucket('any-bucket')
      .put('x.json', new Uint8Array([1]), { contentType: 'application/json' })
      .catch((e: unknown) => e);
    expect((failure as BucketError).failure).toBe('unavailable');
  });

  it('stores gzip files without Content-Encoding', async () => {
    const response = await fetch(`${s3.endpoint}/contract-s3/CloudTraces/r/2026/1/2/system/ECS/a.json.gz`, {
      method: 'HEAD',
    });
    // s3rver serves any object anonymously; a stored Content-Encoding would come back here.
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/gzip');
    expect(response.headers.get('content-encoding')).toBeNull();
  });
});

describe('nodeBucketStore', () => {
  it('uses S3 when CTS_S3_ENDPOINT is set, else folders under the data directory', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'cts-node-buckets-'));
    try {
      const onS3 = nodeBucketStore(parseConfig({ CTS_DATA_DIR: dataDir, ...s3.config }));
      await onS3.create('picked-s3');
      expect(await createS3BucketStore({ ...s3, forcePathStyle: true }).exists('picked-s3')).toBe(true);

      const onDisk = nodeBucketStore(parseConfig({ CTS_DATA_DIR: dataDir }));
      await onDisk.create('picked-fs');
      expect(await createFsBucketStore(join(dataDir, 'buckets')).exists('picked-fs')).toBe(true);
      expect(await onDisk.exists('picked-s3')).toBe(false);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('filesystem bucket after a crash', () => {
  it('sweeps temporary files older than ten minutes and keeps fresh ones and objects', async () => {
    const root = mkdtempSync(join(tmpdir(), 'cts-sweep-'));
    const store = createFsBucketStore(root);
    await store.create('sweep-bucket');
    await store
      .bucket('sweep-bucket')
      .put('a/b.json', new TextEncoder().encode('[]'), { contentType: 'application/json' });
    const stale = join(root, 'sweep-bucket', 'a', 'b.json.1.tmp');
    const fresh = join(root, 'sweep-bucket', 'a', 'b.json.2.tmp');
    writeFileSync(stale, 'partial');
    writeFileSync(fresh, 'partial');
    const hourAgo = new Date(Date.now() - 3_600_000);
    utimesSync(stale, hourAgo, hourAgo);
    expect(await sweepStaleTemporaryFiles(root, Date.now())).toBe(1);
    expect(existsSync(stale)).toBe(false);
    expect(existsSync(fresh)).toBe(true);
    expect(existsSync(join(root, 'sweep-bucket', 'a', 'b.json'))).toBe(true);
    rmSync(root, { recursive: true, force: true });
  });
});
