import { sha256Hex } from '../domain/crypto';
import { type DigestSigner, SIGNATURE_ALGORITHM, signString } from './digest-signing';

/**
 * Digest files (reference §8, DESIGN §5): naming, content, hashing and signing. Pure and
 * runtime-neutral (Web Crypto, CompressionStream); the job decides *when* and *what*.
 */
export const HASH_ALGORITHM = 'SHA-256';
export const HOUR_MS = 3_600_000;

const pad = (n: number) => String(n).padStart(2, '0');

/** `YYYY-MM-DDTHH-mm-ssZ` (UTC), the time format of digest fields and object names. */
export function fileTime(ms: number): string {
  const d = new Date(ms);
  return (
    `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}` +
    `T${pad(d.getUTCHours())}-${pad(d.getUTCMinutes())}-${pad(d.getUTCSeconds())}Z`
  );
}

/** The inverse of `fileTime`; NaN when `text` is not in that format. */
export function parseFileTime(text: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2})-(\d{2})-(\d{2})Z$/.exec(text);
  if (!m) return Number.NaN;
  const [, y, mo, d, h, mi, s] = m.map(Number) as number[];
  const ms = Date.UTC(y!, mo! - 1, d!, h!, mi!, s!);
  return fileTime(ms) === text ? ms : Number.NaN;
}

export const floorHour = (ms: number) => Math.floor(ms / HOUR_MS) * HOUR_MS;
export const floorSecond = (ms: number) => Math.floor(ms / 1000) * 1000;

export interface DigestName {
  region: string;
  projectId: string;
  trackerName: string;
  /** The tracker's `file_prefix_name` ('' for none). */
  prefix: string;
  /** End of the window the digest covers (its name carries this time, so a retry writes the same key). */
  endTime: number;
}

/**
 * `CloudTraces/{region}/{yyyy}/{m}/{d}/{tracker}/Digest/{prefix}_CloudTrace-Digest_{region}-{project}_{time}.json.gz`
 * with the date and time of the window's end, UTC, month and day unpadded.
 */
export function digestKey(name: DigestName): string {
  const d = new Date(name.endTime);
  const folder = `CloudTraces/${name.region}/${d.getUTCFullYear()}/${d.getUTCMonth() + 1}/${d.getUTCDate()}/${name.trackerName}/Digest`;
  const prefix = name.prefix ? `${name.prefix}_` : '';
  return `${folder}/${prefix}CloudTrace-Digest_${name.region}-${name.projectId}_${fileTime(name.endTime)}.json.gz`;
}

/** The object beside a digest that holds its hex signature (ADR 0007). */
export const signatureKey = (digestKey: string) => `${digestKey}.sig`;

/** The file prefix a digest key was named with ('' for none). */
export function prefixOfDigestKey(key: string): string {
  const file = key.slice(key.lastIndexOf('/') + 1);
  const at = file.indexOf('CloudTrace-Digest_');
  return at > 0 ? file.slice(0, at - 1) : '';
}

export interface DigestLogFile {
  bucket: string;
  object: string;
  log_hash_value: string;
  log_hash_algorithm: string;
  /**
   * Oldest and newest trace `time` (epoch ms) in the file: `cts archive query` reads only the
   * files that can hold its range. Absent in digests written before they were recorded.
   */
  oldest_trace_time?: number;
  newest_trace_time?: number;
}

/** The JSON object a digest file holds: reference §8.2 plus the key and trace-time fields. */
export interface DigestDocument {
  project_id: string;
  digest_start_time: string;
  digest_end_time: string;
  digest_bucket: string;
  digest_object: string;
  digest_signature_algorithm: string;
  digest_end: boolean;
  public_key_fingerprint: string;
  previous_digest_bucket: string;
  previous_digest_object: string;
  previous_digest_hash_value: string;
  previous_digest_hash_algorithm: string;
  previous_digest_signature: string;
  previous_digest_end: boolean;
  /** Oldest and newest trace `time` (epoch ms) in the covered files; null when there are none. */
  oldest_trace_time: number | null;
  newest_trace_time: number | null;
  log_files: DigestLogFile[];
}

