import { readdir, readFile, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join, relative, sep } from 'node:path';
import { gunzipSync } from 'node:zlib';
import {
  GetObjectCommand,
  ListObjectsV2Command,
  type ListObjectsV2CommandOutput,
  S3Client,
} from '@aws-sdk/client-s3';
import S3rver from 's3rver';
import { freePort } from './server-process';

/**
 * An s3rver that can be stopped and started again on the same port and folder — a bucket
 * outage the server under test cannot tell from a real one — and whose requests can be watched
 * (to kill the server at the moment it uploads). Unlike `test/helpers/s3rver.ts` it keeps its
 * data across restarts; `destroy` removes nothing either: the caller owns `directory`.
 */
export interface RestartableS3 {
  readonly endpoint: string;
  readonly port: number;
  readonly directory: string;
  /** `CTS_S3_*` settings for the server under test. */
  readonly config: Record<string, string>;
  readonly running: boolean;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Calls `listener` for every request while running; returns the unsubscribe function. */
  watch(listener: (req: IncomingMessage, res: ServerResponse) => void): () => void;
  client(): S3Client;
}

export async function startRestartableS3(directory: string, buckets: string[]): Promise<RestartableS3> {
  const port = await freePort();
  let server: S3rver | undefined;
  const listeners = new Set<(req: IncomingMessage, res: ServerResponse) => void>();
  let s3: S3Client | undefined;
  const endpoint = `http://127.0.0.1:${port}`;
  const handle: RestartableS3 = {
    endpoint,
    port,
    directory,
    config: {
      CTS_S3_ENDPOINT: endpoint,
      CTS_S3_REGION: 'us-east-1',
      CTS_S3_ACCESS_KEY_ID: 'S3RVER',
      CTS_S3_SECRET_ACCESS_KEY: 'S3RVER',
      CTS_S3_FORCE_PATH_STYLE: 'true',
    },
    get running() {
      return server !== undefined;
    },
    async start() {
      if (server) return;
      const next = new S3rver({
        address: '127.0.0.1',
        port,
        silent: true,
        directory,
        configureBuckets: buckets.map((name) => ({ name })),
      });
      await next.run();
      next.httpServer?.on('request', (req: IncomingMessage, res: ServerResponse) => {
        for (const listener of listeners) listener(req, res);
      });
      server = next;
    },
    async stop() {
      if (!server) return;
      const current = server;
      server = undefined;
      current.httpServer?.closeAllConnections();
      await current.close();
    },
    watch(listener) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
    client() {
      s3 ??= new S3Client({
        endpoint,
        region: 'us-east-1',
        forcePathStyle: true,
        credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
        requestChecksumCalculation: 'WHEN_REQUIRED',
        responseChecksumValidation: 'WHEN_REQUIRED',
      });
      return s3;
    },
  };
  await handle.start();
  return handle;
}

/** One object of an archive as read back: its bytes' fate (parsed traces, or why not). */
export interface ArchiveObject {
  key: string;
  etag: string;
  size: number;
  /** The trace objects in the file, when it decompressed and parsed as a JSON array. */
  traces?: Array<Record<string, unknown>>;
  problem?: string;
}

/** Decompresses (`.gz`) and parses a trace file: a JSON array of trace objects, or a problem. */
export function parseTraceFile(key: string, bytes: Uint8Array): Pick<ArchiveObject, 'traces' | 'problem'> {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(key.endsWith('.gz') ? gunzipSync(bytes) : bytes);
  } catch (error) {
    return { problem: `does not decompress/decode: ${String(error)}` };
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { problem: `is not JSON: ${String(error)}` };
  }
  if (!Array.isArray(value)) return { problem: 'is not a JSON array' };
  return { traces: value as Array<Record<string, unknown>> };
}

/**
 * Reads every object of `bucket` under `prefix` with the AWS SDK (not the server's own bucket
 * code), re-reading only objects whose ETag changed since `cache` saw them.
 */
