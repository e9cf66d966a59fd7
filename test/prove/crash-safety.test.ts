/**
 * Crash safety (issue 8, DESIGN §5): the real server runs as a child process (`node --import tsx
 * src/runtime/main.ts`) with a tracker that transfers every second in small files, and retention
 * with work to do (half the traces are older than the retention). Several clients report traces
 * with unique ids while the server is killed with SIGKILL — 20 times with an s3rver bucket, 8 more
 * with the filesystem bucket of the zero-configuration mode:
 *
 * - at random moments (ingest, transfer, retention — whatever runs),
 * - when a trace-file upload starts (s3rver received the request / a `.tmp` file appeared),
 * - right after an upload was stored (between upload and the database commit),
 * - just after the last upload of a job run (the commit and the retention that follows).
 *
 * The code offers no fault hook, so the upload moments are found by watching s3rver's requests
 * and the bucket folder (inotify).
 * After every kill, with the server down: every acknowledged trace is in the database or a
 * committed archive file, nothing is twice anywhere, every committed file is complete and exact.
 * At the end the backlog drains and every acknowledged trace is archived exactly once.
 * Seeded (`CTS_PROVE_SEED`); `CTS_PROVE_LONG=1` kills 60 + 30 times.
 */
import { mkdtempSync, rmSync, watch } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ArchiveFindings, checkArchive } from './helpers/archive-check';
import { prng, proveLong, seedFromEnv } from './helpers/prng';
import {
  type ArchiveObject,
  type RestartableS3,
  readFolderArchive,
  readS3Archive,
  startRestartableS3,
} from './helpers/s3';
import {
  freePort,
  PROVE_ADMIN_TOKEN,
  PROVE_PROJECT_ID,
  type ServerProcess,
  startServerProcess,
} from './helpers/server-process';
import { ReportingClients, readDbState } from './helpers/workload';

const KILLS = { s3: proveLong() ? 60 : 20, folder: proveLong() ? 30 : 8 };
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

/** Upload events of the bucket in use: `start` when a file begins to arrive, `stored` when it is there. */
type UploadWatcher = (listener: (event: 'start' | 'stored') => void) => () => void;

const s3Uploads: UploadWatcher = (listener) =>
  s3.watch((req, res) => {
    if (req.method !== 'PUT' || !req.url?.includes('/CloudTraces/')) return;
    listener('start');
    res.once('finish', () => listener('stored'));
  });

/** inotify on the bucket folder: `<key>.<uuid>.tmp` appears, then is renamed to `<key>`. */
const folderUploads =
  (bucketDir: string): UploadWatcher =>
  (listener) => {
    let watcher: ReturnType<typeof watch> | undefined;
    try {
      watcher = watch(bucketDir, { recursive: true }, (_event, name) => {
        if (!name?.includes('CloudTraces')) return;
        listener(name.endsWith('.tmp') ? 'start' : 'stored');
      });
    } catch {
      // The folder appears with the first file; until then, nothing to watch.
    }
    return () => watcher?.close();
  };

/** Kills the server at the moment `strategy` names; returns what actually happened. */
async function killAt(
  strategy: Strategy,
  rng: ReturnType<typeof prng>,
  uploads: UploadWatcher,
): Promise<string> {
  const target = server!;
  await new Promise((r) => setTimeout(r, rng.int(200, 1500)));
  if (strategy === 'random') {
    await new Promise((r) => setTimeout(r, rng.int(0, 1500)));
    await target.kill();
    return strategy;
  }
  const quietMs = 30;
  const settle = rng.int(0, 20);
  return new Promise<string>((resolve) => {
    let quiet: ReturnType<typeof setTimeout> | undefined;
    let done = false;
    const fallback = setTimeout(() => finish('random (no upload within 4 s)'), 4000);
    const finish = (what: string) => {
      if (done) return;
      done = true;
      clearTimeout(fallback);
      if (quiet) clearTimeout(quiet);
      unwatch();
      void target.kill().then(() => resolve(what));
    };
    const unwatch = uploads((event) => {
      if (event === 'start') {
        if (strategy === 'mid-upload') finish(strategy);
        if (quiet) clearTimeout(quiet);
        return;
      }
      if (strategy === 'after-upload') return finish(strategy);
      if (strategy !== 'after-run') return;
      // After the last upload of a run: the commit, then retention.
      if (quiet) clearTimeout(quiet);
      quiet = setTimeout(() => setTimeout(() => finish(strategy), settle), quietMs);
    });
  });
}

