import { readFile } from 'node:fs/promises';
import { type Config, parseConfig } from '../config';
import { listSigningKeys } from '../store/signing-key-queries';
import { type Bucket, BucketError } from '../transfer/bucket';
import { importVerifiers, pemBlocks } from '../transfer/digest-signing';
import { findingLine, type TrustedKey, type VerifyProgress, verifyArchive } from '../verify/verify';
import { folderBucket } from './folder-bucket';
import { nodeBucketStore } from './node';
import { openNodeDb } from './node-db';

export const VERIFY_USAGE =
  '  verify --project ID [--tracker system] (--bucket NAME | --dir PATH) [--from ISO] [--to ISO]\n' +
  '         [--public-key FILE] [--region R] [--now ISO] [--progress] [--json]\n' +
  '                                              check the signed digests and trace files of an archive';

export type Flags = Record<string, string | boolean | undefined>;

export interface CommandIo {
  out: (line: string) => void;
  err: (line: string) => void;
  /** Progress display; absent = none. */
  progress?: (text: string, final?: boolean) => void;
}

/** Bad flags or settings: nothing could be checked (exit 2). */
export class VerifyUsageError extends Error {}

export const text = (flags: Flags, name: string) => {
  const value = flags[name];
  return typeof value === 'string' && value !== '' ? value : undefined;
};

export function time(flags: Flags, name: string): number | undefined {
  const value = text(flags, name);
  if (value === undefined) return undefined;
  const ms = Date.parse(value);
  if (Number.isNaN(ms))
    throw new VerifyUsageError(`--${name} must be an ISO 8601 time, e.g. 2026-11-24T12:00:00Z`);
  return ms;
}

/**
 * The public keys to trust: `--public-key FILE` (PEM, one or more keys, or the JSON of
 * `GET /v3/{project_id}/digest-public-keys`), else the keys in the configured database.
 */
export async function trustedKeys(flags: Flags, config: Config): Promise<TrustedKey[]> {
  const file = text(flags, 'public-key');
  let entries: Array<{ pem: string; validTo: number | null }>;
  if (file) {
    const content = await readFile(file, 'utf8');
    if (content.trimStart().startsWith('{')) {
      const parsed = JSON.parse(content) as {
        public_keys?: Array<{ public_key: string; valid_to: string | null }>;
      };
      entries = (parsed.public_keys ?? []).map((key) => ({
        pem: key.public_key,
        validTo: key.valid_to ? Date.parse(key.valid_to) : null,
      }));
    } else {
      entries = pemBlocks(content, 'PUBLIC KEY').length ? [{ pem: content, validTo: null }] : [];
    }
  } else {
    const db = await openNodeDb(config);
    try {
      entries = (await listSigningKeys(db)).map((row) => ({ pem: row.publicKeyPem, validTo: row.retiredAt }));
    } catch {
      entries = [];
    } finally {
      db.$client.close();
    }
  }
  const keys: TrustedKey[] = [];
  for (const entry of entries) {
    for (const verifier of await importVerifiers(entry.pem))
      keys.push({ ...verifier, validTo: entry.validTo });
  }
  if (keys.length === 0)
    throw new VerifyUsageError(
      file
        ? `${file} holds no public key (PEM "BEGIN PUBLIC KEY" or the JSON of the digest-public-keys API).`
        : 'No public keys in the database: pass --public-key FILE (see GET /v3/{project_id}/digest-public-keys).',
    );
  return keys;
}

export async function openBucket(
  flags: Flags,
  config: Config,
): Promise<{ bucket: Bucket; bucketName?: string }> {
  const name = text(flags, 'bucket');
  const dir = text(flags, 'dir');
  if ((name === undefined) === (dir === undefined))
    throw new VerifyUsageError('Give exactly one of --bucket NAME or --dir PATH.');
  if (dir !== undefined) return { bucket: folderBucket(dir) };
  const store = nodeBucketStore(config);
  if (!(await store.exists(name!))) throw new VerifyUsageError(`Bucket ${name} does not exist.`);
  return { bucket: store.bucket(name!), bucketName: name };
}

