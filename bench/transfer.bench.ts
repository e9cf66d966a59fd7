/**
 * Transfer throughput for a large backlog: BENCH_TRACES (default 1,000,000) realistic traces wait
 * in an embedded database; `runTransfer` runs with the default settings (50,000 traces per run,
 * 10,000 per file, gzip, sorted by service) until the backlog is gone. Reported: traces/s and MB/s
 * (written files, and the JSON inside them), next to the raw gzip throughput (`CompressionStream`,
 * what the job uses) of exactly the same JSON; and the resident memory of the transfer.
 *
 * Two processes. This one writes the backlog, then forks the transfer: plain Node running this file
 * bundled like the server of `npm start` (`scripts/build-node.ts`), so its memory is its own and
 * holds no TypeScript loader. After each run the child sends the keys of the files it wrote and
 * waits while this process measures the ceiling on them — right after the run, so that machine
 * noise hits both alike, and in another process, so that the ceiling's buffers do not count in
 * the transfer's memory.
 *
 *   npm run bench transfer             BENCH_TRACES=200000 npm run bench transfer
 *   BENCH_BUCKET=s3 npm run bench transfer      (s3rver on 127.0.0.1 instead of the filesystem)
 */
import { fork } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { eq, getTableColumns, gt } from 'drizzle-orm';
import { parseConfig } from '../src/config';
import { createProject } from '../src/domain/projects/projects';
import { toTraceRow } from '../src/domain/traces/record';
import { runTransfer } from '../src/jobs';
import { createFsBucketStore } from '../src/runtime/fs-bucket';
import { buildNodeDeps } from '../src/runtime/node';
import { trackers, transferredFiles } from '../src/store/schema';
import { traces } from '../src/store/schema/traces';
import type { BucketStore } from '../src/transfer/bucket';
import { createS3BucketStore } from '../src/transfer/s3-bucket';
import { silentLogger } from '../test/helpers/app';
import { startS3rver } from '../test/helpers/s3rver';
import { traceStream } from './lib/trace-data';

const TRACES = Math.ceil(Number(process.env.BENCH_TRACES ?? 1_000_000) / 1000) * 1000;
const BUCKET = 'bench-archive';
const MB = 1024 * 1024;

/** Restarts the process's peak resident memory (VmHWM) from the current RSS (Linux). */
function resetVmHwm(): void {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
  } catch {
    // Not Linux, or not allowed: the peak then covers the whole process.
  }
}

/** The process's peak resident memory since the last reset (VmHWM), bytes. */
function vmHwm(): number {
  const match = readFileSync('/proc/self/status', 'utf8').match(/VmHWM:\s+(\d+)/);
  return match ? Number(match[1]) * 1024 : 0;
}

const COLUMNS = Object.entries(getTableColumns(traces))
  .filter(([key]) => key !== 'seq' && key !== 'indexed')
  .map(([key, column]) => [key, column.name] as const);

/** The backlog: multi-row INSERTs of 1,000 rows straight through the driver (not what is measured). */
async function fill(dir: string): Promise<void> {
  const deps = await buildNodeDeps(parseConfig({ CTS_DATA_DIR: dir }), { logger: silentLogger });
  const project = await createProject(deps);
  await deps.db.update(trackers).set({ bucketName: BUCKET }).where(eq(trackers.projectId, project.id));
  const row = `(${COLUMNS.map(() => '?').join(',')})`;
  const insert = `INSERT INTO traces (${COLUMNS.map(([, name]) => name).join(',')}) VALUES ${Array(1000).fill(row).join(',')}`;
  const stream = traceStream(42, Date.UTC(2026, 10, 24), 500);
  const started = performance.now();
  for (let done = 0; done < TRACES; done += 1000) {
    const args: Array<string | number | null> = [];
    for (const [i, trace] of stream.take(1000).entries()) {
      const values = {
        ...toTraceRow(project.id, trace, trace.time + 1000),
        traceId: `b-${done + i}`,
      } as Record<string, unknown>;
      for (const [key] of COLUMNS) args.push((values[key] as string | number | null | undefined) ?? null);
    }
    await deps.db.$client.execute({ sql: insert, args });
  }
  const seconds = (performance.now() - started) / 1000;
  console.log(`backlog: ${TRACES.toLocaleString('en')} traces written in ${seconds.toFixed(1)} s`);
  deps.db.$client.close();
}

