import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { getTransferLag, listArchiveDays, listArchivedFiles, readArchivedFile } from '../src/domain/trackers';
import { runTransfer } from '../src/jobs';
import type { BucketStore } from '../src/transfer/bucket';
import { createS3BucketStore } from '../src/transfer/s3-bucket';
import { makeTestEnv, type TestEnv } from './helpers/app';
import { type S3rverHandle, startS3rver } from './helpers/s3rver';
import {
  configureTracker,
  crashingBatches,
  expectArchiveHolds,
  expectedSuffix,
  fileRows,
  readArchive,
  report,
  sha256,
  storedTraces,
  trackerRow,
  uploadsThenFails,
} from './helpers/transfer';

let s3: S3rverHandle;
beforeAll(async () => {
  s3 = await startS3rver();
});
afterAll(async () => {
  await s3?.stop();
});

let env: TestEnv | undefined;
afterEach(() => {
  env?.close();
  env = undefined;
});

const s3Store = (handle = s3, maxAttempts?: number) =>
  createS3BucketStore({ ...handle, forcePathStyle: true, maxAttempts });

/** Jan 5th: month and day have one digit, so zero padding would show. */
const JAN_5 = Date.UTC(2026, 0, 5, 3, 4, 5);
let bucketCounter = 0;

async function setup(options: { buckets?: BucketStore; config?: Record<string, string> } = {}) {
  const made = await makeTestEnv({
    config: { CTS_REGION: 'eu-test-1', ...options.config },
    deps: options.buckets ? { buckets: options.buckets } : {},
  });
  made.clock.set(JAN_5);
  env = made;
  return made;
}

const newBucketName = () => `archive-${process.pid}-${++bucketCounter}`;

describe.each([
  ['filesystem', () => undefined],
  ['s3rver', () => s3Store()],
] as Array<[string, () => BucketStore | undefined]>)('transfer to a %s bucket', (_kind, store) => {
  it('writes one gzip file per service with the exact CTS keys and contents', async () => {
    const e = await setup({ buckets: store() });
    const bucketName = newBucketName();
    await configureTracker(e, {
      obs_info: { bucket_name: bucketName, is_obs_created: true, file_prefix_name: 'acme' },
    });
    await report(e, 3, () => ({ service_type: 'ECS' }));
    await report(e, 2, () => ({ service_type: 'EVS', resource_type: 'evs' }));

    const summary = await runTransfer(e.deps, { now: e.clock() });
    expect(summary).toMatchObject({ files: 3, traces: 6, backlog: 0 });

    const files = await fileRows(e.deps.db);
    const archive = await readArchive(e.deps.buckets.bucket(bucketName));
    const p = e.projectId;
    const expectedKeys = files.map(
      (f) =>
        `CloudTraces/eu-test-1/2026/1/5/system/${f.serviceType}/acme_CloudTrace_eu-test-1-${p}_2026-01-05T03-04-05Z_` +
        `${expectedSuffix(p, 'system', f.firstSeq, f.lastSeq)}.json.gz`,
    );
    expect(archive.map((o) => o.key).sort()).toEqual(expectedKeys.sort());
    expect(files.map((f) => f.serviceType).sort()).toEqual(['CTS', 'ECS', 'EVS']);
    for (const object of archive) {
      expect(object.contentType).toBe('application/gzip');
      const row = files.find((f) => f.objectKey === object.key)!;
      expect(row).toMatchObject({
        bucket: bucketName,
        sha256: sha256(object.bytes),
        size: object.bytes.byteLength,
        traceCount: object.traces.length,
        uploadedAt: e.clock(),
      });
      expect(new Set(object.traces.map((t) => t.service_type))).toEqual(new Set([row.serviceType]));
      expect(row.oldestTime).toBe(Math.min(...object.traces.map((t) => t.time)));
      expect(row.newestTime).toBe(Math.max(...object.traces.map((t) => t.time)));
    }
    expectArchiveHolds(archive, await storedTraces(e.deps.db));
    // The cursor is past everything, so the next run writes nothing.
    expect(await runTransfer(e.deps, { now: e.clock() + 60_000 })).toMatchObject({ files: 0, traces: 0 });
  });

  it('writes plain JSON without a service level or prefix, split at the per-file limit', async () => {
    const e = await setup({ buckets: store(), config: { CTS_TRANSFER_MAX_TRACES_PER_FILE: '100' } });
    const bucketName = newBucketName();
    await e.deps.buckets.create(bucketName);
    await configureTracker(e, {
      obs_info: {
        bucket_name: bucketName,
        compress_type: 'json',
        is_sort_by_service: false,
        file_prefix_name: '',
      },
    });
    await report(e, 250, (i) => ({ service_type: i % 2 ? 'ECS' : 'VPC' }));

    await runTransfer(e.deps, { now: e.clock() });
    const files = await fileRows(e.deps.db);
    expect(files.map((f) => f.traceCount)).toEqual([100, 100, 51]);
    // Not sorted: the files are consecutive ranges of the ingestion order.
    expect(files[1]!.firstSeq).toBeGreaterThan(files[0]!.lastSeq);
    expect(files[2]!.firstSeq).toBeGreaterThan(files[1]!.lastSeq);
    const archive = await readArchive(e.deps.buckets.bucket(bucketName));
    const p = e.projectId;
    expect(archive.map((o) => o.key).sort()).toEqual(
      files
        .map(
          (f) =>
            `CloudTraces/eu-test-1/2026/1/5/system/CloudTrace_eu-test-1-${p}_2026-01-05T03-04-05Z_` +
            `${expectedSuffix(p, 'system', f.firstSeq, f.lastSeq)}.json`,
        )
        .sort(),
    );
    for (const object of archive) expect(object.contentType).toBe('application/json');
    expect(files.every((f) => f.serviceType === null)).toBe(true);
    expectArchiveHolds(archive, await storedTraces(e.deps.db));
  });
});

