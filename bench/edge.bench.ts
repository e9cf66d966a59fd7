/**
 * The edge path next to the Node server, in one run, with the same HTTP client (bench/lib/traces-http.ts)
 * and the same workload on each target:
 *
 *  - the Worker bundle (`npm run build:worker`) in workerd (miniflare) against `sqld` over HTTP;
 *  - the Node server (`dist/node/main.mjs`) against `sqld` over HTTP;
 *  - the Node server on its embedded database (`npm start`'s zero configuration).
 *
 * Each target gets a fresh `sqld` (same binary and flags) or a fresh data directory, so that none
 * inherits another's rows. Batch: BENCH_EDGE_TRACES traces, 1,000 a call, 4 clients. Single-trace:
 * 10 s, 16 clients. Every count the clients make is checked against the database afterwards.
 *
 * Then ingest spread over shards (ADR 0005): three projects reporting at once to the Worker, all
 * in one `sqld` next to one project per `sqld` shard (a control `sqld` plus three registered with
 * `cts shards add`) — the same clients, projects and workload; only the number of databases moves.
 *
 *   npm run bench edge              BENCH_EDGE_TRACES=20000 npm run bench edge   (a quick run)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from '@libsql/client';
import { Miniflare } from 'miniflare';
import { type SqldServer, startSqld } from '../test/helpers/sqld';
import { buildWorker, compatibilityDate, runCli } from '../test/helpers/worker';
import { child, startServer } from './lib/processes';
import type { BatchResult, RateResult } from './lib/traces-common';

const TRACES = Number(process.env.BENCH_EDGE_TRACES ?? 100_000);
const CLIENTS = 4;
const SINGLE_SECONDS = 10;
const SINGLE_CLIENTS = 16;
const PROJECT = '0123456789abcdef0123456789abcdef';
const KEY = `cts_bench_${crypto.randomUUID()}`;
const dir = mkdtempSync(join(tmpdir(), 'cts-bench-edge-'));

const n = (value: number) => Math.round(value).toLocaleString('en');

interface Target {
  name: string;
  url: string;
  /** Traces stored for the bench project. */
  count(): Promise<number>;
  stop(): Promise<void>;
}

async function countIn(url: string, project = PROJECT): Promise<number> {
  const client = createClient({ url });
  try {
    const result = await client.execute({
      sql: 'select count(*) as n from traces where project_id = ?',
      args: [project],
    });
    return Number(result.rows[0]!.n);
  } finally {
    client.close();
  }
}

/** A fresh sqld, migrated as an operator would (`cts migrate`). */
async function migratedSqld() {
  const sqld = await startSqld();
  await runCli(['migrate'], { CTS_DATABASE_URL: sqld.url });
  return sqld;
}

/** The Worker bundle in workerd on 127.0.0.1, bootstrapping PROJECT into `databaseUrl`. */
async function startWorker(bundle: string, databaseUrl: string) {
  const mf = new Miniflare({
    host: '127.0.0.1',
    port: 0,
    modules: true,
    scriptPath: bundle,
    modulesRoot: join(bundle, '..'),
    compatibilityDate: compatibilityDate(),
    bindings: { CTS_DATABASE_URL: databaseUrl, CTS_ADMIN_TOKEN: KEY, CTS_PROJECT_ID: PROJECT },
  });
  return { mf, url: (await mf.ready).origin };
}

async function workerOnSqld(bundle: string): Promise<Target> {
  const sqld = await migratedSqld();
  const { mf, url } = await startWorker(bundle, sqld.url);
  return {
    name: 'Worker (workerd) + sqld',
    url,
    count: () => countIn(sqld.url),
    stop: async () => {
      await mf.dispose();
      await sqld.stop();
    },
  };
}

async function nodeOnSqld(): Promise<Target> {
  const sqld = await migratedSqld();
  const server = await startServer({
    CTS_DATA_DIR: join(dir, 'node-sqld'),
    CTS_DATABASE_URL: sqld.url,
    CTS_ADMIN_TOKEN: KEY,
    CTS_PROJECT_ID: PROJECT,
  });
  return {
    name: 'Node + sqld',
    url: server.url,
    count: () => countIn(sqld.url),
    stop: async () => {
      await server.stop();
      await sqld.stop();
    },
  };
}

