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

/** Where a digest's signature may come from besides the digest itself (ADR 0007). */
export interface SignatureSources {
  /** The object metadata (`signature`, `signature-algorithm`); empty in a plain download. */
  metadata: Record<string, string>;
  /** The hex signature read from the signature object beside it, or why it could not be read. */
  sidecar?: { signature: string } | { error: string };
  /** What an authentic newer digest records of it (`previous_digest_*`). */
  link?: { hash: string; signature: string; isEnd: boolean; newer: string };
}

/** A digest as checked, and what is wrong with the signature object beside it, if anything. */
export interface DigestCheck {
  digest: CheckedDigest;
  sidecarProblem?: string;
}

type Verdict = 'valid' | 'invalid' | 'unknown key' | 'retired';

async function verdict(
  doc: DigestDocument,
  sha256: string,
  signature: string,
  keys: Map<string, TrustedKey>,
): Promise<Verdict> {
  const key = keys.get(doc.public_key_fingerprint);
  if (!key) return 'unknown key';
  if (!(await verifyString(key.publicKey, signingString(doc, sha256), signature))) return 'invalid';
  if (key.validTo !== null && parseFileTime(doc.digest_end_time) > key.validTo) return 'retired';
  return 'valid';
}

/**
 * Reads one digest and checks what can be checked without the walk: where it is stored, whose it
 * is, and whether its content is authentic — proven by the hash an authentic newer digest records
 * of it (the chain), or by a signature under a trusted key from the object metadata or the
 * signature object beside it. A signature that is present and wrong is a finding even when the
 * chain proves the content; one that is merely absent is not, as long as something proves it.
 */
export async function checkDigest(
  entry: DigestEntry,
  object: StoredObject | { error: string },
  context: {
    projectId: string;
    bucketName?: string;
    keys: Map<string, TrustedKey>;
    sources: SignatureSources;
  },
): Promise<DigestCheck> {
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
  if ('error' in object) {
    checked.problems.push(`unreadable (${object.error})`);
    return { digest: checked };
  }
  const { metadata, sidecar, link } = context.sources;
  checked.sha256 = await sha256Hex(object.body);
  checked.signature = metadata.signature;
  const parsed = await parse(object.body);
  if (typeof parsed === 'string') {
    checked.problems.push(parsed);
    if (link && link.hash !== checked.sha256)
      checked.problems.push(`hash does not match previous_digest_hash_value in ${link.newer}`);
    return { digest: checked };
  }
  const doc = parsed;
  checked.doc = doc;
  if (doc.digest_object !== entry.key) {
    checked.problems.push(`stored under another key (its digest_object is ${doc.digest_object})`);
  } else if (context.bucketName !== undefined && doc.digest_bucket !== context.bucketName) {
    checked.problems.push(`written for another bucket (its digest_bucket is ${doc.digest_bucket})`);
  } else if (doc.project_id !== context.projectId) {
    checked.problems.push(`belongs to project ${doc.project_id}`);
  } else {
    checked.placed = true;
    checked.start = parseFileTime(doc.digest_start_time);
    checked.end = parseFileTime(doc.digest_end_time);
    checked.isEnd = doc.digest_end;
  }

  const byChain = link !== undefined && link.hash === checked.sha256;
  const verdicts: Verdict[] = [];
  let metadataValid = false;
  if (metadata.signature) {
    if (metadata['signature-algorithm'] !== SIGNATURE_ALGORITHM)
      checked.problems.push(`signature-algorithm metadata is not ${SIGNATURE_ALGORITHM}`);
    const v = await verdict(doc, checked.sha256, metadata.signature, context.keys);
    verdicts.push(v);
    metadataValid = v === 'valid';
    if (v === 'invalid') checked.problems.push('signature verification failed');
    if (v === 'retired')
      checked.problems.push(`signed with key ${doc.public_key_fingerprint} after it was retired`);
  }
  let sidecarProblem: string | undefined;
  if (sidecar && 'error' in sidecar) sidecarProblem = sidecar.error;
  else if (sidecar) {
    const v = await verdict(doc, checked.sha256, sidecar.signature, context.keys);
    verdicts.push(v);
    if (v === 'invalid') sidecarProblem = 'its signature does not verify the digest beside it';
    if (v === 'retired')
      sidecarProblem = `signed with key ${doc.public_key_fingerprint} after it was retired`;
  }
  if (link && !byChain)
    checked.problems.push(`hash does not match previous_digest_hash_value in ${link.newer}`);
  if (link && byChain && metadataValid && link.signature !== metadata.signature)
    checked.problems.push(`signature does not match previous_digest_signature in ${link.newer}`);
  if (link && byChain && link.isEnd !== doc.digest_end)
    checked.problems.push(`digest_end does not match previous_digest_end in ${link.newer}`);

  checked.authentic = byChain || verdicts.includes('valid');
  // A signature object that does not fit a changed digest is part of that digest's finding.
  if (!checked.authentic) sidecarProblem = undefined;
  if (!checked.authentic && verdicts.length === 0 && !link)
    checked.problems.push('no signature (none in the object metadata, no signature object beside it)');
  if (!checked.authentic && verdicts.includes('unknown key'))
    checked.problems.push(`signed with an unknown key (${doc.public_key_fingerprint || 'none'})`);
  return { digest: checked, sidecarProblem };
}
