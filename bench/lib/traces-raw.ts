/**
 * Child process of `bench/traces.bench.ts`: the ceilings measured through the driver alone.
 *
 *   insert DIR COUNT tuned|naive   multi-row INSERTs of 1,000 rows (one transaction each)
 *   single DIR COUNT               one-row INSERT transactions into the tuned database
 *   query DIR SAMPLES.json         the query store function alone, for the samples of the HTTP run
 *   count DIR                      traces stored for the bench project (checks the HTTP counts)
 *
 * Prints one JSON line with the result. Runs with --expose-gc: @libsql/client prepares a statement
 * per call and its bound values live until that statement object is garbage-collected and its
 * native finalizer has run in a later turn of the event loop — which a loop of synchronous
 * inserts never gives it (see docs/adr/0001-trace-storage.md). The driver runs on this thread
 * (`thread: 'off'`), as it always did here: the ceilings are the driver's, not the server's setup.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createClient } from '@libsql/client';
import { getTableColumns } from 'drizzle-orm';
import { parseConfig } from '../../src/config';
import { toTraceRow } from '../../src/domain/traces/record';
import { migrateDb, openNodeDb } from '../../src/runtime/node-db';
import { traces } from '../../src/store/schema/traces';
import { countTraces } from '../../src/store/trace-queries';
import { selectTraces, type TraceFilter } from '../../src/store/trace-search';
import { NAIVE_SCHEMA } from './naive-schema';
import { traceStream } from './trace-data';
import { peakRssMb, percentile, type QuerySample } from './traces-common';

const [mode = '', dir = '', arg = '', variant = 'tuned'] = process.argv.slice(2);
const PROJECT = '0123456789abcdef0123456789abcdef';
const collect = (globalThis as { gc?: () => void }).gc ?? (() => {});
/** Collects, then yields a turn of the event loop: native finalizers run in a later macrotask. */
const gc = async () => {
  collect();
  await new Promise((resolve) => setImmediate(resolve));
};

const COLUMNS = Object.entries(getTableColumns(traces))
  .filter(([key]) => key !== 'seq' && key !== 'indexed')
  .map(([key, column]) => [key, column.name] as const);

async function open(naive: boolean) {
  if (!naive) {
    const db = await openNodeDb(parseConfig({ CTS_DATA_DIR: dir }), { thread: 'off' });
    await migrateDb(db);
    return db.$client;
  }
  // The naive database: same driver and journal, default page cache, the schema of naive-schema.ts.
  mkdirSync(dir, { recursive: true });
  const client = createClient({ url: `file:${join(dir, 'cts.db')}`, concurrency: 1 } as never);
  await client.executeMultiple('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;');
  await client.executeMultiple(NAIVE_SCHEMA);
  return client;
}

async function insert(count: number, naive: boolean) {
  const client = await open(naive);
  const names = [...(naive ? ['id'] : []), ...COLUMNS.map(([, name]) => name)];
  const row = `(${names.map(() => '?').join(',')})`;
  const sql = `INSERT INTO traces (${names.join(',')}) VALUES ${Array(1000).fill(row).join(',')}`;
  const stream = traceStream(7, Date.now() - 7 * 86_400_000, Math.floor((7 * 86_400_000) / count));
  const segments: number[] = [];
  let busyMs = 0;
  let cpuMs = 0;
  let segmentMs = 0;
  for (let done = 0; done < count; done += 1000) {
    const args: Array<string | number | null> = [];
    for (const trace of stream.take(1000)) {
      const values = toTraceRow(PROJECT, trace, Date.now()) as Record<string, unknown>;
      if (naive) args.push(crypto.randomUUID());
      for (const [key] of COLUMNS) args.push((values[key] as string | number | null | undefined) ?? null);
    }
    // Only the database call is timed: generating the data is not the driver's work.
    const started = performance.now();
    const cpu = process.cpuUsage();
    await client.execute({ sql, args });
    const used = process.cpuUsage(cpu);
    cpuMs += (used.user + used.system) / 1000;
    const ms = performance.now() - started;
    busyMs += ms;
    segmentMs += ms;
    if ((done + 1000) % (count / 10) === 0) {
      segments.push(Math.round(count / 10 / (segmentMs / 1000)));
      segmentMs = 0;
    }
    if (done % 10_000 === 0) await gc();
  }
  client.close();
  return {
    rowsPerSecond: Math.round(count / (busyMs / 1000)),
    rowsPerCpuSecond: Math.round(count / (cpuMs / 1000)),
    segments,
    peakRssMb: peakRssMb(),
  };
}

async function single(count: number) {
  const client = await open(false);
  const names = COLUMNS.map(([, name]) => name);
  const sql = `INSERT INTO traces (${names.join(',')}) VALUES (${names.map(() => '?').join(',')})`;
  const stream = traceStream(8, Date.now() - 60_000, 1);
  let busyMs = 0;
  for (let i = 0; i < count; i++) {
    const values = toTraceRow(PROJECT, stream.take(1)[0]!, Date.now()) as Record<string, unknown>;
    const args = COLUMNS.map(([key]) => (values[key] as string | number | null | undefined) ?? null);
    const started = performance.now();
    await client.execute({ sql, args });
    busyMs += performance.now() - started;
    if (i % 5000 === 0) await gc();
  }
  client.close();
  return { perSecond: Math.round(count / (busyMs / 1000)) };
}

/** The store query alone for every sample of the HTTP run: the ceiling of (d). */
async function query(samplesFile: string) {
  const db = await openNodeDb(parseConfig({ CTS_DATA_DIR: dir }), { thread: 'off' });
  const { projectId, samples } = JSON.parse(readFileSync(samplesFile, 'utf8')) as {
    projectId: string;
    samples: QuerySample[];
  };
  const times = new Map<string, number[]>();
  for (const sample of samples) {
    const filter: TraceFilter = { projectId, from: sample.from, to: sample.to, equals: sample.equals };
    const started = performance.now();
    await selectTraces(db, filter, sample.limit + 1);
    const ms = performance.now() - started;
    const key = `${sample.name}|${sample.window}|${sample.absent ? 'absent' : 'present'}`;
    times.set(key, [...(times.get(key) ?? []), ms]);
  }
  db.$client.close();
  return Object.fromEntries(
    [...times].map(([key, ms]) => [key, { p50: percentile(ms, 50), p95: percentile(ms, 95) }]),
  );
}

/** Traces stored for the bench project: what the HTTP clients counted must match it. */
async function count() {
  const db = await openNodeDb(parseConfig({ CTS_DATA_DIR: dir }), { thread: 'off' });
  const stored = await countTraces(db, PROJECT);
  db.$client.close();
  return { count: stored };
}

const result =
  mode === 'count'
    ? await count()
    : mode === 'insert'
      ? await insert(Number(arg), variant === 'naive')
      : mode === 'single'
        ? await single(Number(arg))
        : mode === 'query'
          ? await query(arg)
          : undefined;
if (!result) throw new Error(`unknown mode ${mode}`);
console.log(JSON.stringify(result));
