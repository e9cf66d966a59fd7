/**
 * Recording and querying traces, each figure next to its ceiling measured in the same run:
 *
 *  (a) raw insert rate of the real schema through the same driver (@libsql/client, multi-row
 *      INSERTs of 1,000 rows, one transaction each): the ceiling of (b); and the same for a naive
 *      schema (random UUID key, one index per filter, default page cache);
 *  (b) HTTP batch ingest through the real server (`dist/node/main.mjs`, as `npm start` runs it),
 *      1,000 traces per call from BENCH_CLIENTS concurrent clients;
 *  (c) single-trace reports per second, next to one-row INSERT transactions per second through the
 *      driver and to `GET /health` per second (the HTTP ceiling);
 *  (d) p50/p95 latency of every query filter (and a few combinations) through the API at the size
 *      reached by (b), over the full 7-day window and over the default last hour, 200 traces a page,
 *      next to the store query alone (the ceiling).
 *
 * Traces are ~1.1 KB with realistic distributions (bench/lib/trace-data.ts), spread over 7 days.
 *
 *   npm run bench traces              BENCH_TRACES=200000 npm run bench traces   (a quick run)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { child, startServer } from './lib/processes';
import {
  type BatchResult,
  type CountResult,
  cpuSeconds,
  type InsertResult,
  type LatencyResult,
  peakRssMb,
  percentile,
  type RateResult,
} from './lib/traces-common';

const TRACES = Number(process.env.BENCH_TRACES ?? 1_000_000);
const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 4);
const SINGLE_SECONDS = 10;
const SINGLE_CLIENTS = 16;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const PROJECT = '0123456789abcdef0123456789abcdef';
const KEY = `cts_bench_${crypto.randomUUID()}`;
const dir = mkdtempSync(join(tmpdir(), 'cts-bench-traces-'));

const n = (value: number) => Math.round(value).toLocaleString('en');
const pct = (part: number, whole: number) => `${Math.round((100 * part) / whole)} %`;
const ms = (value: number) => `${value.toFixed(1)} ms`;

console.log(`${n(TRACES)} traces of ~1.1 KB; data in ${dir}`);

// (a) The ceilings: the same rows through the driver alone, into the real and a naive schema.
const tuned = await child<InsertResult>('traces-raw.ts', ['insert', join(dir, 'tuned'), TRACES, 'tuned']);
console.log(
  `(a) raw insert, our schema:    ${n(tuned.rowsPerSecond)} rows/s  (per 10 %: ${tuned.segments.map(n).join(', ')}; peak RSS ${n(tuned.peakRssMb)} MiB)`,
);
const naive = await child<InsertResult>('traces-raw.ts', ['insert', join(dir, 'naive'), TRACES, 'naive']);
console.log(
  `    raw insert, naive schema:  ${n(naive.rowsPerSecond)} rows/s  (per 10 %: ${naive.segments.map(n).join(', ')}) — ours is ${(tuned.rowsPerSecond / naive.rowsPerSecond).toFixed(1)}x, ${(tuned.segments.at(-1)! / naive.segments.at(-1)!).toFixed(1)}x over the last 10 %`,
);
rmSync(join(dir, 'naive'), { recursive: true, force: true });
const singleCeiling = await child<RateResult>('traces-raw.ts', ['single', join(dir, 'tuned'), 20_000]);
rmSync(join(dir, 'tuned'), { recursive: true, force: true });

// (b), (c), (d) through the real server.
const server = await startServer({
  CTS_DATA_DIR: join(dir, 'server'),
  CTS_ADMIN_TOKEN: KEY,
  CTS_PROJECT_ID: PROJECT,
});
try {
  const ingestCpu = cpuSeconds(server.proc.pid!);
  const ingest = await child<BatchResult>('traces-http.ts', [
    'batch',
    server.url,
    PROJECT,
    KEY,
    TRACES,
    CLIENTS,
  ]);
  const ingestCpuSeconds = cpuSeconds(server.proc.pid!) - ingestCpu;
  const perCpuSecond = ingest.recorded / ingestCpuSeconds;
  console.log(
    `(b) HTTP batch ingest:         ${n(ingest.tracesPerSecond)} traces/s  (${n(ingest.recorded)} traces, ${CLIENTS} clients × 1,000 per call, ${ingest.seconds.toFixed(0)} s) = ${pct(ingest.tracesPerSecond, tuned.rowsPerSecond)} of (a)`,
  );
  // On a loaded machine the server waits for a CPU more than it works: per CPU second, HTTP ingest
  // is compared with the driver's inserts without that noise.
  console.log(
    `    per CPU second:            ${n(perCpuSecond)} traces (server ${pct(ingestCpuSeconds, ingest.seconds)} busy) = ${pct(perCpuSecond, tuned.rowsPerCpuSecond)} of the raw insert's ${n(tuned.rowsPerCpuSecond)} rows`,
  );
  // (c) in rounds, single-trace then health each time: the machine's load moves between rounds,
  // and only the ratio measured within a round is meaningful. The server's CPU per request is
  // measured too: it does not depend on how busy the client or the machine was.
  const rounds: Array<{ single: RateResult; health: RateResult; singleCpuUs: number; healthCpuUs: number }> =
    [];
  let singleRecorded = 0;
  for (let round = 0; round < ROUNDS; round++) {
    let cpu = cpuSeconds(server.proc.pid!);
    const single = await child<RateResult>('traces-http.ts', [
      'single',
      server.url,
      PROJECT,
      KEY,
      SINGLE_SECONDS,
      SINGLE_CLIENTS,
    ]);
    const singleCpu = cpuSeconds(server.proc.pid!) - cpu;
    cpu = cpuSeconds(server.proc.pid!);
    const health = await child<RateResult>('traces-http.ts', [
      'health',
      server.url,
      SINGLE_SECONDS,
      SINGLE_CLIENTS,
    ]);
    const healthCpu = cpuSeconds(server.proc.pid!) - cpu;
    singleRecorded += single.recorded ?? 0;
    const calls = (rate: RateResult) => rate.perSecond * SINGLE_SECONDS;
    const entry = {
      single,
      health,
      singleCpuUs: (1e6 * singleCpu) / calls(single),
      healthCpuUs: (1e6 * healthCpu) / calls(health),
    };
    rounds.push(entry);
    console.log(
      `${round === 0 ? '(c)' : '   '} single-trace reports:      ${n(single.perSecond)} req/s  (${SINGLE_CLIENTS} clients) = ${pct(single.perSecond, health.perSecond)} of GET /health (${n(health.perSecond)} req/s), ${pct(single.perSecond, singleCeiling.perSecond)} of one-row INSERT transactions (${n(singleCeiling.perSecond)}/s); server CPU ${n(entry.singleCpuUs)} µs a report, ${n(entry.healthCpuUs)} µs a GET /health (${pct(entry.healthCpuUs, entry.singleCpuUs)})`,
    );
  }
  const ratios = rounds.map((r) => (100 * r.single.perSecond) / r.health.perSecond);
  console.log(
    `    single-trace / GET /health over ${ROUNDS} rounds: ${Math.round(Math.min(...ratios))}–${Math.round(Math.max(...ratios))} %, median ${Math.round(percentile(ratios, 50))} %`,
  );
  const samplesFile = join(dir, 'samples.json');
  const latency = await child<LatencyResult>('traces-http.ts', [
    'query',
    server.url,
    PROJECT,
    KEY,
    samplesFile,
  ]);
  console.log(`    server peak RSS after (b)–(d): ${n(peakRssMb(server.proc.pid!))} MiB`);
  await server.stop();
  const ceiling = await child<LatencyResult>('traces-raw.ts', ['query', join(dir, 'server'), samplesFile]);
  // The clients' counts, checked against the database: a figure built on a miscount is worthless.
  const stored = await child<CountResult>('traces-raw.ts', ['count', join(dir, 'server')]);
  const counted = ingest.recorded + singleRecorded;
  console.log(
    `    stored traces: ${n(stored.count)}; the clients counted ${n(ingest.recorded)} + ${n(singleRecorded)} = ${n(counted)} recorded (${n(TRACES)} sent in batches)`,
  );
  if (stored.count !== counted || ingest.recorded !== TRACES) {
    console.error('    MISCOUNT: the figures above do not match what the database holds');
    process.exitCode = 1;
  }

  console.log(
    `(d) query latency at ${n(ingest.recorded)}+ stored traces, 200 a page (API p50 / p95, and p95 of the store query alone):`,
  );
  const names = [...new Set(Object.keys(latency).map((key) => key.split('|')[0]!))];
  const cell = (name: string, window: string, kind: string) => {
    const api = latency[`${name}|${window}|${kind}`];
    const raw = ceiling[`${name}|${window}|${kind}`];
    return api ? `${ms(api.p50)} / ${ms(api.p95)} (${raw ? ms(raw.p95) : '?'})`.padEnd(28) : ''.padEnd(28);
  };
  console.log(
    `    ${'filter'.padEnd(34)}${'7 days'.padEnd(28)}${'last hour'.padEnd(28)}absent value, 7 days`,
  );
  // Combinations are shown for information: the target is per filter.
  let worst = 0;
  for (const name of names) {
    const combination = name.includes('+');
    const label = combination ? `${name} (AND)` : name;
    console.log(
      `    ${label.padEnd(34)}${cell(name, '7 days', 'present')}${cell(name, 'last hour', 'present')}${cell(name, '7 days', 'absent')}`,
    );
    if (combination) continue;
    for (const [key, value] of Object.entries(latency)) {
      if (key.startsWith(`${name}|`)) worst = Math.max(worst, value.p95);
    }
  }
  console.log(`    worst p95 of a single filter (or none): ${ms(worst)} (target < 25 ms)`);
} finally {
  if (server.proc.exitCode === null) server.proc.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
}
