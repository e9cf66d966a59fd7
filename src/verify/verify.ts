import { sha256Hex } from '../domain/crypto';
import { type Bucket, BucketError, type StoredObject } from '../transfer/bucket';
import { floorHour, HOUR_MS } from '../transfer/digest';
import { type ArchiveScope, findDigestBefore, listArchive, type TraceEntry } from './archive';
import { ChainWalk, type MissingDigest } from './chain';
import { type CheckedDigest, checkDigest, type SignatureSources, type TrustedKey } from './digest-check';
import { inPeriods, merge, type Period, pool } from './periods';

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
  onProgress?: (progress: VerifyProgress) => void;
  /** Objects fetched at the same time. */
  concurrency?: number;
  /**
   * Whether to read and hash the trace files the digests list (default true). `cts archive query`
   * checks the chain without them and hashes only the files it reads.
   */
  hashTraceFiles?: boolean;
}

/** What an authentic digest says of a trace file. */
export interface CoveredFile {
  hash: string;
  bucket: string;
  digest: string;
  /** The file's oldest and newest trace `time`, when the digest records them. */
  oldest?: number;
  newest?: number;
}

/** One object that is not as it should be: each object appears in at most one finding. */
export interface Finding {
  type: 'digest' | 'signature' | 'trace file' | 'object';
  /** The object's key (or, for a digest that should exist and does not, its expected key). */
  key: string;
  reason: string;
  /** Trace files this finding leaves unproven (the files of a tampered or missing digest's hour). */
  unproven?: string[];
}

const LABELS: Record<Finding['type'], string> = {
  digest: 'Digest file',
  signature: 'Signature file',
  'trace file': 'Trace file',
  object: 'Object',
};

/** The finding as `cts verify` prints it. */
export const findingLine = (finding: Finding) =>
  `${LABELS[finding.type]} ${finding.key} INVALID: ${finding.reason}`;

/** A trace file with what the digests say of it. */
export interface FileCoverage {
  key: string;
  /** The key of the authentic digest that lists it, when one does. */
  digest?: string;
  /** Read and matched its hash. */
  valid: boolean;
}

export interface VerifyResult {
  findings: Finding[];
  digests: { valid: number; total: number };
  traceFiles: { valid: number; total: number };
  /** Trace files in the range that no chain expects (written while verification was off, or too new). */
  unchained: number;
  /** Trace files listed only by digests that are findings themselves: present, not proven. */
  unproven: number;
  ok: boolean;
  /** Every trace file an authentic digest lists, by key. */
  covered: Map<string, CoveredFile>;
  /** The trace files found in the range (upload time from their names). */
  listed: TraceEntry[];
}

/** Reads an object; an object that cannot be read is a finding, an unreachable bucket is not. */
async function read(bucket: Bucket, key: string): Promise<StoredObject | null | { error: string }> {
  try {
    return await bucket.get(key);
  } catch (error) {
    if (error instanceof BucketError && error.failure !== 'bucketPolicyError') throw error;
    return { error: error instanceof Error ? error.message : String(error) };
  }
}

async function readSidecar(bucket: Bucket, key: string | undefined): Promise<SignatureSources['sidecar']> {
  if (key === undefined) return undefined;
  const object = await read(bucket, key);
  if (object === null) return undefined;
  if ('error' in object) return { error: `unreadable (${object.error})` };
  const text = new TextDecoder().decode(object.body).trim();
  return /^(?:[0-9a-f]{2})+$/.test(text) ? { signature: text } : { error: 'not a hex signature' };
}

/**
 * Verifies one tracker's archive (reference §8.6, done thoroughly): accounts for every object
 * under the tracker's folders in the range; checks each digest's place and authenticity (by the
 * chain or a signature); walks the chain from the newest backwards to find missing digests by
 * their links and the hourly cadence; hashes every trace file an authentic digest lists; and
 * reports trace files no valid digest covers where a chain was running. Each object is reported
 * at most once. Runtime-neutral: it only needs a `Bucket`.
 */
