/**
 * Crash safety (issue 8, DESIGN §5): the real server runs as a child process (`node --import tsx
 * src/runtime/main.ts`) with an s3rver bucket, a tracker that transfers every second in small
 * files, and retention with work to do (half the traces are older than the retention). Several
 * clients report traces with unique ids while the server is killed with SIGKILL ≥ 20 times:
 *
 * - at random moments (ingest, transfer, retention — whatever runs),
 * - when s3rver receives a trace-file upload (the upload is cut off),
 * - right after s3rver has stored an upload (between upload and the database commit),
 * - just after the last upload of a job run (the commit and the retention that follows).
 *
 * The code offers no fault hook, so the upload moments are found by watching s3rver's requests.
 * After every kill, with the server down: every acknowledged trace is in the database or a
 * committed archive file, nothing is twice anywhere, every committed file is complete and exact.
 * At the end the backlog drains and every acknowledged trace is archived exactly once.
 * Seeded (`CTS_PROVE_SEED`); `CTS_PROVE_LONG=1` kills 60 times.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ArchiveFindings, checkArchive } from './helpers/archive-check';
import { prng, proveLong, seedFromEnv } from './helpers/prng';
import { type ArchiveObject, type RestartableS3, readS3Archive, startRestartableS3 } from './helpers/s3';
import {
  freePort,
  PROVE_ADMIN_TOKEN,
  PROVE_PROJECT_ID,
  type ServerProcess,
  startServerProcess,
} from './helpers/server-process';
import { ReportingClients, readDbState } from './helpers/workload';

const KILLS = proveLong() ? 60 : 20;
const SEED = seedFromEnv(8_2026);
const BUCKET = 'crash-archive';
const STRATEGIES = ['random', 'mid-upload', 'after-upload', 'after-run'] as const;
type Strategy = (typeof STRATEGIES)[number];

let root: string;
let s3: RestartableS3;
let server: ServerProcess | undefined;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'cts-crash-'));
  s3 = await startRestartableS3(join(root, 's3'), [BUCKET]);
});

afterAll(async () => {
  await server?.kill();
  await s3?.stop();
  if (root) rmSync(root, { recursive: true, force: true });
});

/** Kills the server at the moment `strategy` names; returns what actually happened. */
async function killAt(strategy: Strategy, rng: ReturnType<typeof prng>): Promise<string> {
  const target = server!;
  await new Promise((r) => setTimeout(r, rng.int(200, 1500)));
  if (strategy === 'random') {
    await new Promise((r) => setTimeout(r, rng.int(0, 1500)));
    await target.kill();
    return strategy;
  }
  const quietMs = 30;
  const settle = rng.int(0, 20);
  const happened = await new Promise<string>((resolve) => {
    let quiet: ReturnType<typeof setTimeout> | undefined;
    const fallback = setTimeout(() => finish('random (no upload within 4 s)'), 4000);
    const finish = (what: string) => {
      clearTimeout(fallback);
      if (quiet) clearTimeout(quiet);
      unwatch();
      void target.kill().then(() => resolve(what));
    };
    const unwatch = s3.watch((req, res) => {
      if (req.method !== 'PUT' || !req.url?.includes('/CloudTraces/')) return;
      if (strategy === 'mid-upload') return finish(strategy);
      if (quiet) clearTimeout(quiet);
      res.once('finish', () => {
        if (strategy === 'after-upload') return finish(strategy);
        // After the last upload of a run: the commit, then retention.
        quiet = setTimeout(() => setTimeout(() => finish(strategy), settle), quietMs);
      });
    });
  });
  return happened;
}

