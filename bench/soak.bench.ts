/**
 * Soak (issue 8): the real server as a child process (`node dist/node/main.mjs`, as `npm start`),
 * transferring to s3rver, with a notification rule delivering to a local webhook, under steady
 * load for CTS_SOAK_MINUTES (default 10): trace reports (a fifth of them older than the retention,
 * so retention deletes all along), API queries of every kind, console pages, and the scheduled jobs
 * every 5 s. Every CTS_SOAK_SAMPLE_SECONDS (5) the server's resident memory and the latencies of
 * the window are sampled and printed. At the end: memory must be flat (mean RSS of the last quarter
 * at most 20 % above the first quarter's, after a 1-minute warm-up), no request may have failed,
 * and every acknowledged trace must be in the database or the archive exactly once.
 *
 *   npm run bench soak                  CTS_SOAK_MINUTES=2 CTS_SOAK_RATE=400 npm run bench soak
 *
 * `CTS_DATABASE_CACHE_MB=32` for the server: SQLite's page cache is memory the server is told
 * it may fill; a small one fills in the first minute, so that growth after it means a leak.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkArchive } from '../test/prove/helpers/archive-check';
import { prng } from '../test/prove/helpers/prng';
import { type ArchiveObject, readS3Archive, startRestartableS3 } from '../test/prove/helpers/s3';
import {
  PROVE_PROJECT_ID as PROJECT,
  rssMiB,
  startServerProcess,
  PROVE_ADMIN_TOKEN as TOKEN,
} from '../test/prove/helpers/server-process';
import { ReportingClients, readDbState } from '../test/prove/helpers/workload';

const MINUTES = Number(process.env.CTS_SOAK_MINUTES ?? 10);
const RATE = Number(process.env.CTS_SOAK_RATE ?? 200);
const SAMPLE_S = Number(process.env.CTS_SOAK_SAMPLE_SECONDS ?? 5);
const WARMUP_MS = Math.min(60_000, (MINUTES * 60_000) / 5);
const BUCKET = 'soak-archive';

type Kind = 'report' | 'query' | 'console';
interface Window {
  latencies: Record<Kind, number[]>;
  errors: string[];
}
const newWindow = (): Window => ({ latencies: { report: [], query: [], console: [] }, errors: [] });
let window = newWindow();
/** Every latency of the run (after the warm-up), for the closing figures. */
const overall: Record<Kind, number[]> = { report: [], query: [], console: [] };
const allErrors: string[] = [];

