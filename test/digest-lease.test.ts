import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Deps } from '../src/domain/deps';
import { runDigests } from '../src/jobs/digests';
import { acquireDigestLease } from '../src/store/digest-queries';
import { digests } from '../src/store/schema';
import { HOUR_MS } from '../src/transfer/digest';
import { makeTestEnv, openTestDb, type TestEnv } from './helpers/app';
import { configureTracker, putTraceFile, readDigests } from './helpers/digests';
import { type SqldServer, startSqld } from './helpers/sqld';

const T0 = Date.UTC(2026, 10, 24, 12, 0, 0);
const at = (hours: number, minutes = 0) => T0 + hours * HOUR_MS + minutes * 60_000;

/**
 * Digest runs that overlap — several Workers fired by one cron, `cts jobs run` beside the server —
 * share one sqld database. The lease lets one of them write a tracker's digests at a time.
 */
let sqld: SqldServer;
let env: TestEnv;
beforeAll(async () => {
  sqld = await startSqld();
  env = await makeTestEnv({ dbUrl: sqld.url });
});
afterAll(async () => {
  env?.close();
  await sqld?.stop();
});

describe('digest lease', () => {
  it('leaves a tracker alone while another run holds its lease, and takes it once it expired', async () => {
    await configureTracker(env.deps, env.projectId);
    env.clock.set(at(0, 20));
    await runDigests(env.deps, { now: at(0, 20) });
    await putTraceFile(env.deps, env.projectId, at(0, 30));
    const of = { projectId: env.projectId, trackerName: 'system' };
    expect(await acquireDigestLease(env.deps.db, of, 'another-worker', at(1, 1), at(1, 6))).toBe(true);
    env.clock.set(at(1, 1));
    expect(await runDigests(env.deps, { now: at(1, 1) })).toMatchObject({ written: 0, busy: 1 });
    env.clock.set(at(1, 7));
    expect(await runDigests(env.deps, { now: at(1, 7) })).toMatchObject({ written: 1, busy: 0 });
    // A run gives its lease back when done: the next one does not wait for the expiry.
    expect(await acquireDigestLease(env.deps.db, of, 'another-worker', at(1, 8), at(1, 13))).toBe(true);
  });

  it('writes one digest per hour when four runs with their own connections race', async () => {
    for (let hour = 1; hour < 6; hour++) await putTraceFile(env.deps, env.projectId, at(hour, 30));
    const others: Deps[] = [];
    for (let i = 0; i < 3; i++) others.push({ ...env.deps, db: await openTestDb(sqld.url) });
    env.clock.set(at(6, 1));
    const summaries = await Promise.all(
      [env.deps, ...others].map((deps) => runDigests(deps, { now: at(6, 1) })),
    );
    for (const deps of others) deps.db.$client.close();
    expect(summaries.reduce((n, s) => n + s.written, 0)).toBe(5);
    expect(summaries.flatMap((s) => s.failures)).toEqual([]);
    const rows = await env.deps.db.select().from(digests);
    expect(new Set(rows.map((row) => row.objectKey)).size).toBe(rows.length);
    // One linear chain in the bucket: each digest links to the one before it.
    const chain = await readDigests(env.deps);
    expect(chain).toHaveLength(6);
    for (let i = 1; i < chain.length; i++)
      expect(chain[i]!.doc.previous_digest_object).toBe(chain[i - 1]!.key);
  });
});
