import { sha256Hex } from '../domain/crypto';
import type { Trace } from '../domain/traces/schema';
import { type Bucket, BucketError } from '../transfer/bucket';
import { gunzipBytes } from '../transfer/digest';
import { type CoveredFile, type TrustedKey, verifyArchive } from '../verify/verify';
import { matchesTrace, type TraceFilters } from './filter';

export interface ArchiveQueryProgress {
  phase: 'checking the chain' | 'reading';
  files: number;
  totalFiles?: number;
  traces: number;
  matched: number;
}

export interface ArchiveQueryOptions {
  bucket: Bucket;
  /** The bucket's name, checked against the digests; unknown for a downloaded copy. */
  bucketName?: string;
  region: string;
  projectId: string;
  trackerName: string;
  /** The range on trace `time`, inclusive, epoch ms (`to` already clamped to now). */
  from: number;
  to: number;
  now: number;
  keys: TrustedKey[];
  filters: TraceFilters;
  /**
   * Receives the matching traces of one file at a time (the next file waits for it), each with
   * its JSON text as stored when the file allowed cutting it out unchanged.
   */
  onTraces: (traces: ArchivedTrace[]) => Promise<void> | void;
  /** Decompression (default: the web `DecompressionStream`); the Node CLI passes zlib's. */
  gunzip?: (bytes: Uint8Array) => Promise<Uint8Array>;
  onProgress?: (progress: ArchiveQueryProgress) => void;
  /** Files fetched (and decompressed) ahead while the current one is filtered. */
  readAhead?: number;
}

/** A trace found in the archive, with its JSON text as stored when it could be cut out. */
export interface ArchivedTrace {
  trace: Trace;
  json?: string;
}

export interface ArchiveQueryResult {
  matched: number;
  /** Traces read from the files (matching or not). */
  scanned: number;
  filesRead: number;
  /** Files the digests show cannot hold a trace of the range. */
  filesSkipped: number;
  /** Every file that can hold a trace of the range is listed by a valid digest and matched its hash, and the chain is intact up to the last full hour. */
  proven: boolean;
  /** Why it is not proven (empty when it is). */
  reasons: string[];
}

const overlaps = (file: CoveredFile | undefined, from: number, to: number) =>
  file?.oldest === undefined || file.newest === undefined || (file.oldest <= to && file.newest >= from);

/**
 * The shape a record must have to be filtered and printed. Files are outside input, but a full
 * schema check of every trace would cost as much as parsing it: the fields the query and the
 * formats rely on are checked; a record without them is counted and leaves the answer unproven.
 */
const isTrace = (value: unknown): value is Trace => {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const t = value as Record<string, unknown>;
  return (
    typeof t.time === 'number' &&
    typeof t.trace_id === 'string' &&
    typeof t.trace_name === 'string' &&
    typeof t.service_type === 'string' &&
    (t.user === null || t.user === undefined || (typeof t.user === 'object' && !Array.isArray(t.user)))
  );
};

interface ReadFile {
  key: string;
  items?: Array<{ value: unknown; json?: string }>;
  sha256?: string;
  problem?: string;
}

// The files the transfer writes are compact JSON arrays of objects whose first key is trace_id.
const HEAD = '[{"trace_id":';
const SEPARATOR = ',{"trace_id":';

/**
 * The elements of a trace file's JSON array, each with its own text when the array can be cut at
 * `,{"trace_id":` — which inside a JSON string would have its quote escaped, but may occur in a
 * nested value: then some piece is not valid JSON on its own, and the whole array is parsed
 * instead. (Pieces that all parse, joined by commas in brackets, are the array's elements.)
 * Cutting spares re-serializing every trace for NDJSON output.
 */
function elements(text: string): Array<{ value: unknown; json?: string }> {
  if (text.startsWith(HEAD) && text.endsWith('}]')) {
    const items: Array<{ value: unknown; json?: string }> = [];
    let start = 1;
    try {
      for (;;) {
        const cut = text.indexOf(SEPARATOR, start);
        const json = text.slice(start, cut === -1 ? -1 : cut);
        items.push({ value: JSON.parse(json), json });
        if (cut === -1) return items;
        start = cut + 1;
      }
    } catch {
      // A cut inside a nested value: parse the array as a whole.
    }
  }
  const value: unknown = JSON.parse(text);
  if (!Array.isArray(value)) throw new TypeError('not a JSON array of traces');
  return value.map((item) => ({ value: item }));
}