async function nodeEmbedded(): Promise<Target> {
  const data = join(dir, 'node-embedded');
  const server = await startServer({ CTS_DATA_DIR: data, CTS_ADMIN_TOKEN: KEY, CTS_PROJECT_ID: PROJECT });
  return {
    name: 'Node, embedded',
    url: server.url,
    // Read once the server has stopped: the embedded database has one owner at a time.
    count: () => countIn(`file:${join(data, 'cts.db')}`),
    stop: () => server.stop(),
  };
}

/** A project of a spread target, with the admin key the clients use. */
interface Tenant {
  id: string;
  key: string;
}

/**
 * The Worker with three projects: in its one database (`shards` 0), or one per shard. The first
 * project is bootstrapped by the Worker (placed like any new project), the others by `cts projects
 * create`, which places each on the shard with the fewest projects.
 */
async function workerSpread(bundle: string, shards: number) {
  const control = await migratedSqld();
  const databases: SqldServer[] = [];
  const cli = { CTS_DATABASE_URL: control.url };
  for (let i = 0; i < shards; i++) {
    const shard = await startSqld();
    databases.push(shard);
    await runCli(['shards', 'add', '--url', shard.url], cli);
  }
  const { mf, url } = await startWorker(bundle, control.url);
  await (await fetch(`${url}/health`)).text(); // the isolate's start bootstraps PROJECT
  const tenants: Tenant[] = [{ id: PROJECT, key: KEY }];
  for (let i = 1; i < 3; i++) {
    const { id } = JSON.parse((await runCli(['projects', 'create'], cli)).stdout) as { id: string };
    const created = await runCli(['keys', 'create', '--project', id, '--role', 'admin'], cli);
    tenants.push({ id, key: created.stdout.match(/cts_[0-9a-f]{64}/)![0] });
  }
  const urls = shards === 0 ? [control.url] : databases.map((db) => db.url);
  return {
    url,
    tenants,
    /** Traces stored for the tenants, over every database. */
    async count() {
      const counts = await Promise.all(
        urls.flatMap((dbUrl) => tenants.map((tenant) => countIn(dbUrl, tenant.id))),
      );
      return counts.reduce((sum, count) => sum + count, 0); // summed once every count is in
    },
    async stop() {
      await mf.dispose();
      for (const db of [control, ...databases]) await db.stop();
    },
  };
}

interface SpreadRow {
  databases: number;
  tracesPerSecond: number;
  singlePerSecond: number;
  stored: number;
  counted: number;
  unanswered: number;
}

/** Each tenant's clients at once: batch (BENCH_EDGE_TRACES over all), then single-trace. */
async function measureSpread(bundle: string, shards: number): Promise<SpreadRow> {
  const target = await workerSpread(bundle, shards);
  try {
    // The CLI's own audit traces (createKey) are there before the clients start.
    const before = await target.count();
    const each = Math.round(TRACES / target.tenants.length / 1000) * 1000;
    const batches = await Promise.all(
      target.tenants.map((t) =>
        child<BatchResult>('traces-http.ts', ['batch', target.url, t.id, t.key, each, 2]),
      ),
    );
    const singles = await Promise.all(
      target.tenants.map((t) =>
        child<RateResult>('traces-http.ts', ['single', target.url, t.id, t.key, SINGLE_SECONDS, 6]),
      ),
    );
    // Added after every child has answered: one sum of settled results.
    const recorded = batches.reduce((sum, b) => sum + b.recorded, 0);
    const seconds = Math.max(...batches.map((b) => b.seconds));
    const counted = recorded + singles.reduce((sum, r) => sum + (r.recorded ?? 0), 0);
    const unanswered = [...batches, ...singles].reduce((sum, r) => sum + (r.unanswered ?? 0), 0);
    return {
      databases: Math.max(1, shards),
      tracesPerSecond: recorded / seconds,
      singlePerSecond: singles.reduce((sum, r) => sum + r.perSecond, 0),
      stored: (await target.count()) - before,
      counted,
      unanswered,
    };
  } finally {
    await target.stop();
  }
}

