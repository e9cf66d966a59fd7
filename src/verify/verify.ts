import { sha256Hex } from '../domain/crypto';
import type { Bucket, StoredObject } from '../transfer/bucket';
import { floorHour, HOUR_MS } from '../transfer/digest';
import { type ArchiveScope, findDigestBefore, listArchive } from './archive';
import { ChainWalk, type MissingDigest } from './chain';
import { type CheckedDigest, checkDigest, type TrustedKey } from './digest-check';

export type { TrustedKey } from './digest-check';

/** How long after an hour ends its digest may still be on its way (job interval, catch-up). */
export const DIGEST_GRACE_MS = 15 * 60_000;

export interface VerifyProgress {
  phase: 'listing' | 'digests' | 'trace files';
  done: number;
  total?: number;
}

export interface VerifyOptions extends ArchiveScope {
  bucket: Bucket;
  /** The bucket's name, checked against `digest_bucket`; unknown for a downloaded copy. */
  bucketName?: string;
  now: number;
  keys: TrustedKey[];
  onFinding?: (line: string) => void;
  onProgress?: (progress: VerifyProgress) => void;
  /** Objects fetched at the same time. */
  concurrency?: number;
}

export interface VerifyResult {
  findings: string[];
  digests: { valid: number; total: number };
  traceFiles: { valid: number; total: number };
  /** Trace files in the range that no chain expects (written while verification was off, or too new). */
  unchained: number;
  ok: boolean;
}

/** Runs `work` over `items` with at most `limit` at a time, in order of start. */
async function pool<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await work(items[next++]!);
  });
  await Promise.all(workers);
}

/** Whether `time` lies in one of the sorted, half-open `[start, end)` periods. */
function inPeriods(periods: Array<[number, number]>, time: number): boolean {
  let low = 0;
  let high = periods.length - 1;
  while (low <= high) {
    const mid = (low + high) >> 1;
    const [start, end] = periods[mid]!;
    if (time < start) high = mid - 1;
    else if (time >= end) low = mid + 1;
    else return true;
  }
  return false;
}

/** Merges overlapping periods so that the binary search sees disjoint ones. */
function merge(periods: Array<[number, number]>): Array<[number, number]> {
  const sorted = periods.filter(([s, e]) => e > s).sort((a, b) => a[0] - b[0]);
  const out: Array<[number, number]> = [];
  for (const [start, end] of sorted) {
    const last = out.at(-1);
    if (last && start <= last[1]) last[1] = Math.max(last[1], end);
    else out.push([start, end]);
  }
  return out;
}

/**
 * Verifies one tracker's archive (reference §8.6, done thoroughly): walks the digests from the
 * newest backwards checking location, signature and links; finds missing digests by their links
 * and the hourly cadence; checks every covered trace file's SHA-256; and reports trace files in
 * the range that no valid digest covers. Runtime-neutral: it only needs a `Bucket`.
 */