/** Fetches, hashes, decompresses and parses one trace file; what is wrong with it is a result, not a throw. */
async function readTraceFile(
  bucket: Bucket,
  key: string,
  hashed: boolean,
  gunzip: (bytes: Uint8Array) => Promise<Uint8Array>,
): Promise<ReadFile> {
  let object: Awaited<ReturnType<Bucket['get']>>;
  try {
    object = await bucket.get(key);
  } catch (error) {
    if (error instanceof BucketError && error.failure !== 'bucketPolicyError') throw error;
    return { key, problem: `unreadable (${error instanceof Error ? error.message : String(error)})` };
  }
  if (!object) return { key, problem: 'missing' };
  const sha256 = hashed ? await sha256Hex(object.body) : undefined;
  let text: string;
  try {
    const bytes = key.endsWith('.gz') ? await gunzip(object.body) : object.body;
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return { key, sha256, problem: 'unreadable (not gzip-compressed UTF-8)' };
  }
  try {
    return { key, sha256, items: elements(text) };
  } catch {
    return { key, sha256, problem: 'not a JSON array of traces' };
  }
}

/**
 * Answers a query on the archive (DESIGN §5, issue 14): the traces of one tracker whose `time` lies
 * in [from, to] and that match the API's filters, from the trace files of the bucket — also those
 * retention deleted from the database long ago. Files are named by upload time and a trace may be
 * uploaded long after it happened, so every file uploaded since `from` is a candidate; the digests
 * record each file's oldest and newest trace time, and files that cannot hold the range are not
 * read. One file at a time is held (plus `readAhead` in flight): memory does not grow with the
 * archive. The answer is *proven complete* when `cts verify` would find nothing wrong with the
 * chain from `from` to now, and every candidate file is listed by an authentic digest and matches
 * its hash.
 */
export async function queryArchive(options: ArchiveQueryOptions): Promise<ArchiveQueryResult> {
  const { bucket, from, to, onProgress } = options;
  const progress = { files: 0, traces: 0, matched: 0 };
  onProgress?.({ phase: 'checking the chain', ...progress });
  const chain = await verifyArchive({
    bucket,
    bucketName: options.bucketName,
    region: options.region,
    projectId: options.projectId,
    trackerName: options.trackerName,
    from,
    to: options.now,
    now: options.now,
    keys: options.keys,
    hashTraceFiles: false,
  });
  const reasons = chain.findings.slice(0, 5).map((f) => `${f.type} ${f.key}: ${f.reason}`);
  if (chain.findings.length > 5)
    reasons.push(`and ${chain.findings.length - 5} more findings (run cts verify)`);

  // Candidates, oldest upload first: listed files, and files the digests list (a deleted one is
  // a candidate too, to be found missing) — unless their recorded trace times miss the range.
  const uploaded = new Map(chain.listed.map((file) => [file.key, file.time]));
  for (const key of chain.covered.keys()) if (!uploaded.has(key)) uploaded.set(key, Number.NaN);
  const candidates: string[] = [];
  let skipped = 0;
  for (const [key] of [...uploaded].sort((a, b) => (a[1] || 0) - (b[1] || 0) || (a[0] < b[0] ? -1 : 1))) {
    if (overlaps(chain.covered.get(key), from, to)) candidates.push(key);
    else skipped++;
  }
  const uncovered = candidates.filter((key) => !chain.covered.has(key)).length;
  if (uncovered > 0)
    reasons.push(
      `${uncovered} trace files that can hold the range are covered by no valid digest (verification off, or not digested yet)`,
    );

  const limit = Math.max(1, options.readAhead ?? 4);
  const inFlight: Array<Promise<ReadFile>> = [];
  let next = 0;
  const fill = () => {
    while (inFlight.length < limit && next < candidates.length) {
      const key = candidates[next++]!;
      inFlight.push(readTraceFile(bucket, key, chain.covered.has(key), options.gunzip ?? gunzipBytes));
    }
  };
  const problems: string[] = [];
  let notTraces = 0;
  fill();
  while (inFlight.length > 0) {
    const file = await inFlight.shift()!;
    fill();
    progress.files++;
    const expected = chain.covered.get(file.key);
    if (file.problem) problems.push(`${file.key}: ${file.problem}`);
    else if (expected && file.sha256 !== expected.hash) problems.push(`${file.key}: hash mismatch`);
    const matching: ArchivedTrace[] = [];
    for (const { value, json } of file.items ?? []) {
      progress.traces++;
      if (!isTrace(value)) {
        notTraces++;
        continue;
      }
      if (value.time >= from && value.time <= to && matchesTrace(value, options.filters))
        matching.push({ trace: value, json });
    }
    // Let go of the file before waiting for the reader.
    file.items = undefined;
    progress.matched += matching.length;
    if (matching.length > 0) await options.onTraces(matching);
    onProgress?.({ phase: 'reading', ...progress, totalFiles: candidates.length });
  }
  if (problems.length > 0) {
    reasons.push(
      `${problems.length} trace files are missing, unreadable or changed: ${problems.slice(0, 3).join('; ')}`,
    );
  }
  if (notTraces > 0) reasons.push(`${notTraces} records in the files are not traces`);
  return {
    matched: progress.matched,
    scanned: progress.traces,
    filesRead: progress.files,
    filesSkipped: skipped,
    proven: reasons.length === 0,
    reasons,
  };
}