/** What the transfer child sends after each run, and at the end. */
type ChildMessage =
  | { kind: 'run'; files: Array<{ bucket: string; key: string }> }
  | { kind: 'done'; traces: number; seconds: number; written: number; cores: number; memory: string };

type S3Settings = Parameters<typeof createS3BucketStore>[0];

/** The child: runs the transfer until the backlog is gone, pausing after each run for the ceiling. */
async function transfer(dir: string): Promise<void> {
  const s3 = process.env.BENCH_S3 ? (JSON.parse(process.env.BENCH_S3) as S3Settings) : undefined;
  // The same settings as a server started with this environment (e.g. CTS_DATABASE_CACHE_MB).
  const config = parseConfig({ ...process.env, CTS_DATA_DIR: dir });
  const deps = await buildNodeDeps(config, {
    logger: silentLogger,
    ...(s3 ? { buckets: createS3BucketStore(s3) } : {}),
  });
  const send = (message: ChildMessage) =>
    new Promise<void>((resolve) => process.send!(message, () => resolve()));
  const proceed = () => new Promise<void>((resolve) => process.once('message', () => resolve()));

  const baselineRss = process.memoryUsage.rss();
  let peakRss = baselineRss;
  let peakHeap = 0;
  let sampling = false;
  const sampler = setInterval(() => {
    if (!sampling) return;
    const usage = process.memoryUsage();
    peakRss = Math.max(peakRss, usage.rss);
    peakHeap = Math.max(peakHeap, usage.heapUsed + usage.arrayBuffers);
  }, 50);
  const rssAfterRun: number[] = [];
  let now = Date.UTC(2026, 10, 25);
  let transferred = 0;
  let written = 0;
  let transferMs = 0;
  let cpuMicros = 0;
  let lastFileId = 0;
  for (;;) {
    resetVmHwm();
    sampling = true;
    const started = performance.now();
    const cpu = process.cpuUsage();
    const summary = await runTransfer(deps, { now });
    const used = process.cpuUsage(cpu);
    cpuMicros += used.user + used.system;
    transferMs += performance.now() - started;
    sampling = false;
    transferred += summary.traces;
    written += summary.bytes;
    rssAfterRun.push(process.memoryUsage.rss());
    peakRss = Math.max(peakRss, vmHwm());
    const files = await deps.db.select().from(transferredFiles).where(gt(transferredFiles.id, lastFileId));
    lastFileId = Math.max(lastFileId, ...files.map((file) => file.id));
    const next = proceed();
    await send({ kind: 'run', files: files.map((file) => ({ bucket: file.bucket, key: file.objectKey })) });
    await next;
    if (summary.backlog === 0) break;
    now += 60_000;
  }
  clearInterval(sampler);
  const seconds = transferMs / 1000;
  const runs = rssAfterRun.length;
  const rss = (i: number) => `${(rssAfterRun[i]! / MB).toFixed(0)}`;
  await send({
    kind: 'done',
    traces: transferred,
    seconds,
    written,
    cores: cpuMicros / 1000 / transferMs,
    memory:
      `RSS of the transfer process: ${(baselineRss / MB).toFixed(0)} MB before, peak ${(peakRss / MB).toFixed(0)} MB ` +
      `during the runs (target < 256 MB, flat); after run 1: ${rss(0)}, ${Math.ceil(runs / 2)}: ` +
      `${rss(Math.ceil(runs / 2) - 1)}, ${runs}: ${rss(runs - 1)} MB; JS heap + buffers peak ` +
      `${(peakHeap / MB).toFixed(0)} MB; database page cache up to ${config.CTS_DATABASE_CACHE_MB} MB (CTS_DATABASE_CACHE_MB)`,
  });
  deps.db.$client.close();
  process.disconnect?.();
}

