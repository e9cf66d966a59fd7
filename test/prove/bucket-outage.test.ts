/**
 * Bucket outage (issue 8, DESIGN §3 and §5): the real server (child process, jobs every second)
 * transfers to s3rver; s3rver is stopped for many job runs while clients keep reporting — including
 * traces that pass the retention age during the outage — and then started again on the same port
 * and folder. While it is down the tracker shows `status: "error"` with a `detail`, and nothing
 * untransferred is deleted, however old; after it is back the backlog drains, retention catches up,
 * the tracker is `enabled` again, and every acknowledged trace is archived exactly once.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkArchive } from './helpers/archive-check';
import { prng, proveLong, seedFromEnv } from './helpers/prng';
import { type ArchiveObject, type RestartableS3, readS3Archive, startRestartableS3 } from './helpers/s3';
import {
  PROVE_ADMIN_TOKEN,
  PROVE_PROJECT_ID,
  type ServerProcess,
  startServerProcess,
} from './helpers/server-process';
import { ReportingClients, readDbState } from './helpers/workload';

const SEED = seedFromEnv(5_2026);
const BUCKET = 'outage-archive';
const DAY_MS = 86_400_000;
/** Job runs (one a second) the bucket stays down for. */
const OUTAGE_RUNS = proveLong() ? 60 : 12;

let root: string;
let s3: RestartableS3;
let server: ServerProcess | undefined;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'cts-outage-'));
  s3 = await startRestartableS3(join(root, 's3'), [BUCKET]);
});

afterAll(async () => {
  await server?.kill();
  await s3?.stop();
  if (root) rmSync(root, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function trackerStatus(): Promise<{ status: string; detail?: string }> {
  const res = await fetch(`${server!.url}/v3/${PROVE_PROJECT_ID}/trackers?tracker_name=system`, {
    headers: { 'X-Auth-Token': PROVE_ADMIN_TOKEN },
  });
  const body = (await res.json()) as { trackers: Array<{ status: string; detail?: string }> };
  return body.trackers[0]!;
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${server?.output()}`);
    await sleep(250);
  }
}

describe(`bucket outage: s3rver down for ${OUTAGE_RUNS} job runs (seed ${SEED})`, () => {
  it('keeps everything while the bucket is down, then drains the backlog and recovers', async () => {
    const dataDir = join(root, 'data');
    const dbFile = join(dataDir, 'cts.db');
    server = await startServerProcess({
      env: {
        CTS_DATA_DIR: dataDir,
        CTS_ADMIN_TOKEN: PROVE_ADMIN_TOKEN,
        CTS_PROJECT_ID: PROVE_PROJECT_ID,
        CTS_JOBS_INTERVAL_SECONDS: '1',
        CTS_TRANSFER_MAX_TRACES_PER_FILE: '50',
        CTS_TRANSFER_MAX_TRACES_PER_RUN: '400',
        ...s3.config,
      },
    });
    const configured = await fetch(`${server.url}/v3/${PROVE_PROJECT_ID}/tracker`, {
      method: 'PUT',
      headers: { 'Content-Type': 'application/json', 'X-Auth-Token': PROVE_ADMIN_TOKEN },
      body: JSON.stringify({
        tracker_type: 'system',
        tracker_name: 'system',
        obs_info: { bucket_name: BUCKET, file_prefix_name: 'outage', is_obs_created: false },
      }),
    });
    expect(configured.status, await configured.text()).toBe(200);

    // Traces long past the retention, ones that pass it during the outage, and recent ones.
    const outageStart = Date.now() + 4000;
    const clients = new ReportingClients(prng(SEED), {
      clients: 3,
      projectId: PROVE_PROJECT_ID,
      token: PROVE_ADMIN_TOKEN,
      oldShare: 0,
      maxBatch: 20,
      pauseMs: [50, 150],
      retentionDays: 7,
      timeFor: (rng, now) =>
        rng.pick([
          now - 8 * DAY_MS - rng.int(0, 3_600_000),
          outageStart - 7 * DAY_MS + rng.int(1_000, 5_000),
          now - rng.int(0, 600_000),
        ]),
    });
    const running = clients.run(server.url);
    await sleep(outageStart - Date.now());

    await s3.stop();
    const down = Date.now();
    await until('the tracker to report the failure', async () => (await trackerStatus()).status === 'error');
    const failed = await trackerStatus();
    expect(['noBucket', 'bucketPolicyError']).toContain(failed.detail);
    // Many job runs while ingestion goes on; the tracker stays in error and nothing is deleted.
    while (Date.now() - down < OUTAGE_RUNS * 1000) {
      await sleep(1000);
      expect(await trackerStatus()).toEqual(failed);
    }
    clients.stop();
    await running;
    const during = await readDbState(dbFile, PROVE_PROJECT_ID);
    const pastRetention = [...clients.acked].filter(
      (id) => (clients.sent.get(id)!.time as number) < Date.now() - 7 * DAY_MS,
    );
    const cache = new Map<string, ArchiveObject>();
    await s3.start();
    const archiveBefore = await readS3Archive(s3.client(), BUCKET, cache);
    const archivedBefore = new Set(
      [...archiveBefore.values()].flatMap((o) => (o.traces ?? []).map((t) => String(t.trace_id))),
    );
    const waiting = pastRetention.filter((id) => !archivedBefore.has(id));
    expect(waiting.length, 'traces past the retention were waiting for the bucket').toBeGreaterThan(50);
    expect(
      waiting.filter((id) => !during.traces.has(id)),
      'untransferred traces deleted during the outage',
    ).toEqual([]);
    expect(during.tracker.cursor).toBeLessThan(during.maxSeq);

    // Back up: the backlog drains over several bounded runs, then retention deletes what is archived.
    const backlog = during.maxSeq - during.tracker.cursor;
    await until(
      'the backlog to drain and retention to catch up',
      async () => {
        const state = await readDbState(dbFile, PROVE_PROJECT_ID);
        return state.tracker.cursor >= state.maxSeq && pastRetention.every((id) => !state.traces.has(id));
      },
      120_000,
    );
    await until('the tracker to be enabled again', async () => (await trackerStatus()).status === 'enabled');
    expect((await trackerStatus()).detail).toBeUndefined();
    await server.stop();
    const after = await readDbState(dbFile, PROVE_PROJECT_ID);
    const archive = await readS3Archive(s3.client(), BUCKET, cache);
    const findings = checkArchive(after, archive, clients, { final: true });
    expect(findings.problems).toEqual([]);
    expect(findings.archived).toBeGreaterThanOrEqual(clients.acked.size);
    console.log(
      `bucket outage: ${clients.acked.size} traces acknowledged, ${waiting.length} past retention waited, ` +
        `backlog of ${backlog} drained into ${archive.size} files; tracker was ${JSON.stringify(failed)}`,
    );
  }, 300_000);
});