describe(`crash safety: ${KILLS} SIGKILLs of the real server (seed ${SEED})`, () => {
  it('loses no acknowledged trace and archives none twice, whenever the server dies', async () => {
    const rng = prng(SEED);
    const dataDir = join(root, 'data');
    const port = await freePort();
    const env = {
      CTS_DATA_DIR: dataDir,
      CTS_ADMIN_TOKEN: PROVE_ADMIN_TOKEN,
      CTS_PROJECT_ID: PROVE_PROJECT_ID,
      CTS_JOBS_INTERVAL_SECONDS: '1',
      CTS_TRANSFER_MAX_TRACES_PER_FILE: '20',
      CTS_TRANSFER_MAX_TRACES_PER_RUN: '1500',
      CTS_DATABASE_CACHE_MB: '16',
      ...s3.config,
    };
    const start = async () => {
      server = await startServerProcess({ env, port });
    };
    await start();
    const configured = await fetch(`${server!.url}/v3/${PROVE_PROJECT_ID}/tracker`, {
      method: 'PUT',
      headers: { 'Content-Type': 'application/json', 'X-Auth-Token': PROVE_ADMIN_TOKEN },
      body: JSON.stringify({
        tracker_type: 'system',
        tracker_name: 'system',
        obs_info: { bucket_name: BUCKET, file_prefix_name: 'crash', is_obs_created: false },
      }),
    });
    expect(configured.status, await configured.text()).toBe(200);

    const clients = new ReportingClients(rng, {
      clients: 4,
      projectId: PROVE_PROJECT_ID,
      token: PROVE_ADMIN_TOKEN,
      oldShare: 0.5,
      maxBatch: 30,
      pauseMs: [40, 200],
      retentionDays: 7,
    });
    const cache = new Map<string, ArchiveObject>();
    const log: string[] = [];
    const moments = new Map<string, number>();
    let findings: ArchiveFindings | undefined;
    for (let kill = 1; kill <= KILLS; kill++) {
      const strategy = STRATEGIES[(kill - 1) % STRATEGIES.length]!;
      const running = clients.run(server!.url);
      const happened = await killAt(strategy, rng);
      await running;
      moments.set(happened, (moments.get(happened) ?? 0) + 1);
      const state = await readDbState(join(dataDir, 'cts.db'), PROVE_PROJECT_ID);
      const archive = await readS3Archive(s3.client(), BUCKET, cache);
      findings = checkArchive(state, archive, clients, { final: false });
      const inFlight = state.tracker.planEnd !== null && state.tracker.planEnd > state.tracker.cursor;
      log.push(
        `kill ${kill} (${happened}): acked ${clients.acked.size}, db ${findings.inDatabase}, archived ${findings.archived}, ` +
          `files ${state.files.length}, uncommitted objects ${findings.orphans} (torn ${findings.torn}), page in flight ${inFlight}`,
      );
      expect(findings.problems, `after kill ${kill} (${happened}), seed ${SEED}:\n${log.join('\n')}`).toEqual(
        [],
      );
      await start();
    }

    // Let the restarted server drain the backlog and apply retention; then stop it cleanly.
    const deadline = Date.now() + 90_000;
    let state = await readDbState(join(dataDir, 'cts.db'), PROVE_PROJECT_ID);
    const oldIds = [...clients.acked].filter(
      (id) => (clients.sent.get(id)!.time as number) < Date.now() - 7 * 86_400_000,
    );
    while (Date.now() < deadline) {
      state = await readDbState(join(dataDir, 'cts.db'), PROVE_PROJECT_ID);
      const drained = state.tracker.cursor >= state.maxSeq && state.tracker.planEnd === null;
      if (drained && oldIds.every((id) => !state.traces.has(id))) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    await server!.stop();
    state = await readDbState(join(dataDir, 'cts.db'), PROVE_PROJECT_ID);
    const archive = await readS3Archive(s3.client(), BUCKET, cache);
    findings = checkArchive(state, archive, clients, { final: true });
    const summary =
      `${KILLS} kills (${[...moments].map(([m, n]) => `${m}: ${n}`).join(', ')}); ${clients.requests} requests, ` +
      `${clients.acked.size} traces acknowledged, ${archive.size} archive files, ${findings.archived} traces archived`;
    console.log(`crash safety, seed ${SEED}: ${summary}\n${log.join('\n')}`);
    expect(findings.problems, summary).toEqual([]);
    expect(state.tracker.cursor, 'the backlog drained').toBeGreaterThanOrEqual(state.maxSeq);
    const unarchived = [...clients.acked].filter((id) => !archive.size || !isArchived(archive, id));
    expect(unarchived.slice(0, 10), 'every acknowledged trace is archived').toEqual([]);
    expect(
      oldIds.filter((id) => state.traces.has(id)).slice(0, 10),
      'retention removed the old traces',
    ).toEqual([]);
    expect(oldIds.length).toBeGreaterThan(100);
  }, 600_000);
});

let archivedIds: Set<string> | undefined;
function isArchived(archive: Map<string, ArchiveObject>, id: string): boolean {
  archivedIds ??= new Set(
    [...archive.values()].flatMap((o) => (o.traces ?? []).map((t) => String(t.trace_id))),
  );
  return archivedIds.has(id);
}
