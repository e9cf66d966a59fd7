/**
 * The console's render budget: the Trace List with 200 rows, rendered server-side, against the
 * JSON API returning the same 200 rows (the baseline: same query, same database, no HTML), both
 * through `app.request` on an embedded libSQL file holding 10,000 realistic traces of the last hour.
 * Requests alternate between the two so that machine noise hits both alike. Also reported: the
 * render alone (JSX → HTML string for rows already fetched), to show where the time goes.
 *
 *   npm run bench console            BENCH_ITERATIONS=500 npm run bench console
 *
 * Target: console median < 50 ms.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp } from '../src/app';
import { parseConfig } from '../src/config';
import { TraceListPage } from '../src/console/pages/trace-list';
import { parseTraceFilters } from '../src/console/trace-filters';
import type { Deps } from '../src/domain/deps';
import { createApiKey, createProject } from '../src/domain/projects/projects';
import { startSession } from '../src/domain/projects/sessions';
import { queryTraces } from '../src/domain/traces/query';
import { recordTraces } from '../src/domain/traces/record';
import { createFsBucketStore } from '../src/runtime/fs-bucket';
import { migrateDb, openNodeDb } from '../src/runtime/node-db';
import { traceStream } from './lib/trace-data';

const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 200);
const WARMUP = 20;
const TRACES = 10_000;
const ROWS = 200;
const TARGET_MEDIAN_MS = 50;

const dir = mkdtempSync(join(tmpdir(), 'cts-bench-console-'));
try {
  const config = parseConfig({ CTS_DATA_DIR: dir });
  const db = await openNodeDb(config);
  await migrateDb(db);
  const silent = { info() {}, warn() {}, error() {} };
  const deps: Deps = {
    db,
    config,
    buckets: createFsBucketStore(join(dir, 'buckets')),
    clock: Date.now,
    logger: silent,
    waitUntil: (work) => void work.catch(() => {}),
  };
  const project = await createProject(deps);
  const reader = await createApiKey(deps, { projectId: project.id, role: 'reader' });
  const now = Date.now();
  // 10,000 traces over the last ~50 minutes: both the API's and the console's default hour hold them.
  const stream = traceStream(42, now - 50 * 60_000, 150);
  for (let i = 0; i < TRACES; i += 1000) await recordTraces(deps, project.id, stream.take(1000));

  const app = createApp(deps);
  const session = await startSession(deps, reader.token);
  const cookie = `cts_session=${session.sessionId}`;
  const consoleUrl = `http://localhost/console/traces?limit=${ROWS}`;
  const apiUrl = `http://localhost/v3/${project.id}/traces?limit=${ROWS}`;

  const time = async (run: () => Promise<unknown>) => {
    const start = performance.now();
    await run();
    return performance.now() - start;
  };
  const getConsole = async () => {
    const res = await app.request(consoleUrl, { headers: { Cookie: cookie } });
    if (res.status !== 200) throw new Error(`console answered ${res.status}`);
    return res.text();
  };
  const getApi = async () => {
    const res = await app.request(apiUrl, { headers: { 'X-Auth-Token': reader.token } });
    if (res.status !== 200) throw new Error(`API answered ${res.status}`);
    return res.text();
  };

  // Same rows on both sides, or the comparison means nothing.
  const html = await getConsole();
  const api = JSON.parse(await getApi()) as { traces: Array<{ trace_id: string }> };
  const shownIds = [...html.matchAll(/href="\/console\/traces\/([^"?]+)/g)].map((m) => m[1]);
  if (api.traces.length !== ROWS || shownIds.join() !== api.traces.map((t) => t.trace_id).join()) {
    throw new Error('the console and the API do not show the same 200 rows');
  }

  // Render alone: the page component for rows fetched once.
  const filters = parseTraceFilters(new URLSearchParams(`limit=${ROWS}`));
  const page = await queryTraces(deps, project.id, { limit: ROWS, from: now - 3_600_000 });
  const result = { traces: page.traces, marker: page.meta_data.marker, from: now - 3_600_000, to: now };
  const renderOnly = async () =>
    String(await TraceListPage({ session, values: new URLSearchParams(), filters, result }).toString());

  for (let i = 0; i < WARMUP; i++) {
    await getConsole();
    await getApi();
    await renderOnly();
  }
  const samples = { console: [] as number[], api: [] as number[], render: [] as number[] };
  for (let i = 0; i < ITERATIONS; i++) {
    samples.console.push(await time(getConsole));
    samples.api.push(await time(getApi));
    samples.render.push(await time(renderOnly));
  }

  const quantile = (xs: number[], q: number) =>
    [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) * q)]!;
  const line = (name: string, xs: number[]) =>
    `  ${name.padEnd(40)} median ${quantile(xs, 0.5).toFixed(2).padStart(6)} ms   p95 ${quantile(xs, 0.95)
      .toFixed(2)
      .padStart(6)} ms`;
  console.log(
    `Trace List, ${ROWS} rows of ${TRACES.toLocaleString('en')} stored, ${ITERATIONS} requests each:`,
  );
  console.log(line('console page (query + HTML)', samples.console));
  console.log(line('baseline: JSON API, same 200 rows', samples.api));
  console.log(line('render only (JSX → HTML, rows fetched)', samples.render));
  console.log(
    `  page size ${(html.length / 1024).toFixed(0)} KiB HTML vs ${(JSON.stringify(api).length / 1024).toFixed(0)} KiB JSON`,
  );
  const median = quantile(samples.console, 0.5);
  console.log(
    `  target: console median < ${TARGET_MEDIAN_MS} ms — ${median < TARGET_MEDIAN_MS ? 'met' : 'NOT MET'} (${median.toFixed(2)} ms)`,
  );
  db.$client.close();
  if (median >= TARGET_MEDIAN_MS) process.exitCode = 1;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