describe('transfer semantics', () => {
  it('transfers late traces (an old time, a new arrival) on the next run', async () => {
    const e = await setup();
    const bucketName = newBucketName();
    await configureTracker(e, { obs_info: { bucket_name: bucketName, is_obs_created: true } });
    await report(e, 5);
    await runTransfer(e.deps, { now: e.clock() });
    e.clock.advance(5 * 60_000);
    const late = await report(e, 2, () => ({ time: e.clock() - 3 * 86_400_000 }));
    const summary = await runTransfer(e.deps, { now: e.clock() });
    expect(summary.traces).toBe(2);
    const archive = await readArchive(e.deps.buckets.bucket(bucketName));
    expect(archive.flatMap((o) => o.traces.map((t) => t.trace_id))).toEqual(expect.arrayContaining(late));
    expectArchiveHolds(archive, await storedTraces(e.deps.db));
  });

  it('does not transfer what was recorded while disabled, and resumes after re-enabling', async () => {
    const e = await setup();
    const bucketName = newBucketName();
    await configureTracker(e, { obs_info: { bucket_name: bucketName, is_obs_created: true } });
    const before = await report(e, 3);
    await runTransfer(e.deps, { now: e.clock() });

    await configureTracker(e, { status: 'disabled' });
    const whileDisabled = await report(e, 4);
    // Still recorded and queryable.
    const list = await e.call('GET', `/v3/${e.projectId}/traces?trace_id=${whileDisabled[0]}`);
    expect((await list.json()).meta_data.count).toBe(1);
    expect(await runTransfer(e.deps, { now: e.clock() })).toMatchObject({ traces: 0, trackers: [] });

    await configureTracker(e, { status: 'enabled' });
    const after = await report(e, 2);
    e.clock.advance(60_000);
    await runTransfer(e.deps, { now: e.clock() });
    const ids = (await readArchive(e.deps.buckets.bucket(bucketName))).flatMap((o) =>
      o.traces.filter((t) => t.service_type !== 'CTS').map((t) => t.trace_id),
    );
    expect(ids.sort()).toEqual([...before, ...after].sort());
  });

  it('retries a page that crashed between upload and cursor commit under the same keys', async () => {
    const e = await setup({ config: { CTS_TRANSFER_MAX_TRACES_PER_FILE: '100' } });
    const bucketName = newBucketName();
    await configureTracker(e, {
      obs_info: { bucket_name: bucketName, is_obs_created: true, is_sort_by_service: false },
    });
    await report(e, 250);
    const bucket = e.deps.buckets.bucket(bucketName);

    // Three files: the first two are recorded as they complete, the crash hits the batch that
    // records the last one together with the cursor move.
    await expect(
      runTransfer({ ...e.deps, db: crashingBatches(e.deps.db) }, { now: e.clock() }),
    ).rejects.toThrow('injected crash');
    const keysAfterCrash = (await readArchive(bucket)).map((o) => o.key).sort();
    expect(keysAfterCrash).toHaveLength(3);
    expect((await trackerRow(e.deps.db, e.projectId)).transferCursor).toBe(0);
    expect(await fileRows(e.deps.db)).toHaveLength(2);

    // More traces arrive before the retry, which runs a minute later.
    await report(e, 10);
    e.clock.advance(60_000);
    const retry = await runTransfer(e.deps, { now: e.clock() });
    expect(retry.backlog).toBe(0);
    const archive = await readArchive(bucket);
    const keys = archive.map((o) => o.key);
    expect(keys).toEqual(expect.arrayContaining(keysAfterCrash));
    expect(keys).toHaveLength(4);
    expectArchiveHolds(archive, await storedTraces(e.deps.db));
    const files = await fileRows(e.deps.db);
    expect(files.map((f) => f.objectKey).sort()).toEqual([...keys].sort());
    for (const object of archive) {
      expect(files.find((f) => f.objectKey === object.key)!.sha256).toBe(sha256(object.bytes));
    }
  });

  it('retries an upload whose answer was lost under the same key, and recovers the status', async () => {
    const s3Buckets = s3Store();
    const e = await setup({ buckets: uploadsThenFails(s3Buckets, 1) });
    const bucketName = newBucketName();
    await configureTracker(e, { obs_info: { bucket_name: bucketName, is_obs_created: true } });
    await report(e, 20);

    const failed = await runTransfer(e.deps, { now: e.clock() });
    expect(failed.trackers[0]).toMatchObject({ outcome: 'error', traces: 0 });
    const [tracker] = (await (await e.call('GET', `/v3/${e.projectId}/trackers`)).json()).trackers;
    expect(tracker).toMatchObject({ status: 'error', detail: 'noBucket' });
    const landed = (await readArchive(s3Buckets.bucket(bucketName))).map((o) => o.key);
    expect(landed.length).toBeGreaterThan(0);

    e.clock.advance(10 * 60_000);
    const retried = await runTransfer(e.deps, { now: e.clock() });
    expect(retried.trackers[0]).toMatchObject({ outcome: 'ok', backlog: 0 });
    const archive = await readArchive(s3Buckets.bucket(bucketName));
    expect(archive.map((o) => o.key)).toEqual(expect.arrayContaining(landed));
    expectArchiveHolds(archive, await storedTraces(e.deps.db));
    const [recovered] = (await (await e.call('GET', `/v3/${e.projectId}/trackers`)).json()).trackers;
    expect(recovered.status).toBe('enabled');
    expect(recovered).not.toHaveProperty('detail');
  });

  it('drains a backlog larger than one run over several runs, reporting what is left', async () => {
    const e = await setup({
      config: { CTS_TRANSFER_MAX_TRACES_PER_RUN: '300', CTS_TRANSFER_MAX_TRACES_PER_FILE: '120' },
    });
    const bucketName = newBucketName();
    await configureTracker(e, {
      obs_info: { bucket_name: bucketName, is_obs_created: true, is_sort_by_service: false },
    });
    await report(e, 1000);
    const runs = [];
    for (let run = 0; run < 5; run++) {
      e.clock.advance(60_000);
      const summary = await runTransfer(e.deps, { now: e.clock() });
      runs.push([summary.traces, summary.backlog]);
      for (const file of await fileRows(e.deps.db)) expect(file.traceCount).toBeLessThanOrEqual(120);
    }
    expect(runs).toEqual([
      [300, 701],
      [300, 401],
      [300, 101],
      [101, 0],
      [0, 0],
    ]);
    expectArchiveHolds(await readArchive(e.deps.buckets.bucket(bucketName)), await storedTraces(e.deps.db));
  });

  it('marks a refused bucket bucketPolicyError', async () => {
    const refusing = createS3BucketStore({
      ...s3,
      accessKeyId: 'WRONG',
      secretAccessKey: 'WRONG',
      maxAttempts: 1,
    });
    const e = await setup({ buckets: refusing });
    const bucketName = newBucketName();
    await s3Store().create(bucketName);
    await configureTracker(e, { obs_info: { bucket_name: bucketName } });
    await report(e, 2);
    const summary = await runTransfer(e.deps, { now: e.clock() });
    expect(summary.trackers[0]).toMatchObject({ outcome: 'error', backlog: 3 });
    expect(await trackerRow(e.deps.db, e.projectId)).toMatchObject({
      status: 'error',
      detail: 'bucketPolicyError',
    });
  });

  it('marks a missing bucket noBucket until it exists again', async () => {
    const e = await setup();
    const bucketName = newBucketName();
    await configureTracker(e, { obs_info: { bucket_name: bucketName } });
    await report(e, 2);
    expect((await runTransfer(e.deps, { now: e.clock() })).trackers[0]?.outcome).toBe('error');
    expect(await trackerRow(e.deps.db, e.projectId)).toMatchObject({ status: 'error', detail: 'noBucket' });
    await e.deps.buckets.create(bucketName);
    e.clock.advance(60_000);
    expect((await runTransfer(e.deps, { now: e.clock() })).trackers[0]).toMatchObject({
      outcome: 'ok',
      traces: 3,
    });
    expect(await trackerRow(e.deps.db, e.projectId)).toMatchObject({ status: 'enabled', detail: null });
  });

  it('tells the console the transfer lag and lists the archived files', async () => {
    const e = await setup({ config: { CTS_TRANSFER_MAX_TRACES_PER_RUN: '4' } });
    const bucketName = newBucketName();
    expect(await getTransferLag(e.deps, e.projectId)).toEqual([
      expect.objectContaining({
        trackerName: 'system',
        transferring: false,
        backlog: 0,
        oldestPending: null,
      }),
    ]);
    await configureTracker(e, { obs_info: { bucket_name: bucketName, is_obs_created: true } });
    const recordedAt = e.clock();
    await report(e, 5, () => ({ time: recordedAt - 3_600_000 }));
    const [lag] = await getTransferLag(e.deps, e.projectId);
    expect(lag).toMatchObject({
      status: 'enabled',
      transferring: true,
      backlog: 6,
      // The first waiting trace is the configuration's own audit trace.
      oldestPending: { time: recordedAt, recordTime: recordedAt },
      lastTransferAt: null,
    });

    e.clock.advance(60_000);
    await runTransfer(e.deps, { now: e.clock() });
    expect((await getTransferLag(e.deps, e.projectId))[0]).toMatchObject({
      backlog: 2,
      oldestPending: { time: recordedAt - 3_600_000, recordTime: recordedAt },
      lastTransferAt: e.clock(),
    });
    e.clock.set(Date.UTC(2026, 0, 6, 0, 0, 1));
    await runTransfer(e.deps, { now: e.clock() });
    expect((await getTransferLag(e.deps, e.projectId))[0]).toMatchObject({ backlog: 0, oldestPending: null });

    const days = await listArchiveDays(e.deps, e.projectId, 'system');
    expect(days).toEqual([
      { day: '2026-01-06', serviceType: 'ECS', files: 1, traces: 2, bytes: expect.any(Number) },
      { day: '2026-01-05', serviceType: 'CTS', files: 1, traces: 1, bytes: expect.any(Number) },
      { day: '2026-01-05', serviceType: 'ECS', files: 1, traces: 3, bytes: expect.any(Number) },
    ]);
    const jan5 = await listArchivedFiles(e.deps, e.projectId, 'system', { day: '2026-01-05' });
    expect(jan5.map((f) => f.serviceType).sort()).toEqual(['CTS', 'ECS']);
    const ecs = await listArchivedFiles(e.deps, e.projectId, 'system', { serviceType: 'ECS', limit: 1 });
    expect(ecs).toHaveLength(1);
    expect(ecs[0]).toMatchObject({ serviceType: 'ECS', traceCount: 2, compressed: true });
    expect(ecs[0]!.objectKey.endsWith(ecs[0]!.name)).toBe(true);
    const older = await listArchivedFiles(e.deps, e.projectId, 'system', {
      serviceType: 'ECS',
      before: ecs[0]!.id,
    });
    expect(older.map((f) => f.traceCount)).toEqual([3]);

    const download = await readArchivedFile(e.deps, e.projectId, ecs[0]!.id);
    expect(download.contentType).toBe('application/gzip');
    expect(sha256(download.body)).toBe(ecs[0]!.sha256);
    await expect(readArchivedFile(e.deps, 'f'.repeat(32), ecs[0]!.id)).rejects.toMatchObject({ status: 404 });
    await expect(listArchivedFiles(e.deps, e.projectId, 'system', { day: '5 Jan' })).rejects.toMatchObject({
      status: 400,
    });
  });
});
