/**
 * `cts archive query` throughput on an archive of BENCH_ARCHIVE_TRACES (default 1,000,000) traces:
 * gzip trace files of 10,000 traces each (the transfer's default) in a filesystem bucket, four an
 * hour, with the hourly signed digests the job writes for them. Reported: traces/s of the query
 * (the CLI's command function, NDJSON to a sink that counts bytes) for the whole range — every
 * trace printed — and for a selective filter, next to the baseline measured in the same run: the
 * raw read + gunzip (node:zlib) + JSON.parse of the same files, one after the other, nothing else.
 * Also the peak resident memory during the query, to show that it stays flat.
 *
 *   npm run bench archive            BENCH_ARCHIVE_TRACES=200000 npm run bench archive
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { sha256Hex } from '../src/domain/crypto';
import { runDigests } from '../src/jobs/digests';
import { archiveQueryCommand } from '../src/runtime/archive-command';
import { transferredFiles } from '../src/store/schema';
import { HOUR_MS } from '../src/transfer/digest';
import { archivingProject, systemFileKey } from './lib/archiving-project';
import { traceStream } from './lib/trace-data';

const TOTAL = Number(process.env.BENCH_ARCHIVE_TRACES ?? 1_000_000);
const PER_FILE = 10_000;
const FILES_PER_HOUR = 4;
const BUCKET = 'bench-archive';
const REGION = 'bench-1';
const START = Date.UTC(2026, 10, 1);
const MB = 1024 * 1024;

const dir = mkdtempSync(join(tmpdir(), 'cts-bench-archive-'));
try {
  const settings = { CTS_DATA_DIR: dir, CTS_REGION: REGION, CTS_DIGESTS_MAX_PER_RUN: '100000' };
  const { deps, project, bucket } = await archivingProject(settings, BUCKET, START);

  // The traces' times walk through the files' hours: a file is uploaded a minute after its newest.
  const files = Math.ceil(TOTAL / PER_FILE);
  const step = Math.floor(HOUR_MS / FILES_PER_HOUR / PER_FILE);
  const stream = traceStream(11, START, step);
  const keys: string[] = [];
  let bytes = 0;
  let jsonBytes = 0;
  let seq = 0;
  const built = performance.now();
  for (let f = 0; f < files; f++) {
    const traces = stream.take(Math.min(PER_FILE, TOTAL - f * PER_FILE)).map((t) => ({
      trace_id: `t-${(seq++).toString(16).padStart(12, '0')}`,
      trace_name: t.trace_name,
      trace_rating: t.trace_rating,
      trace_type: t.trace_type,
      request: t.request ?? null,
      response: t.response ?? null,
      code: t.code === undefined || t.code === null ? null : String(t.code),
      api_version: t.api_version ?? null,
      message: null,
      record_time: t.time + 1000,
      time: t.time,
      user: t.user ?? null,
      service_type: t.service_type,
      resource_type: t.resource_type,
      resource_id: t.resource_id ?? null,
      resource_name: t.resource_name ?? null,
      source_ip: t.source_ip ?? null,
      request_id: t.request_id ?? null,
      location_info: null,
      endpoint: null,
      resource_url: null,
    }));
    const oldest = traces[0]!.time;
    const newest = traces.at(-1)!.time;
    const uploadedAt = Math.floor((newest + 60_000) / 1000) * 1000;
    const suffix = f.toString(16).padStart(16, '0');
    const key = systemFileKey(REGION, project.id, uploadedAt, suffix);
    const json = Buffer.from(JSON.stringify(traces));
    const body = gzipSync(json, { level: 6 });
    await bucket.put(key, body, { contentType: 'application/gzip' });
    keys.push(key);
    bytes += body.byteLength;
    jsonBytes += json.byteLength;
    await deps.db.insert(transferredFiles).values({
      projectId: project.id,
      trackerName: 'system',
      bucket: BUCKET,
      objectKey: key,
      serviceType: 'ECS',
      sha256: await sha256Hex(body),
      size: body.byteLength,
      traceCount: traces.length,
      firstSeq: f * PER_FILE,
      lastSeq: f * PER_FILE + traces.length - 1,
      oldestTime: oldest,
      newestTime: newest,
      uploadedAt,
    });
  }
  const end = Math.ceil((START + files * (HOUR_MS / FILES_PER_HOUR) + 2 * HOUR_MS) / HOUR_MS) * HOUR_MS;
  const digests = await runDigests(deps, { now: end + 60_000 });
  deps.db.$client.close();
  console.log(
    `archive: ${TOTAL} traces in ${files} files (${(jsonBytes / MB).toFixed(0)} MB of JSON, ${(bytes / MB).toFixed(0)} MB gzip), ` +
      `${digests.written} digests; built in ${((performance.now() - built) / 1000).toFixed(1)} s`,
  );

  const now = new Date(end + 30 * 60_000).toISOString();
  async function query(flags: Record<string, string>) {
    let out = 0;
    const errors: string[] = [];
    let peak = process.memoryUsage().rss;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 50);
    const started = performance.now();
    const code = await archiveQueryCommand(
      {
        project: project.id,
        bucket: BUCKET,
        from: new Date(START - HOUR_MS).toISOString(),
        to: now,
        now,
        ...flags,
      },
      {
        out: () => undefined,
        err: (line) => errors.push(line),
        records: {
          write: (text) => {
            out += text.length;
          },
        },
      },
      settings,
    );
    const seconds = (performance.now() - started) / 1000;
    clearInterval(sampler);
    const summary = errors.at(-1) ?? '';
    if (code !== 0 || !summary.endsWith('proven complete'))
      throw new Error(`query failed: ${errors.join('\n')}`);
    return { seconds, out, summary, peak };
  }

  // Baseline first and last, so that neither side has the page cache to itself.
  const baseline = async () => {
    const started = performance.now();
    let count = 0;
    for (const key of keys) {
      const parsed = JSON.parse(
        gunzipSync(await readFile(join(dir, 'buckets', BUCKET, key))).toString('utf8'),
      );
      count += parsed.length;
    }
    if (count !== TOTAL) throw new Error(`baseline read ${count} traces`);
    return (performance.now() - started) / 1000;
  };
  const base1 = await baseline();
  const all = await query({});
  const selective = await query({ 'service-type': 'KMS' });
  const base2 = await baseline();
  const base = Math.min(base1, base2);
  const rate = (seconds: number) => (TOTAL / seconds).toFixed(0);

  console.log(
    `baseline (read + gunzip + JSON.parse, file by file): ${base.toFixed(2)} s = ${rate(base)} traces/s`,
  );
  console.log(
    `archive query, every trace printed (NDJSON, ${(all.out / MB).toFixed(0)} MB): ${all.seconds.toFixed(2)} s = ` +
      `${rate(all.seconds)} traces/s, ${((base / all.seconds) * 100).toFixed(0)} % of the baseline; ` +
      `peak RSS ${(all.peak / MB).toFixed(0)} MB`,
  );
  console.log(
    `archive query --service-type KMS: ${selective.seconds.toFixed(2)} s = ${rate(selective.seconds)} traces/s scanned, ` +
      `${((base / selective.seconds) * 100).toFixed(0)} % of the baseline; peak RSS ${(selective.peak / MB).toFixed(0)} MB`,
  );
  console.log(`  ${all.summary}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