export async function verifyArchive(options: VerifyOptions): Promise<VerifyResult> {
  const { bucket, onProgress } = options;
  const limit = options.concurrency ?? 8;
  const findings: string[] = [];
  const report = (line: string) => {
    findings.push(line);
    options.onFinding?.(line);
  };
  const keys = new Map(options.keys.map((key) => [key.fingerprint, key]));
  const context = { projectId: options.projectId, bucketName: options.bucketName, keys };
  const expectedNewest = floorHour(Math.min(options.to, options.now - DIGEST_GRACE_MS));

  onProgress?.({ phase: 'listing', done: 0 });
  // One more hour of digests than of trace files: the next digest covers files recorded late.
  const listing = await listArchive(bucket, options, options.to + HOUR_MS, (done) =>
    onProgress?.({ phase: 'listing', done }),
  );

  let before: CheckedDigest | undefined;
  if (options.from !== undefined) {
    const entry = await findDigestBefore(bucket, options, options.from);
    const checked = entry && (await checkDigest(entry, await bucket.get(entry.key), context));
    if (checked?.placed && checked.authentic) before = checked;
  }

  // Fetch ahead while the walk checks one digest after the other (the walk is sequential).
  const fetched = new Map<string, Promise<StoredObject | null>>();
  const fetchAhead = (from: number) => {
    for (const entry of listing.digests.slice(from, from + limit)) {
      if (!fetched.has(entry.key)) fetched.set(entry.key, bucket.get(entry.key));
    }
  };

  const walk = new ChainWalk(options, expectedNewest);
  const checkedDigests: CheckedDigest[] = [];
  const periods: Array<[number, number]> = [];
  const covered = new Map<string, { hash: string; bucket: string; digest: string }>();
  let pending: CheckedDigest | undefined;
  const settle = (digest: CheckedDigest | undefined) => {
    if (digest?.problems.length) report(`Digest file ${digest.key} INVALID: ${digest.problems.join('; ')}`);
  };
  const reportMissing = (from: number) => {
    for (const gone of walk.missing.slice(from)) {
      const more = gone.more
        ? `, and ${gone.more} more hourly digests up to ${new Date(gone.end).toISOString()}`
        : '';
      report(`Digest file ${gone.label} INVALID: missing${more}`);
    }
  };

  for (const [index, entry] of listing.digests.entries()) {
    fetchAhead(index);
    const object = await fetched.get(entry.key)!;
    fetched.delete(entry.key);
    const digest = await checkDigest(entry, object, {
      ...context,
      linkSignature: walk.linkSignatureFor(entry.key),
    });
    checkedDigests.push(digest);
    onProgress?.({ phase: 'digests', done: index + 1, total: listing.digests.length });
    if (!digest.placed) {
      // An unreadable digest in its place still stood for its hour: its files are not covered.
      if (!digest.doc && object) periods.push([digest.start, digest.end]);
      settle(digest);
      continue;
    }
    const missingSoFar = walk.missing.length;
    walk.next(digest);
    settle(pending);
    reportMissing(missingSoFar);
    pending = digest;
    periods.push([digest.start, digest.end]);
    if (digest.authentic) {
      for (const file of digest.doc!.log_files)
        covered.set(file.object, { hash: file.log_hash_value, bucket: file.bucket, digest: digest.key });
    }
  }
  const missingSoFar = walk.missing.length;
  walk.finish(before);
  settle(pending);
  reportMissing(missingSoFar);
  for (const gone of walk.missing) periods.push([gone.start, gone.end]);

  const missingCount = walk.missing.reduce((n, gone) => n + 1 + gone.more, 0);
  const digests = {
    valid: checkedDigests.filter((d) => d.problems.length === 0).length,
    total: checkedDigests.length + missingCount,
  };

  // Trace files: every file an authentic digest covers, hashed; then the uncovered ones listed.
  const traceFiles = { valid: 0, total: 0 };
  const coveredKeys = [...covered.keys()];
  const bucketName = options.bucketName ?? checkedDigests.find((d) => d.authentic)?.doc?.digest_bucket;
  const problems = new Map<string, string>();
  let done = 0;
  await pool(coveredKeys, limit, async (key) => {
    const expected = covered.get(key)!;
    if (bucketName !== undefined && expected.bucket !== bucketName) {
      problems.set(key, `recorded in another bucket (${expected.bucket}) by ${expected.digest}`);
    } else {
      const object = await bucket.get(key);
      if (!object) problems.set(key, 'missing');
      else if ((await sha256Hex(object.body)) !== expected.hash) problems.set(key, 'hash mismatch');
    }
    onProgress?.({ phase: 'trace files', done: ++done, total: coveredKeys.length });
  });
  traceFiles.total = coveredKeys.length;
  traceFiles.valid = coveredKeys.length - problems.size;
  for (const key of [...problems.keys()].sort()) report(`Trace file ${key} INVALID: ${problems.get(key)}`);
  const expectedPeriods = merge(periods);
  let unchained = 0;
  for (const file of listing.traceFiles) {
    if (covered.has(file.key)) continue;
    if (inPeriods(expectedPeriods, file.time)) {
      traceFiles.total++;
      report(`Trace file ${file.key} INVALID: not covered by any valid digest`);
    } else unchained++;
  }
  return { findings, digests, traceFiles, unchained, ok: findings.length === 0 };
}

export type { MissingDigest };