export async function verifyArchive(options: VerifyOptions): Promise<VerifyResult> {
  const { bucket, onProgress } = options;
  const limit = options.concurrency ?? 8;
  const findings = new Map<string, Finding>();
  const report = (type: Finding['type'], key: string, reason: string, unproven?: string[]) => {
    const known = findings.get(key);
    if (known) known.reason += `; ${reason}`;
    else findings.set(key, unproven ? { type, key, reason, unproven } : { type, key, reason });
  };
  const keys = new Map(options.keys.map((key) => [key.fingerprint, key]));
  const context = { projectId: options.projectId, bucketName: options.bucketName, keys };
  const expectedNewest = floorHour(Math.min(options.to, options.now - DIGEST_GRACE_MS));

  onProgress?.({ phase: 'listing', done: 0 });
  // One more hour of digests than of trace files: the next digest covers files recorded late.
  const listing = await listArchive(bucket, options, options.to + HOUR_MS, (done) =>
    onProgress?.({ phase: 'listing', done }),
  );
  const entries = [...listing.digests];
  if (options.from !== undefined) {
    // The chain's state when the range begins, checked last (the oldest digest in range links to it).
    const before = await findDigestBefore(bucket, options, options.from);
    if (before) entries.push(before);
  }
  const beforeKey = options.from !== undefined ? entries.at(listing.digests.length)?.key : undefined;

  // Newest first: an authentic digest's links prove the older ones it names.
  const links = new Map<string, NonNullable<SignatureSources['link']>>();
  const fetched = new Map<
    string,
    Promise<[StoredObject | null | { error: string }, SignatureSources['sidecar']]>
  >();
  const fetchAhead = (from: number) => {
    for (const entry of entries.slice(from, from + limit)) {
      if (!fetched.has(entry.key))
        fetched.set(
          entry.key,
          Promise.all([read(bucket, entry.key), readSidecar(bucket, listing.signatures.get(entry.key))]),
        );
    }
  };
  const checked: CheckedDigest[] = [];
  let before: CheckedDigest | undefined;
  for (const [index, entry] of entries.entries()) {
    fetchAhead(index);
    const [object, sidecar] = await fetched.get(entry.key)!;
    fetched.delete(entry.key);
    if (object === null) continue; // deleted since it was listed
    const { digest, sidecarProblem } = await checkDigest(entry, object, {
      ...context,
      sources: { metadata: 'error' in object ? {} : object.metadata, sidecar, link: links.get(entry.key) },
    });
    const doc = digest.doc;
    if (digest.authentic && doc?.previous_digest_object && doc.project_id === options.projectId)
      links.set(doc.previous_digest_object, {
        hash: doc.previous_digest_hash_value,
        signature: doc.previous_digest_signature,
        isEnd: doc.previous_digest_end,
        newer: entry.key,
      });
    if (entry.key === beforeKey) {
      if (digest.placed && digest.authentic) before = digest;
      continue;
    }
    checked.push(digest);
    if (sidecarProblem) report('signature', listing.signatures.get(entry.key)!, sidecarProblem);
    onProgress?.({ phase: 'digests', done: index + 1, total: listing.digests.length });
  }

  const members = checked.filter((d) => d.placed && d.authentic);
  const strays = checked.filter((d) => !(d.placed && d.authentic));
  const strayKeys = new Set(strays.map((d) => d.key));
  const strayEntries = listing.digests.filter((e) => strayKeys.has(e.key));
  const walk = new ChainWalk(options, expectedNewest, {
    keys: strayKeys,
    ends: new Set(strayEntries.map((e) => e.endTime)),
  });
  for (const digest of members) walk.next(digest);
  walk.finish(before);

  // Which trace files the digests vouch for: authentic ones prove them; the others only list them.
  const covered = new Map<string, CoveredFile>();
  const listedOnly = new Map<string, string>();
  for (const digest of checked) {
    if (!digest.doc || digest.doc.project_id !== options.projectId) continue;
    for (const file of digest.doc.log_files) {
      if (digest.authentic)
        covered.set(file.object, {
          hash: file.log_hash_value,
          bucket: file.bucket,
          digest: digest.key,
          oldest: typeof file.oldest_trace_time === 'number' ? file.oldest_trace_time : undefined,
          newest: typeof file.newest_trace_time === 'number' ? file.newest_trace_time : undefined,
        });
      else if (digest.placed) listedOnly.set(file.object, digest.key);
    }
  }
  for (const key of covered.keys()) listedOnly.delete(key);

  // A digest moved away from its key is one finding, on the object where it now is.
  const movedTo = new Map<string, CheckedDigest>();
  for (const digest of strays)
    if (digest.authentic && digest.doc) movedTo.set(digest.doc.digest_object, digest);
  const missing = walk.missing.filter((gone) => {
    const moved = gone.more ? undefined : movedTo.get(gone.label);
    if (moved) moved.problems.push('nothing is left at its own key');
    return !moved;
  });

  // Trace files no authentic digest lists. Where a chain ran they are findings — unless the
  // digest of their hour is itself a finding (tampered or missing): then that finding names them,
  // so that one tampered digest is one finding, not one per file of its hour.
  const unprovenBy = new Map<string, string[]>();
  const leaveUnproven = (digestKey: string, fileKey: string) => {
    const list = unprovenBy.get(digestKey) ?? [];
    list.push(fileKey);
    unprovenBy.set(digestKey, list);
  };
  const periodOwners = [
    ...missing.map((gone) => ({ key: gone.label, start: gone.start, end: gone.end })),
    ...strayEntries.map((e) => ({ key: e.key, start: e.endTime - HOUR_MS, end: e.endTime })),
  ];
  const memberPeriods = merge(members.map((d): Period => [d.start, d.end]));
  const uncovered: string[] = [];
  let unchained = 0;
  let unproven = 0;
  for (const file of listing.traceFiles) {
    if (covered.has(file.key)) continue;
    const lister = listedOnly.get(file.key);
    const owner = lister ?? periodOwners.find((o) => file.time >= o.start && file.time < o.end)?.key;
    if (owner !== undefined) {
      unproven++;
      leaveUnproven(owner, file.key);
    } else if (inPeriods(memberPeriods, file.time)) uncovered.push(file.key);
    else unchained++;
  }
  const notProven = (key: string) => {
    const files = unprovenBy.get(key);
    return files ? `; ${files.length} trace files of its hour are not proven` : '';
  };

  for (const digest of checked) {
    if (digest.problems.length === 0) continue;
    report(
      'digest',
      digest.key,
      `${digest.problems.join('; ')}${notProven(digest.key)}`,
      unprovenBy.get(digest.key),
    );
  }
  for (const gone of missing) {
    const more = gone.more
      ? `, and ${gone.more} more hourly digests up to ${new Date(gone.end).toISOString()}`
      : '';
    report('digest', gone.label, `missing${more}${notProven(gone.label)}`, unprovenBy.get(gone.label));
  }
  const missingKeys = new Set(walk.missing.map((gone) => gone.label));
  const listedDigests = new Set(listing.digests.map((d) => d.key));
  for (const [digestKey, key] of listing.signatures) {
    // Beside a deleted digest the signature is only what is left of it: the digest is the finding.
    if (!listedDigests.has(digestKey) && !missingKeys.has(digestKey))
      report('signature', key, 'no digest beside it');
  }

  const missingCount = missing.reduce((n, gone) => n + 1 + gone.more, 0);
  const digests = {
    valid: checked.filter((d) => d.problems.length === 0).length,
    total: checked.length + missingCount,
  };

  // Trace files: every file an authentic digest lists, hashed.
  const coveredKeys = options.hashTraceFiles === false ? [] : [...covered.keys()];
  const bucketName = options.bucketName ?? members[0]?.doc?.digest_bucket;
  const problems = new Map<string, string>();
  let done = 0;
  await pool(coveredKeys, limit, async (key) => {
    const expected = covered.get(key)!;
    if (bucketName !== undefined && expected.bucket !== bucketName) {
      problems.set(key, `recorded in another bucket (${expected.bucket}) by ${expected.digest}`);
    } else {
      const object = await read(bucket, key);
      if (!object) problems.set(key, 'missing');
      else if ('error' in object) problems.set(key, `unreadable (${object.error})`);
      else if ((await sha256Hex(object.body)) !== expected.hash) problems.set(key, 'hash mismatch');
    }
    onProgress?.({ phase: 'trace files', done: ++done, total: coveredKeys.length });
  });
  for (const key of uncovered) problems.set(key, 'not covered by any valid digest');
  const traceFiles = {
    total: coveredKeys.length + uncovered.length + unproven,
    valid: coveredKeys.length - (problems.size - uncovered.length),
  };
  for (const key of [...problems.keys()].sort()) report('trace file', key, problems.get(key)!);
  for (const odd of [...listing.odd].sort((a, b) => (a.key < b.key ? -1 : 1)))
    report('object', odd.key, odd.reason);
  const all = [...findings.values()];
  return {
    findings: all,
    digests,
    traceFiles,
    unchained,
    unproven,
    ok: all.length === 0,
    covered,
    listed: listing.traceFiles,
  };
}

export type { MissingDigest };
