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
 *   npm run bench edge              BENCH_EDGE_TRACES=20000 npm run bench edge   (a quick run)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from '@libsql/client';
import { Miniflare } from 'miniflare';
import { startSqld } from '../test/helpers/sqld';
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

async function countIn(url: string): Promise<number> {
  const client = createClient({ url });
  try {
    const result = await client.execute({
      sql: 'select count(*) as n from traces where project_id = ?',
      args: [PROJECT],
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

async function workerOnSqld(bundle: string): Promise<Target> {
  const sqld = await migratedSqld();
  const mf = new Miniflare({
    host: '127.0.0.1',
    port: 0,
    modules: true,
    scriptPath: bundle,
    modulesRoot: join(bundle, '..'),
    compatibilityDate: compatibilityDate(),
    bindings: { CTS_DATABASE_URL: sqld.url, CTS_ADMIN_TOKEN: KEY, CTS_PROJECT_ID: PROJECT },
  });
  const url = (await mf.ready).origin;
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
    const ok = row.stored === counted && row.batch.recorded === TRACES;
    if (!ok) miscount = true;
    console.log(
      `${row.name.padEnd(26)} batch ${n(row.batch.tracesPerSecond).padStart(7)} traces/s   single ${n(row.single.perSecond).padStart(6)} req/s   stored ${n(row.stored)} = counted ${n(counted)}${ok ? '' : '  MISCOUNT'}`,
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
} finally {
  rmSync(dir, { recursive: true, force: true });
}
if (miscount) {
  console.error('MISCOUNT: a figure above does not match what the database holds');
  process.exitCode = 1;
}
