/**
 * `cts verify` throughput on a week of archive: BENCH_VERIFY_HOURS (default 168) hours of
 * BENCH_VERIFY_FILES_PER_HOUR (default 12) gzip trace files of 500 traces (about 70 KB) each in a filesystem
 * bucket, with the hourly digests the job writes for them. Reported: digest files/s, trace
 * files/s and MB/s hashed by `verifyArchive`, next to the baseline of reading and hashing the same
 * files (SHA-256, Web Crypto) with nothing else, measured in the same run.
 *
 *   npm run bench verify            BENCH_VERIFY_HOURS=24 npm run bench verify
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sha256Hex } from '../src/domain/crypto';
import { runDigests } from '../src/jobs/digests';
import { transferredFiles } from '../src/store/schema';
import { listSigningKeys } from '../src/store/signing-key-queries';
import { gzipBytes, HOUR_MS } from '../src/transfer/digest';
import { importVerifiers } from '../src/transfer/digest-signing';
import { verifyArchive } from '../src/verify/verify';
import { archivingProject, systemFileKey } from './lib/archiving-project';
import { traceStream } from './lib/trace-data';

const HOURS = Number(process.env.BENCH_VERIFY_HOURS ?? 168);
const PER_HOUR = Number(process.env.BENCH_VERIFY_FILES_PER_HOUR ?? 12);
const TRACES_PER_FILE = 500;
const BUCKET = 'bench-verify';
const START = Date.UTC(2026, 10, 1);
const MB = 1024 * 1024;

const dir = mkdtempSync(join(tmpdir(), 'cts-bench-verify-'));
try {
  const settings = { CTS_DATA_DIR: dir, CTS_REGION: 'bench-1', CTS_DIGESTS_MAX_PER_RUN: '100000' };
  const { deps, project, bucket } = await archivingProject(settings, BUCKET, START);

  const stream = traceStream(7, START, 500);
  let bytes = 0;
  const keys: string[] = [];
  for (let hour = 0; hour < HOURS; hour++) {
    const rows = [];
    for (let i = 0; i < PER_HOUR; i++) {
      const uploadedAt = START + hour * HOUR_MS + (i + 1) * Math.floor(HOUR_MS / (PER_HOUR + 1));
      const suffix = (hour * PER_HOUR + i).toString(16).padStart(16, '0');
      const key = systemFileKey('bench-1', project.id, uploadedAt, suffix);
      const body = await gzipBytes(new TextEncoder().encode(JSON.stringify(stream.take(TRACES_PER_FILE))));
      await bucket.put(key, body, { contentType: 'application/gzip' });
      bytes += body.byteLength;
      keys.push(key);
      rows.push({
        projectId: project.id,
        trackerName: 'system',
        bucket: BUCKET,
        objectKey: key,
        serviceType: 'ECS',
        sha256: await sha256Hex(body),
        size: body.byteLength,
        traceCount: TRACES_PER_FILE,
        firstSeq: hour * PER_HOUR + i,
        lastSeq: hour * PER_HOUR + i,
        oldestTime: uploadedAt,
        newestTime: uploadedAt,
        uploadedAt,
      });
    }
    await deps.db.insert(transferredFiles).values(rows);
  }
  const end = START + HOURS * HOUR_MS;
  const digestStarted = performance.now();
  const written = await runDigests(deps, { now: end + 60_000 });
  const digestSeconds = (performance.now() - digestStarted) / 1000;
  console.log(
    `archive: ${keys.length} trace files (${(bytes / MB).toFixed(1)} MB), ${written.written} digests ` +
      `written by runDigests in ${digestSeconds.toFixed(2)} s (${(written.written / digestSeconds).toFixed(0)} digests/s)`,
  );

  const published = await listSigningKeys(deps.control);
  const trusted = (await Promise.all(published.map((k) => importVerifiers(k.publicKeyPem)))).flat();
  const started = performance.now();
  const result = await verifyArchive({
    bucket,
    bucketName: BUCKET,
    region: 'bench-1',
    projectId: project.id,
    trackerName: 'system',
    to: end,
    now: end + HOUR_MS,
    keys: trusted.map((k) => ({ ...k, validTo: null })),
  });
  const seconds = (performance.now() - started) / 1000;
  if (!result.ok) throw new Error(`unexpected findings: ${result.findings.slice(0, 5).join('\n')}`);

  const baseStarted = performance.now();
  for (const key of keys) await sha256Hex(new Uint8Array(await readFile(join(dir, 'buckets', BUCKET, key))));
  const baseSeconds = (performance.now() - baseStarted) / 1000;

  console.log(
    `verify: ${result.digests.total} digests + ${result.traceFiles.total} trace files in ${seconds.toFixed(2)} s = ` +
      `${(result.traceFiles.total / seconds).toFixed(0)} trace files/s, ${(bytes / MB / seconds).toFixed(1)} MB/s`,
  );
  console.log(
    `baseline (read + SHA-256 of the same files, one by one): ${baseSeconds.toFixed(2)} s = ` +
      `${(bytes / MB / baseSeconds).toFixed(1)} MB/s; verify reaches ${((baseSeconds / seconds) * 100).toFixed(0)} % of it`,
  );
  deps.db.$client.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