/** The digest a new one links to. */
export interface PreviousDigest {
  bucket: string;
  key: string;
  sha256: string;
  signature: string;
  isEnd: boolean;
}

export interface CoveredFile {
  bucket: string;
  objectKey: string;
  sha256: string;
  oldestTime: number;
  newestTime: number;
}

export interface DigestInput {
  projectId: string;
  bucket: string;
  key: string;
  startTime: number;
  endTime: number;
  isEnd: boolean;
  /** null for the first digest ever written for the tracker in this bucket. */
  previous: PreviousDigest | null;
  files: CoveredFile[];
}

export function digestDocument(input: DigestInput, fingerprint: string): DigestDocument {
  const previous = input.previous;
  const times = input.files.flatMap((f) => [f.oldestTime, f.newestTime]);
  return {
    project_id: input.projectId,
    digest_start_time: fileTime(input.startTime),
    digest_end_time: fileTime(input.endTime),
    digest_bucket: input.bucket,
    digest_object: input.key,
    digest_signature_algorithm: SIGNATURE_ALGORITHM,
    digest_end: input.isEnd,
    public_key_fingerprint: fingerprint,
    previous_digest_bucket: previous?.bucket ?? '',
    previous_digest_object: previous?.key ?? '',
    previous_digest_hash_value: previous?.sha256 ?? '',
    previous_digest_hash_algorithm: previous ? HASH_ALGORITHM : '',
    previous_digest_signature: previous?.signature ?? '',
    previous_digest_end: previous?.isEnd ?? false,
    oldest_trace_time: times.length ? Math.min(...times) : null,
    newest_trace_time: times.length ? Math.max(...times) : null,
    log_files: input.files.map((f) => ({
      bucket: f.bucket,
      object: f.objectKey,
      log_hash_value: f.sha256,
      log_hash_algorithm: HASH_ALGORITHM,
      oldest_trace_time: f.oldestTime,
      newest_trace_time: f.newestTime,
    })),
  };
}

/**
 * What is signed (DESIGN §5): `digest_end_time + digest_object + hex(sha256(stored digest bytes))
 * + previous_digest_signature`, no separators. The file hash binds every field of the file;
 * the previous signature binds the chain.
 */
export function signingString(
  doc: Pick<DigestDocument, 'digest_end_time' | 'digest_object' | 'previous_digest_signature'>,
  digestSha256: string,
): string {
  return `${doc.digest_end_time}${doc.digest_object}${digestSha256}${doc.previous_digest_signature}`;
}

async function pipe(bytes: Uint8Array, transform: CompressionStream | DecompressionStream) {
  const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(transform);
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

export const gzipBytes = (bytes: Uint8Array) => pipe(bytes, new CompressionStream('gzip'));
export const gunzipBytes = (bytes: Uint8Array) => pipe(bytes, new DecompressionStream('gzip'));

export interface SignedDigest {
  document: DigestDocument;
  /** The exact bytes to store (gzip JSON). */
  body: Uint8Array;
  sha256: string;
  signature: string;
  /** The object metadata that carries the signature. */
  metadata: Record<string, string>;
}

/** Builds, compresses, hashes and signs one digest file. */
export async function buildSignedDigest(input: DigestInput, signer: DigestSigner): Promise<SignedDigest> {
  const document = digestDocument(input, signer.fingerprint);
  const body = await gzipBytes(new TextEncoder().encode(JSON.stringify(document)));
  const sha256 = await sha256Hex(body);
  const signature = await signString(signer.privateKey, signingString(document, sha256));
  return {
    document,
    body,
    sha256,
    signature,
    metadata: { signature, 'signature-algorithm': SIGNATURE_ALGORITHM },
  };
}