/** Gzip of each file's JSON alone (`CompressionStream`, file by file like the job): bytes and ms. */
async function ceiling(buckets: BucketStore, files: Array<{ bucket: string; key: string }>) {
  let jsonBytes = 0;
  let gzipMs = 0;
  for (const file of files) {
    const object = (await buckets.bucket(file.bucket).get(file.key))!;
    const json = gunzipSync(object.body);
    jsonBytes += json.byteLength;
    const t0 = performance.now();
    await new Response(new Blob([json]).stream().pipeThrough(new CompressionStream('gzip'))).arrayBuffer();
    gzipMs += performance.now() - t0;
  }
  return { jsonBytes, gzipMs };
}

/** This process: the backlog, the child, the ceiling between the child's runs, the figures. */
async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'cts-bench-transfer-'));
  const s3 = process.env.BENCH_BUCKET === 's3' ? await startS3rver({ buckets: [BUCKET] }) : undefined;
  try {
    await fill(dir);
    const settings: S3Settings | undefined = s3 && {
      endpoint: s3.endpoint,
      region: s3.region,
      accessKeyId: s3.accessKeyId,
      secretAccessKey: s3.secretAccessKey,
      forcePathStyle: true,
    };
    const buckets = settings ? createS3BucketStore(settings) : createFsBucketStore(join(dir, 'buckets'));
    if (!s3) await buckets.create(BUCKET);
    // Imported here, not at the top: the child is this file bundled, and must not run the build.
    const { bundleForNode } = await import('../scripts/build-node');
    const bundle = await bundleForNode('bench/transfer.bench.ts', 'dist/bench/transfer.mjs');
    const child = fork(bundle, ['transfer', dir], {
      execArgv: [],
      env: { ...process.env, ...(settings ? { BENCH_S3: JSON.stringify(settings) } : {}) },
    });
    let jsonBytes = 0;
    let gzipMs = 0;
    let files = 0;
    let runs = 0;
    let done: Extract<ChildMessage, { kind: 'done' }> | undefined;
    child.on('message', (message: ChildMessage) => {
      if (message.kind === 'done') {
        done = message;
        return;
      }
      void ceiling(buckets, message.files).then((measured) => {
        jsonBytes += measured.jsonBytes;
        gzipMs += measured.gzipMs;
        files += message.files.length;
        runs++;
        child.send('next');
      });
    });
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    if (code !== 0 || !done) throw new Error(`The transfer child exited with ${code}`);
    const { traces: transferred, seconds, written, cores, memory } = done;
    const gzipMbps = jsonBytes / MB / (gzipMs / 1000);
    const jsonMbps = jsonBytes / MB / seconds;
    console.log(`bucket: ${s3 ? 's3rver' : 'filesystem'}; ${files} files in ${runs} runs`);
    console.log(
      `transfer: ${transferred.toLocaleString('en')} traces in ${seconds.toFixed(1)} s = ` +
        `${Math.round(transferred / seconds).toLocaleString('en')} traces/s; ` +
        `${(written / MB / seconds).toFixed(1)} MB/s of files written (${(written / MB).toFixed(0)} MB), ` +
        `${jsonMbps.toFixed(1)} MB/s of JSON (${(jsonBytes / MB).toFixed(0)} MB)`,
    );
    console.log(
      `raw gzip (CompressionStream) of the same JSON: ${gzipMbps.toFixed(1)} MB/s -> transfer is ` +
        `${((100 * jsonMbps) / gzipMbps).toFixed(0)} % of it (target >= 70 %); the transfer kept ` +
        `${cores.toFixed(2)} cores busy (reading on the main thread, gzip on the thread pool)`,
    );
    console.log(memory);
  } finally {
    await s3?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === 'transfer') await transfer(process.argv[3]!);
else await main();