export async function readS3Archive(
  s3: S3Client,
  bucket: string,
  cache: Map<string, ArchiveObject>,
  options: { prefix?: string; s3rverDirectory?: string } = {},
): Promise<Map<string, ArchiveObject>> {
  const seen = new Map<string, ArchiveObject>();
  let token: string | undefined;
  do {
    let page: ListObjectsV2CommandOutput;
    try {
      page = await s3.send(
        new ListObjectsV2Command({
          Bucket: bucket,
          Prefix: options.prefix ?? 'CloudTraces/',
          ContinuationToken: token,
        }),
      );
    } catch (error) {
      // s3rver cannot list a bucket holding an upload the kill cut short (an object file without
      // its metadata; real S3 never shows one): read its folder instead.
      if (!options.s3rverDirectory) throw error;
      return readS3rverFolder(join(options.s3rverDirectory, bucket), cache);
    }
    for (const item of page.Contents ?? []) {
      const key = item.Key!;
      const etag = item.ETag ?? '';
      const cached = cache.get(key);
      if (cached && cached.etag === etag && cached.size === item.Size) {
        seen.set(key, cached);
        continue;
      }
      let object: ArchiveObject;
      try {
        const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        const bytes = await got.Body!.transformToByteArray();
        object = { key, etag, size: item.Size ?? bytes.length, ...parseTraceFile(key, bytes) };
      } catch (error) {
        object = { key, etag, size: item.Size ?? 0, problem: `cannot be read: ${String(error)}` };
      }
      cache.set(key, object);
      seen.set(key, object);
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return seen;
}

/**
 * Reads every trace file of a filesystem bucket (`<data dir>/buckets/<bucket>`) straight from the
 * disk, as a user opening the archive would. Leftover `*.tmp` files of a write cut short are
 * reported as unreadable objects (the bucket's own listing hides them).
 */
export async function readFolderArchive(
  bucketDir: string,
  cache: Map<string, ArchiveObject>,
): Promise<Map<string, ArchiveObject>> {
  const seen = new Map<string, ArchiveObject>();
  let entries: import('node:fs').Dirent[] = [];
  try {
    entries = await readdir(join(bucketDir, 'CloudTraces'), { recursive: true, withFileTypes: true });
  } catch {
    return seen;
  }
  for (const entry of entries) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    const key = relative(bucketDir, path).split(sep).join('/');
    const info = await stat(path);
    const etag = `${info.size}:${info.mtimeMs}`;
    const cached = cache.get(key);
    if (cached?.etag === etag) {
      seen.set(key, cached);
      continue;
    }
    const object: ArchiveObject = key.endsWith('.tmp')
      ? { key, etag, size: info.size, problem: 'is a temporary file of an unfinished write' }
      : { key, etag, size: info.size, ...parseTraceFile(key, await readFile(path)) };
    cache.set(key, object);
    seen.set(key, object);
  }
  return seen;
}

/** An s3rver bucket folder read directly: `<key>._S3rver_object`, complete once its metadata exists. */
async function readS3rverFolder(
  bucketDir: string,
  cache: Map<string, ArchiveObject>,
): Promise<Map<string, ArchiveObject>> {
  const seen = new Map<string, ArchiveObject>();
  const suffix = '._S3rver_object';
  const entries = await readdir(join(bucketDir, 'CloudTraces'), {
    recursive: true,
    withFileTypes: true,
  }).catch(() => []);
  for (const entry of entries) {
    if (!entry.isFile() || !entry.name.endsWith(suffix)) continue;
    const path = join(entry.parentPath, entry.name);
    const key = relative(bucketDir, path).split(sep).join('/').slice(0, -suffix.length);
    const info = await stat(path);
    const complete = await stat(`${path.slice(0, -suffix.length)}._S3rver_metadata.json`).then(
      () => true,
      () => false,
    );
    const object: ArchiveObject = complete
      ? {
          key,
          etag: `${info.size}:${info.mtimeMs}`,
          size: info.size,
          ...parseTraceFile(key, await readFile(path)),
        }
      : { key, etag: 'torn', size: info.size, problem: 'is an upload cut short (no metadata)' };
    cache.delete(key);
    seen.set(key, object);
  }
  return seen;
}
