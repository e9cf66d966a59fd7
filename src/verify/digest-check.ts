import { sha256Hex } from '../domain/crypto';
import type { StoredObject } from '../transfer/bucket';
import { type DigestDocument, gunzipBytes, HOUR_MS, parseFileTime, signingString } from '../transfer/digest';
import { SIGNATURE_ALGORITHM, verifyString } from '../transfer/digest-signing';
import type { DigestEntry } from './archive';

/** A public key the verifier trusts, with when it stopped signing (null = still signs). */
export interface TrustedKey {
  fingerprint: string;
  publicKey: CryptoKey;
  validTo: number | null;
}

/** One digest file as found and checked on its own (the chain links are checked by the walk). */
export interface CheckedDigest {
  key: string;
  /** Stored where its own `digest_object` says, readable, of this project: part of the chain. */
  placed: boolean;
  /** Its signature verified under a trusted key: its fields (links, files) can be believed. */
  authentic: boolean;
  doc?: DigestDocument;
  sha256: string;
  /** `signature` from the object metadata. */
  signature?: string;
  start: number;
  end: number;
  isEnd: boolean;
  problems: string[];
}

const STRING_FIELDS = [
  'project_id',
  'digest_start_time',
  'digest_end_time',
  'digest_bucket',
  'digest_object',
  'public_key_fingerprint',
  'previous_digest_bucket',
  'previous_digest_object',
  'previous_digest_hash_value',
  'previous_digest_signature',
] as const;

/** The digest JSON, or why it cannot be one. */
async function parse(body: Uint8Array): Promise<DigestDocument | string> {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(await gunzipBytes(body)));
  } catch {
    return 'unreadable (not a gzip-compressed JSON file)';
  }
  const doc = value as Record<string, unknown>;
  if (typeof doc !== 'object' || doc === null) return 'unreadable (not a JSON object)';
  const bad = STRING_FIELDS.find((field) => typeof doc[field] !== 'string');
  if (bad) return `malformed (${bad} is not a string)`;
  if (typeof doc.digest_end !== 'boolean' || typeof doc.previous_digest_end !== 'boolean')
    return 'malformed (digest_end or previous_digest_end is not a boolean)';
  const files = doc.log_files;
  if (
    !Array.isArray(files) ||
    !files.every(
      (f) =>
        typeof f?.object === 'string' &&
        typeof f?.log_hash_value === 'string' &&
        typeof f?.bucket === 'string',
    )
  )
    return 'malformed (log_files)';
  if (
    Number.isNaN(parseFileTime(doc.digest_start_time as string)) ||
    Number.isNaN(parseFileTime(doc.digest_end_time as string))
  )
    return 'malformed (digest_start_time or digest_end_time)';
  return value as DigestDocument;
}

/**
 * Reads one digest and checks what can be checked alone: where it is stored, whose it is, and its
 * signature — from the object metadata, or `linkSignature` (the newer digest's
 * `previous_digest_signature`) when the metadata lost it.
 */
export async function checkDigest(
  entry: DigestEntry,
  object: StoredObject | null,
  context: { projectId: string; bucketName?: string; keys: Map<string, TrustedKey>; linkSignature?: string },
): Promise<CheckedDigest> {
  const checked: CheckedDigest = {
    key: entry.key,
    placed: false,
    authentic: false,
    sha256: '',
    start: entry.endTime - HOUR_MS,
    end: entry.endTime,
    isEnd: false,
    problems: [],
  };
  if (!object) {
    checked.problems.push('missing');
    return checked;
  }
  checked.sha256 = await sha256Hex(object.body);
  checked.signature = object.metadata.signature;
  const parsed = await parse(object.body);
  if (typeof parsed === 'string') {
    checked.problems.push(parsed);
    return checked;
  }
  const doc = parsed;
  checked.doc = doc;
  if (doc.digest_object !== entry.key) {
    checked.problems.push(`moved (its digest_object is ${doc.digest_object})`);
  } else if (context.bucketName !== undefined && doc.digest_bucket !== context.bucketName) {
    checked.problems.push(`moved (its digest_bucket is ${doc.digest_bucket})`);
  } else if (doc.project_id !== context.projectId) {
    checked.problems.push(`belongs to project ${doc.project_id}`);
  } else {
    checked.placed = true;
    checked.start = parseFileTime(doc.digest_start_time);
    checked.end = parseFileTime(doc.digest_end_time);
    checked.isEnd = doc.digest_end;
  }

  let signature = checked.signature;
  if (!signature) {
    checked.problems.push('no signature in the object metadata');
    signature = context.linkSignature;
  } else if (object.metadata['signature-algorithm'] !== SIGNATURE_ALGORITHM) {
    checked.problems.push(`signature-algorithm metadata is not ${SIGNATURE_ALGORITHM}`);
  }
  if (!signature) return checked;
  const key = context.keys.get(doc.public_key_fingerprint);
  if (!key) {
    checked.problems.push(`signed with an unknown key (${doc.public_key_fingerprint || 'none'})`);
    return checked;
  }
  if (!(await verifyString(key.publicKey, signingString(doc, checked.sha256), signature))) {
    checked.problems.push('signature verification failed');
    return checked;
  }
  if (key.validTo !== null && parseFileTime(doc.digest_end_time) > key.validTo) {
    checked.problems.push(`signed with key ${key.fingerprint} after it was retired`);
    return checked;
  }
  checked.authentic = true;
  return checked;
}