/**
 * Whether the database holds what the clients were told, plus at most the traces of reports that
 * got no answer in time (they may have been stored: a report unanswered is not a report refused).
 */
const accounted = (stored: number, counted: number, unanswered: number) =>
  stored >= counted && stored <= counted + unanswered;

const countLine = (stored: number, counted: number, unanswered: number, ok: boolean) =>
  `stored ${n(stored)} = counted ${n(counted)}${unanswered > 0 ? ` (+ up to ${n(unanswered)} unanswered: ${n(stored - counted)} of them stored)` : ''}${ok ? '' : '  MISCOUNT'}`;

interface Row {
  name: string;
  batch: BatchResult;
  single: RateResult;
  stored: number;
}

async function measure(start: () => Promise<Target>): Promise<Row> {
  const target = await start();
  let stopped = false;
  try {
    const batch = await child<BatchResult>('traces-http.ts', [
      'batch',
      target.url,
      PROJECT,
      KEY,
      TRACES,
      CLIENTS,
    ]);
    const single = await child<RateResult>('traces-http.ts', [
      'single',
      target.url,
      PROJECT,
      KEY,
      SINGLE_SECONDS,
      SINGLE_CLIENTS,
    ]);
    if (target.name.includes('embedded')) {
      await target.stop();
      stopped = true;
    }
    const stored = await target.count();
    return { name: target.name, batch, single, stored };
  } finally {
    if (!stopped) await target.stop();
  }
}

console.log(
  `${n(TRACES)} traces in 1,000-trace batches (${CLIENTS} clients), then single-trace reports for ${SINGLE_SECONDS} s (${SINGLE_CLIENTS} clients)`,
);
const bundle = await buildWorker(join(dir, 'worker'));
const rows: Row[] = [];
let miscount = false;
try {
  for (const start of [() => workerOnSqld(bundle), nodeOnSqld, nodeEmbedded]) {
    const row = await measure(start);
    rows.push(row);
    const counted = row.batch.recorded + (row.single.recorded ?? 0);
    const unanswered = row.batch.unanswered + (row.single.unanswered ?? 0);
    const ok =
      accounted(row.stored, counted, unanswered) && row.batch.recorded + row.batch.unanswered === TRACES;
    if (!ok) miscount = true;
    console.log(
      `${row.name.padEnd(26)} batch ${n(row.batch.tracesPerSecond).padStart(7)} traces/s   single ${n(row.single.perSecond).padStart(6)} req/s   ${countLine(row.stored, counted, unanswered, ok)}`,
    );
  }
  const base = rows.find((row) => row.name === 'Node, embedded')!;
  console.log(
    `relative to Node embedded: ${rows
      .filter((row) => row !== base)
      .map(
        (row) =>
          `${row.name} batch ${Math.round((100 * row.batch.tracesPerSecond) / base.batch.tracesPerSecond)} %, single ${Math.round((100 * row.single.perSecond) / base.single.perSecond)} %`,
      )
      .join('; ')}`,
  );

  console.log(
    `\nIngest spread: 3 projects at once on the Worker (2 batch clients and 6 single-trace clients each), in one database and on 3 shards`,
  );
  const spread: SpreadRow[] = [];
  for (const shards of [0, 3]) {
    const row = await measureSpread(bundle, shards);
    spread.push(row);
    const ok = accounted(row.stored, row.counted, row.unanswered);
    if (!ok) miscount = true;
    console.log(
      `${`${row.databases} database${row.databases > 1 ? 's' : ''}`.padEnd(26)} batch ${n(row.tracesPerSecond).padStart(7)} traces/s   single ${n(row.singlePerSecond).padStart(6)} req/s   ${countLine(row.stored, row.counted, row.unanswered, ok)}`,
    );
  }
  const [one, three] = spread as [SpreadRow, SpreadRow];
  console.log(
    `3 shards relative to 1 database: batch ${Math.round((100 * three.tracesPerSecond) / one.tracesPerSecond)} %, single ${Math.round((100 * three.singlePerSecond) / one.singlePerSecond)} %`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
if (miscount) {
  console.error('MISCOUNT: a figure above does not match what the database holds');
  process.exitCode = 1;
}