async function crashScenario(kind: 's3' | 'folder', kills: number): Promise<void> {
  const rng = prng(SEED + (kind === 's3' ? 0 : 1));
  const dataDir = join(root, `data-${kind}`);
  const bucketDir = join(dataDir, 'buckets', BUCKET);
  const uploads = kind === 's3' ? s3Uploads : folderUploads(bucketDir);
  const readArchive = (cache: Map<string, ArchiveObject>) =>
    kind === 's3'
      ? readS3Archive(s3.client(), BUCKET, cache, { s3rverDirectory: s3.directory })
      : readFolderArchive(bucketDir, cache);
  const port = await freePort();
  const env = {
    CTS_DATA_DIR: dataDir,
    CTS_ADMIN_TOKEN: PROVE_ADMIN_TOKEN,
    CTS_PROJECT_ID: PROVE_PROJECT_ID,
    CTS_JOBS_INTERVAL_SECONDS: '1',
    CTS_TRANSFER_MAX_TRACES_PER_FILE: '20',
    CTS_TRANSFER_MAX_TRACES_PER_RUN: '1500',
    CTS_DATABASE_CACHE_MB: '16',
    ...(kind === 's3' ? s3.config : {}),
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
      obs_info: { bucket_name: BUCKET, file_prefix_name: 'crash', is_obs_created: kind === 'folder' },
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
  for (let kill = 1; kill <= kills; kill++) {
    const strategy = STRATEGIES[(kill - 1) % STRATEGIES.length]!;
    const running = clients.run(server!.url);
    const happened = await killAt(strategy, rng, uploads);
    await running;
    moments.set(happened, (moments.get(happened) ?? 0) + 1);
    const state = await readDbState(join(dataDir, 'cts.db'), PROVE_PROJECT_ID);
    const archive = await readArchive(cache);
    findings = checkArchive(state, archive, clients, { final: false });
    const inFlight = state.tracker.planEnd !== null && state.tracker.planEnd > state.tracker.cursor;
    log.push(
      `kill ${kill} (${happened}): acked ${clients.acked.size}, db ${findings.inDatabase}, archived ${findings.archived}, ` +
        `files ${state.files.length}, uncommitted objects ${findings.orphans} (torn ${findings.torn}), page in flight ${inFlight}`,
    );
    const where = `${kind} bucket, after kill ${kill} (${happened}), seed ${SEED}`;
    expect(findings.problems, `${where}:\n${log.join('\n')}`).toEqual([]);
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
  // A clean stop closes the database threads before the process exits (status 0, not an abort).
  expect(await server!.stop()).toBe(0);
  state = await readDbState(join(dataDir, 'cts.db'), PROVE_PROJECT_ID);
  const archive = await readArchive(cache);
  findings = checkArchive(state, archive, clients, { final: true });
  const summary =
    `${kind} bucket: ${kills} kills (${[...moments].map(([m, n]) => `${m}: ${n}`).join(', ')}); ${clients.requests} requests, ` +
    `${clients.acked.size} traces acknowledged, ${archive.size - findings.torn} archive files, ${findings.archived} traces archived` +
    (findings.torn ? `, ${findings.torn} temporary files of cut writes left in the folder` : '');
  console.log(`crash safety, seed ${SEED}: ${summary}\n${log.join('\n')}`);
  expect(findings.problems, summary).toEqual([]);
  expect(state.tracker.cursor, 'the backlog drained').toBeGreaterThanOrEqual(state.maxSeq);
  const archivedIds = new Set(
    [...archive.values()].flatMap((o) => (o.traces ?? []).map((t) => String(t.trace_id))),
  );
  const unarchived = [...clients.acked].filter((id) => !archivedIds.has(id));
  expect(unarchived.slice(0, 10), 'every acknowledged trace is archived').toEqual([]);
  expect(
    oldIds.filter((id) => state.traces.has(id)).slice(0, 10),
    'retention removed the old traces',
  ).toEqual([]);
  expect(oldIds.length).toBeGreaterThan(50);
}

describe(`crash safety: SIGKILLs of the real server process (seed ${SEED})`, () => {
  it(
    `loses no acknowledged trace and archives none twice: ${KILLS.s3} kills, s3rver bucket`,
    () => crashScenario('s3', KILLS.s3),
    600_000,
  );
  it(
    `the same with the filesystem bucket of the zero-configuration mode: ${KILLS.folder} kills`,
    () => crashScenario('folder', KILLS.folder),
    600_000,
  );
});