const PHASES: Record<VerifyProgress['phase'], string> = {
  listing: 'listing objects',
  digests: 'digest files',
  'trace files': 'trace files',
};

/** `cts verify`: prints one line per finding and a summary; 0 only when everything is valid. */
export async function verifyCommand(
  flags: Flags,
  io: CommandIo,
  env: Record<string, unknown>,
): Promise<number> {
  try {
    const config = parseConfig(env);
    const projectId = text(flags, 'project');
    if (!projectId) throw new VerifyUsageError('--project is required');
    const now = time(flags, 'now') ?? Date.now();
    const to = time(flags, 'to') ?? now;
    const from = time(flags, 'from');
    if (from !== undefined && from >= to) throw new VerifyUsageError('--from must be before --to');
    const keys = await trustedKeys(flags, config);
    const { bucket, bucketName } = await openBucket(flags, config);
    const trackerName = text(flags, 'tracker') ?? 'system';
    const region = text(flags, 'region') ?? config.CTS_REGION;
    const json = flags.json === true;
    const scope = `tracker ${trackerName} of project ${projectId} in ${bucketName ? `bucket ${bucketName}` : bucket.name}`;
    if (!json)
      io.out(
        `Verifying ${scope} from ${from === undefined ? 'the beginning' : new Date(from).toISOString()} to ${new Date(to).toISOString()}`,
      );
    const result = await verifyArchive({
      bucket,
      bucketName,
      region,
      projectId,
      trackerName,
      from,
      to,
      now,
      keys,
      onProgress: io.progress
        ? (p) => io.progress!(`${PHASES[p.phase]}: ${p.done}${p.total === undefined ? '' : `/${p.total}`}`)
        : undefined,
    });
    io.progress?.('', true);
    if (json) {
      io.out(
        JSON.stringify({
          project_id: projectId,
          tracker_name: trackerName,
          from: from === undefined ? null : new Date(from).toISOString(),
          to: new Date(to).toISOString(),
          ok: result.ok,
          findings: result.findings,
          digest_files: result.digests,
          trace_files: { ...result.traceFiles, unchained: result.unchained, unproven: result.unproven },
        }),
      );
      return result.ok ? 0 : 1;
    }
    for (const finding of result.findings) io.out(findingLine(finding));
    if (result.unchained > 0)
      io.out(
        `${result.unchained} trace files in the range belong to no digest chain (verification was off, or not digested yet).`,
      );
    const others = result.findings.filter(
      (finding) => finding.type !== 'digest' && finding.type !== 'trace file',
    );
    io.out(
      `${result.digests.valid}/${result.digests.total} digest files valid, ` +
        `${result.traceFiles.valid}/${result.traceFiles.total} trace files valid` +
        (others.length > 0 ? `, ${others.length} other objects invalid` : ''),
    );
    return result.ok ? 0 : 1;
  } catch (error) {
    io.progress?.('', true);
    // Nothing could be checked (bad flags or settings, bucket unreachable): not a verdict.
    if (isUsageFailure(error)) {
      io.err(error.message);
      return 2;
    }
    throw error;
  }
}

/**
 * A throttled one-line progress display on stderr (redrawn in place on a terminal), silent for the
 * first `quietMs` (a short run needs none).
 */
export function stderrProgress(label = 'verify', quietMs = 0): CommandIo['progress'] {
  const tty = process.stderr.isTTY;
  let last = Date.now() + quietMs - (tty ? 100 : 1000);
  return (line, final) => {
    const now = Date.now();
    if (final) {
      if (tty) process.stderr.write('\r\x1b[K');
      return;
    }
    if (now - last < (tty ? 100 : 1000)) return;
    last = now;
    process.stderr.write(tty ? `\r\x1b[K${label}: ${line}` : `${label}: ${line}\n`);
  };
}

/** A failure that checked nothing (bad flags or settings, bucket unreachable): exit 2, not a verdict. */
export function isUsageFailure(error: unknown): error is Error {
  return (
    error instanceof VerifyUsageError ||
    error instanceof BucketError ||
    (error instanceof Error && error.name === 'ConfigError')
  );
}
