import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type JobsSummary, runRetention, runScheduledJobs, runTransfer } from '../src/jobs';
import { countTraces } from '../src/store/trace-queries';
import { createS3BucketStore } from '../src/transfer/s3-bucket';
import { makeTestEnv, openTestDb, type TestEnv } from './helpers/app';
import { type S3rverHandle, startS3rver } from './helpers/s3rver';
import {
  configureTracker,
  crashingBatches,
  expectArchiveHolds,
  readArchive,
  report,
  storedTraces,
  trackerRow,
} from './helpers/transfer';

const DAY = 86_400_000;
const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setup(options: Parameters<typeof makeTestEnv>[0] = {}): Promise<TestEnv> {
  const env = await makeTestEnv(options);
  cleanups.push(() => env.close());
  return env;
}

const stepOf = (summary: JobsSummary, name: string) => summary.steps.find((step) => step.name === name);
const ids = async (env: TestEnv) => [...(await storedTraces(env.deps.db)).keys()];
const old = (env: TestEnv) => () => ({ time: env.clock() - 8 * DAY });

describe('retention', () => {
  it('deletes old traces once transferred, keeps old untransferred and recent ones', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cts-retention-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const dbUrl = `file:${join(dir, 'cts.db')}`;
    const env = await setup({ dbUrl });
    await configureTracker(env, { obs_info: { bucket_name: 'keep-bkt', is_obs_created: true } });
    const oldTransferred = await report(env, 5, old(env));
    const recent = await report(env, 3);
    await runTransfer(env.deps, { now: env.clock() });
    const oldLate = await report(env, 4, old(env));

    const summary = await runRetention(env.deps, { now: env.clock() });
    expect(summary).toEqual({ cutoff: env.clock() - 7 * DAY, deleted: 5, more: false });
    const remaining = await ids(env);
    expect(remaining).toEqual(expect.arrayContaining([...recent, ...oldLate]));
    for (const id of oldTransferred) expect(remaining).not.toContain(id);

    // Counted again on a fresh connection, so nothing only looks deleted.
    env.close();
    const reopened = await openTestDb(dbUrl);
    expect(await countTraces(reopened, env.projectId)).toBe(remaining.length);
    reopened.$client.close();
  });

  it('deletes by age alone when no tracker transfers (none configured, disabled or deleted)', async () => {
    const env = await setup();
    const other = await setup();
    // env: transfer never configured. other: configured but disabled.
    await configureTracker(other, { obs_info: { bucket_name: 'off-bkt', is_obs_created: true } });
    await configureTracker(other, { status: 'disabled' });
    for (const e of [env, other]) {
      await report(e, 4, old(e));
      await report(e, 2);
      await report(e, 1, () => ({ time: e.clock() - 7 * DAY + 60_000 }));
    }
    for (const e of [env, other]) {
      const summary = await runRetention(e.deps, { now: e.clock() });
      expect(summary.deleted).toBe(4);
      expect(await countTraces(e.deps.db, e.projectId)).toBeGreaterThanOrEqual(3);
    }
    // Deleting the tracker releases what it held.
    const third = await setup();
    await configureTracker(third, { obs_info: { bucket_name: 'gone-bkt', is_obs_created: true } });
    await report(third, 3, old(third));
    expect((await runRetention(third.deps, { now: third.clock() })).deleted).toBe(0);
    expect((await third.call('DELETE', `/v3/${third.projectId}/trackers?tracker_type=system`)).status).toBe(
      204,
    );
    expect((await runRetention(third.deps, { now: third.clock() })).deleted).toBe(3);
  });

  it('deletes at most the per-run budget and says more is due', async () => {
    const env = await setup({ config: { CTS_RETENTION_MAX_DELETES_PER_RUN: '7' } });
    await report(env, 20, old(env));
    const runs = [];
    for (let i = 0; i < 4; i++) {
      const { deleted, more } = await runRetention(env.deps, { now: env.clock() });
      runs.push([deleted, more]);
    }
    expect(runs).toEqual([
      [7, true],
      [7, true],
      [6, false],
      [0, false],
    ]);
  });
});

describe('a bucket unreachable for several runs', () => {
  let down: S3rverHandle | undefined;
  afterEach(async () => {
    await down?.stop();
    down = undefined;
  });

  it('holds old traces, marks the tracker, then drains the backlog and recovers', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'cts-s3-down-'));
    cleanups.push(() => rmSync(directory, { recursive: true, force: true }));
    down = await startS3rver({ buckets: ['far-bkt'], directory });
    const { port } = down;
    const buckets = createS3BucketStore({ ...down, forcePathStyle: true, maxAttempts: 1 });
    const env = await setup({ deps: { buckets } });
    await configureTracker(env, { obs_info: { bucket_name: 'far-bkt' } });
    await report(env, 6, old(env));
    await report(env, 4);
    const recorded = await storedTraces(env.deps.db);

    const stopped = down;
    await stopped.stop();
    for (let run = 0; run < 3; run++) {
      env.clock.advance(60_000);
      const summary = await runScheduledJobs(env.deps, { now: env.clock() });
      expect(summary.ok).toBe(true);
      const transfer = stepOf(summary, 'transfer');
      const retention = stepOf(summary, 'retention');
      expect(transfer?.summary).toMatchObject({ traces: 0, backlog: 11 });
      expect(retention?.summary).toMatchObject({ deleted: 0 });
      expect(await trackerRow(env.deps.db, env.projectId)).toMatchObject({
        status: 'error',
        detail: 'noBucket',
      });
    }
    expect(await countTraces(env.deps.db, env.projectId)).toBe(11);

    down = await startS3rver({ port, directory });
    env.clock.advance(60_000);
    const summary = await runScheduledJobs(env.deps, { now: env.clock() });
    expect(stepOf(summary, 'transfer')).toMatchObject({ ok: true, summary: { traces: 11, backlog: 0 } });
    expect(stepOf(summary, 'retention')).toMatchObject({ ok: true, summary: { deleted: 6 } });
    expect(await trackerRow(env.deps.db, env.projectId)).toMatchObject({ status: 'enabled', detail: null });
    expectArchiveHolds(await readArchive(buckets.bucket('far-bkt')), recorded);
  });
});

describe('runScheduledJobs', () => {
  it('reports a failing step and still runs the others', async () => {
    const env = await setup();
    await configureTracker(env, { obs_info: { bucket_name: 'jobs-bkt', is_obs_created: true } });
    await report(env, 3, old(env));
    const summary = await runScheduledJobs(
      { ...env.deps, db: crashingBatches(env.deps.db) },
      { now: env.clock() },
    );
    expect(summary.now).toBe(new Date(env.clock()).toISOString());
    expect(summary.ok).toBe(false);
    const names = summary.steps.map((s) => s.name);
    // Retention runs after transfer: it deletes only what transfer has written.
    expect(names.indexOf('transfer')).toBeLessThan(names.indexOf('retention'));
    expect(stepOf(summary, 'transfer')).toMatchObject({
      ok: false,
      error: expect.stringContaining('injected crash'),
    });
    // Not transferred, so not deleted.
    expect(stepOf(summary, 'retention')).toMatchObject({ ok: true, summary: { deleted: 0 } });
  });
});