function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function timed(kind: Kind, what: string, call: () => Promise<Response>, ok = (s: number) => s < 300) {
  const started = performance.now();
  try {
    const res = await call();
    const text = await res.text();
    window.latencies[kind].push(performance.now() - started);
    if (!ok(res.status)) {
      const error = `${what} → ${res.status} ${text.slice(0, 200)}`;
      window.errors.push(error);
      allErrors.push(error);
    }
    return text;
  } catch (error) {
    const message = `${what} failed: ${String(error)}`;
    window.errors.push(message);
    allErrors.push(message);
    return '';
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main() {
  const root = mkdtempSync(join(tmpdir(), 'cts-soak-'));
  const s3 = await startRestartableS3(join(root, 's3'), [BUCKET]);
  let delivered = 0;
  const receiver = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      delivered++;
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  const hook = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;

  const server = await startServerProcess({
    env: {
      CTS_DATA_DIR: join(root, 'data'),
      CTS_ADMIN_TOKEN: TOKEN,
      CTS_PROJECT_ID: PROJECT,
      CTS_JOBS_INTERVAL_SECONDS: '5',
      CTS_DATABASE_CACHE_MB: '32',
      CTS_TRANSFER_MAX_TRACES_PER_FILE: '2000',
      ...s3.config,
    },
  });
  const api = `${server.url}/v3/${PROJECT}`;
  const headers = { 'Content-Type': 'application/json', 'X-Auth-Token': TOKEN };
  const setup = async (method: string, path: string, body: unknown) => {
    const res = await fetch(`${api}${path}`, { method, headers, body: JSON.stringify(body) });
    if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  };
  await setup('PUT', '/tracker', {
    tracker_type: 'system',
    tracker_name: 'system',
    obs_info: { bucket_name: BUCKET, file_prefix_name: 'soak', is_obs_created: false },
  });
  await setup('POST', '/notifications', {
    notification_name: 'soak_incidents',
    operation_type: 'customized',
    operations: [{ service_type: 'ECS', resource_type: 'res', trace_names: ['deleteServer'] }],
    topic_id: hook,
  });
  const signIn = await fetch(`${server.url}/console/sign-in`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', Origin: server.url },
    body: new URLSearchParams({ key: TOKEN }),
    redirect: 'manual',
  });
  const cookie = signIn.headers.get('set-cookie')?.split(';')[0] ?? '';
  if (!cookie) throw new Error(`console sign-in failed: ${signIn.status}`);

  const rng = prng(2026);
  const clients = new ReportingClients(rng, {
    clients: 2,
    projectId: PROJECT,
    token: TOKEN,
    oldShare: 0.2,
    // Two clients, two batches a second each, RATE/4 traces a batch on average.
    maxBatch: Math.max(1, Math.round(RATE / 2)),
    pauseMs: [400, 600],
    retentionDays: 7,
    observe: (ms, status) => {
      window.latencies.report.push(ms);
      if (status !== 201) {
        window.errors.push(`report → ${status || 'failed'}`);
        allErrors.push(`report → ${status || 'failed'}`);
      }
    },
  });
  const realFetch = globalThis.fetch;
  const deadline = Date.now() + MINUTES * 60_000;
  const reporting = clients.run(server.url);
  const querying = (async () => {
    const filters = [
      '',
      '&service_type=ECS',
      '&trace_rating=warning',
      '&user=user-3',
      '&resource_id=r-7',
      '&code=200',
    ];
    let marker: string | null = null;
    while (Date.now() < deadline) {
      const to = Date.now();
      const filter = rng.pick(filters);
      const page: string = await timed('query', 'query', () =>
        realFetch(
          `${api}/traces?limit=50&from=${to - 3_600_000}&to=${to}${filter}${marker ? `&next=${marker}` : ''}`,
          {
            headers,
          },
        ),
      );
      try {
        marker = rng.chance(0.7) ? (JSON.parse(page).meta_data?.marker ?? null) : null;
      } catch {
        marker = null;
      }
      const ids = [...clients.acked];
      const id = ids[rng.int(0, Math.max(0, ids.length - 1))];
      if (id) await timed('query', 'by id', () => realFetch(`${api}/traces?trace_id=${id}`, { headers }));
      if (rng.chance(0.2)) await timed('query', 'trackers', () => realFetch(`${api}/trackers`, { headers }));
      if (rng.chance(0.1)) await timed('query', 'quotas', () => realFetch(`${api}/quotas`, { headers }));
      if (rng.chance(0.1)) {
        await timed('console', 'console traces', () =>
          realFetch(`${server.url}/console/traces?service_type=ECS`, { headers: { Cookie: cookie } }),
        );
        await timed('console', 'console trackers', () =>
          realFetch(`${server.url}/console/trackers`, { headers: { Cookie: cookie } }),
        );
      }
      await sleep(100);
    }
  })();

  const samples: Array<{ t: number; rss: number }> = [];
  const started = Date.now();
  console.log(
    `soak: ${MINUTES} min, ~${RATE} traces/s, jobs every 5 s, sample every ${SAMPLE_S} s (server pid ${server.pid})`,
  );
  console.log(
    ' t(s)  rss(MiB)  reports p50/p95/max (ms)   queries p50/p95/max (ms)   console p95  acked    errors',
  );
  while (Date.now() < deadline) {
    await sleep(SAMPLE_S * 1000);
    const rss = await rssMiB(server.pid);
    const t = Date.now() - started;
    samples.push({ t, rss });
    const { report, query, console: pages } = window.latencies;
    const f = (v: number) => (Number.isNaN(v) ? '   -' : v.toFixed(0).padStart(4));
    console.log(
      `${String(Math.round(t / 1000)).padStart(5)}  ${rss.toFixed(1).padStart(8)}  ` +
        `${f(percentile(report, 50))}/${f(percentile(report, 95))}/${f(Math.max(...report))} (${String(report.length).padStart(3)})   ` +
        `${f(percentile(query, 50))}/${f(percentile(query, 95))}/${f(Math.max(...query))} (${String(query.length).padStart(3)})   ` +
        `${f(percentile(pages, 95))}     ${String(clients.acked.size).padStart(7)}  ${window.errors.length}`,
    );
    if (t >= WARMUP_MS)
      for (const kind of ['report', 'query', 'console'] as const)
        overall[kind].push(...window.latencies[kind]);
    window = newWindow();
  }
  clients.stop();
  await Promise.all([reporting, querying]);
  await sleep(6000); // one more job run: the transfer catches up on the last reports
  await server.stop();

  const state = await readDbState(join(root, 'data', 'cts.db'), PROJECT);
  const archive = await readS3Archive(s3.client(), BUCKET, new Map<string, ArchiveObject>());
  const findings = checkArchive(state, archive, clients, { final: false });
  await s3.stop();
  receiver.close();
  rmSync(root, { recursive: true, force: true });

  const steady = samples.filter((s) => s.t >= WARMUP_MS);
  const quarter = Math.max(1, Math.floor(steady.length / 4));
  const mean = (xs: typeof samples) => xs.reduce((sum, s) => sum + s.rss, 0) / xs.length;
  const first = mean(steady.slice(0, quarter));
  const last = mean(steady.slice(-quarter));
  const growth = (last - first) / first;
  const peak = Math.max(...samples.map((s) => s.rss));
  console.log(
    `\nsoak figures: ${clients.acked.size} traces acknowledged in ${clients.requests} reports ` +
      `(${(clients.acked.size / (MINUTES * 60)).toFixed(0)}/s), ${findings.archived} archived in ${archive.size} files, ` +
      `${findings.inDatabase} in the database, ${delivered} webhook deliveries`,
  );
  console.log(
    `memory: RSS mean of the first quarter ${first.toFixed(1)} MiB, last quarter ${last.toFixed(1)} MiB ` +
      `(${(growth * 100).toFixed(1)} %), peak ${peak.toFixed(1)} MiB; errors ${allErrors.length}; archive problems ${findings.problems.length}`,
  );
  const failures = [
    ...(growth > 0.2
      ? [`memory grew ${(growth * 100).toFixed(1)} % from the first to the last quarter`]
      : []),
    ...(allErrors.length > 0
      ? [`${allErrors.length} failed requests, e.g. ${allErrors.slice(0, 3).join(' | ')}`]
      : []),
    ...findings.problems.slice(0, 5),
  ];
  for (const kind of ['report', 'query', 'console'] as const) {
    const xs = overall[kind];
    console.log(
      `latency ${kind.padEnd(7)} (after warm-up, ${xs.length} requests): p50 ${percentile(xs, 50).toFixed(1)} ms, ` +
        `p95 ${percentile(xs, 95).toFixed(1)} ms, p99 ${percentile(xs, 99).toFixed(1)} ms, max ${Math.max(...xs).toFixed(1)} ms`,
    );
  }
  if (failures.length > 0) {
    console.error(`\nSOAK FAILED:\n  ${failures.join('\n  ')}`);
    process.exit(1);
  }
  console.log('soak passed: memory flat, no errors, every acknowledged trace kept exactly once');
}

await main();
