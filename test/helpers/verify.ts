import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { runScheduledJobs } from '../../src/jobs';
import { createFsBucketStore } from '../../src/runtime/fs-bucket';
import { verifyCommand } from '../../src/runtime/verify-command';
import type { Bucket, BucketStore } from '../../src/transfer/bucket';
import { HOUR_MS } from '../../src/transfer/digest';
import { makeTestEnv, type TestEnv } from './app';
import { configureTracker, report } from './transfer';

export const REGION = 'eu-test-1';
/** The manual clock's start: 2026-11-24 12:00 UTC. */
export const T0 = Date.UTC(2026, 10, 24, 12, 0, 0);
export const at = (hours: number, minutes = 0) => T0 + hours * HOUR_MS + minutes * 60_000;
export const iso = (ms: number) => new Date(ms).toISOString();

export interface Archive {
  env: TestEnv;
  bucket: string;
  /** Settings for `verifyCommand` (data dir, database, S3 when used). */
  settings: Record<string, string>;
  /** The JSON of `GET /v3/{project_id}/digest-public-keys`, saved to a file. */
  keysFile: string;
}

/** Runs every scheduled job as of `now` (transfer, digests, retention, ...), like the Node scheduler. */
export async function runJobs(env: TestEnv, now: number) {
  env.clock.set(now);
  const result = await runScheduledJobs(env.deps, { now });
  expect(result.ok, JSON.stringify(result)).toBe(true);
  return result;
}

/** Reports traces of two services now (ECS and EVS): the next transfer writes two files. */
export async function reportSome(env: TestEnv, now: number) {
  env.clock.set(now);
  await report(env, 2, (i) =>
    i === 0 ? { service_type: 'ECS' } : { service_type: 'EVS', resource_type: 'evs' },
  );
}

/** A file-backed test environment (the CLI in another process can read its database). */
export async function archiveEnv(
  options: { buckets?: BucketStore; s3Settings?: Record<string, string> } = {},
) {
  const dir = mkdtempSync(join(tmpdir(), 'cts-verify-'));
  const dbUrl = `file:${join(dir, 'cts.db')}`;
  const env = await makeTestEnv({
    dbUrl,
    config: { CTS_REGION: REGION, CTS_DATA_DIR: dir, ...options.s3Settings },
    deps: { buckets: options.buckets ?? createFsBucketStore(join(dir, 'buckets')) },
  });
  const settings = {
    CTS_DATA_DIR: dir,
    CTS_DATABASE_URL: dbUrl,
    CTS_REGION: REGION,
    ...options.s3Settings,
  };
  return { env, settings, dir };
}

/**
 * A real archive made by the jobs: verification turned on at 12:00 (the chain starts at the
 * 12:05 run), traces reported at :10 and :40 of every hour from 12 to 17 and transferred at once,
 * digests written at each hour's first run — 13:00 to 18:00.
 */
export async function buildArchive(options: {
  buckets?: BucketStore;
  s3Settings?: Record<string, string>;
  bucket: string;
}): Promise<Archive> {
  const { env, settings, dir } = await archiveEnv(options);
  env.clock.set(T0);
  await configureTracker(env, {
    obs_info: { bucket_name: options.bucket, is_obs_created: true, file_prefix_name: 'acme' },
    is_support_validate: true,
  });
  await runJobs(env, at(0, 5));
  for (let hour = 0; hour < 6; hour++) {
    await reportSome(env, at(hour, 10));
    await runJobs(env, at(hour, 10));
    await reportSome(env, at(hour, 40));
    await runJobs(env, at(hour, 40));
  }
  await runJobs(env, at(6, 10));
  const keysFile = await saveKeys(env, dir);
  return { env, bucket: options.bucket, settings, keysFile };
}

/** Saves the public keys as the API serves them. */
export async function saveKeys(env: TestEnv, dir: string): Promise<string> {
  const res = await env.call('GET', `/v3/${env.projectId}/digest-public-keys`, { key: env.keys.reader });
  expect(res.status).toBe(200);
  const file = join(dir, `keys-${Date.now()}-${Math.random()}.json`);
  writeFileSync(file, await res.text());
  return file;
}

/** Every object of a bucket, with its metadata, to put back later. */
export type Snapshot = Map<
  string,
  { body: Uint8Array; contentType?: string; metadata: Record<string, string> }
>;

export async function snapshotBucket(bucket: Bucket): Promise<Snapshot> {
  const snapshot: Snapshot = new Map();
  for await (const { key } of bucket.list('')) {
    const object = (await bucket.get(key))!;
    snapshot.set(key, { body: object.body, contentType: object.contentType, metadata: object.metadata });
  }
  return snapshot;
}

/** Puts a bucket back exactly as snapshotted (so every tampering starts from the real archive). */
export async function restoreBucket(bucket: Bucket, snapshot: Snapshot): Promise<void> {
  for await (const { key } of bucket.list('')) if (!snapshot.has(key)) await bucket.delete(key);
  for (const [key, object] of snapshot) {
    // Only what changed: rewriting every object each time makes the tests slow (and, on s3rver
    // under load, a GET right after a PUT of the same key once read it empty).
    const current = await bucket.get(key).catch(() => null);
    if (
      current &&
      Buffer.from(current.body).equals(Buffer.from(object.body)) &&
      JSON.stringify(current.metadata) === JSON.stringify(object.metadata)
    )
      continue;
    await bucket.put(key, object.body, {
      contentType: object.contentType ?? 'application/octet-stream',
      metadata: object.metadata,
    });
  }
}

/** What `cts verify --json` prints. */
export interface VerifyJson {
  ok: boolean;
  findings: Array<{ type: string; key: string; reason: string; unproven?: string[] }>;
  digest_files: { valid: number; total: number };
  trace_files: { valid: number; total: number; unchained: number; unproven: number };
}

export interface Verification {
  code: number;
  /** The same verification with `--json`, parsed. */
  json?: VerifyJson;
  lines: string[];
  findings: string[];
  summary: string;
  errors: string[];
}

/** `cts verify` in-process (the CLI's own command function), collecting its output. */
export async function verify(
  archive: Pick<Archive, 'env' | 'settings' | 'keysFile'>,
  flags: Record<string, string | boolean>,
): Promise<Verification> {
  const lines: string[] = [];
  const errors: string[] = [];
  const code = await verifyCommand(
    { project: archive.env.projectId, 'public-key': archive.keysFile, ...flags },
    { out: (line) => lines.push(line), err: (line) => errors.push(line) },
    archive.settings,
  );
  const jsonLines: string[] = [];
  const jsonCode = await verifyCommand(
    { project: archive.env.projectId, 'public-key': archive.keysFile, ...flags, json: true },
    { out: (line) => jsonLines.push(line), err: () => undefined },
    archive.settings,
  );
  expect(jsonCode).toBe(code);
  return {
    code,
    json: jsonLines.length === 1 ? (JSON.parse(jsonLines[0]!) as VerifyJson) : undefined,
    lines,
    findings: lines.filter((line) => line.includes(' INVALID: ')),
    summary: lines.at(-1) ?? '',
    errors,
  };
}

/** The key of the digest whose window ends at `end`. */
export function digestKeyAt(archive: Archive, end: number): string {
  const d = new Date(end);
  const time = d.toISOString().slice(0, 19).replaceAll(':', '-');
  return (
    `CloudTraces/${REGION}/${d.getUTCFullYear()}/${d.getUTCMonth() + 1}/${d.getUTCDate()}/system/Digest/` +
    `acme_CloudTrace-Digest_${REGION}-${archive.env.projectId}_${time}Z.json.gz`
  );
}
