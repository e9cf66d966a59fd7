import type { Dirent } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import {
  type Bucket,
  BucketError,
  type BucketStore,
  type ListedObject,
  type StoredObject,
} from '../transfer/bucket';
import { listFolderKeys, readObjectFile } from './fs-objects';

const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{2,62}$/;
/** The temporary file a write renames into place (`<key>.<uuid>.tmp`). */
const isTemporary = (name: string) => /\.[0-9a-f-]{36}\.tmp$/.test(name);

/**
 * Buckets as folders: `<root>/<bucket>/<key>` holds exactly the object's bytes, so the archive
 * is plain files a user can open; metadata lives apart under `<root>/.meta/<bucket>/<key>.json`.
 * Writes go to a temporary file renamed into place, so a crash never leaves a partial object.
 */
export function createFsBucketStore(root: string): BucketStore {
  const base = resolve(root);
  const bucketDir = (name: string) => {
    if (!BUCKET_NAME.test(name)) throw new BucketError('noBucket', `Invalid bucket name ${name}`);
    return join(base, name);
  };
  const exists = async (name: string) => {
    try {
      return (await stat(bucketDir(name))).isDirectory();
    } catch {
      return false;
    }
  };
  return {
    exists,
    async create(name) {
      await mkdir(bucketDir(name), { recursive: true });
    },
    bucket(name) {
      return fsBucket(name, bucketDir(name), join(base, '.meta', name), () => exists(name));
    },
  };
}

function fsBucket(name: string, dir: string, metaDir: string, exists: () => Promise<boolean>): Bucket {
  const pathOf = (root: string, key: string) => {
    const path = resolve(root, key);
    if (key === '' || !path.startsWith(root + sep))
      throw new BucketError('bucketPolicyError', `Invalid key ${key}`);
    return path;
  };
  const requireBucket = async () => {
    if (!(await exists())) throw new BucketError('noBucket', `Bucket ${name} does not exist`);
  };
  const writeAtomically = async (path: string, data: Uint8Array | string) => {
    await mkdir(dirname(path), { recursive: true });
    const temporary = `${path}.${crypto.randomUUID()}.tmp`;
    await writeFile(temporary, data);
    await rename(temporary, path);
  };

  return {
    name,
    async put(key, body, options) {
      await requireBucket();
      const metadata = { contentType: options.contentType, metadata: options.metadata ?? {} };
      await writeAtomically(pathOf(metaDir, `${key}.json`), JSON.stringify(metadata));
      await writeAtomically(pathOf(dir, key), body);
    },
    async get(key): Promise<StoredObject | null> {
      await requireBucket();
      const body = await readObjectFile(pathOf(dir, key));
      if (!body) return null;
      let meta: { contentType?: string; metadata?: Record<string, string> } = {};
      try {
        meta = JSON.parse(await readFile(pathOf(metaDir, `${key}.json`), 'utf8'));
      } catch {
        // An object copied in by hand has no metadata: that is not an error.
      }
      return { body: new Uint8Array(body), metadata: meta.metadata ?? {}, contentType: meta.contentType };
    },
    async *list(prefix): AsyncIterable<ListedObject> {
      await requireBucket();
      // Walk only the folder the prefix names, not the whole bucket; skip writes in progress.
      const listed = await listFolderKeys(dir, prefix, (folder) => pathOf(dir, folder), isTemporary);
      for (const { key, size } of listed) yield { key, size };
    },
    async delete(key) {
      await requireBucket();
      await rm(pathOf(dir, key), { force: true });
      await rm(pathOf(metaDir, `${key}.json`), { force: true });
      // Like S3, no folder outlives its last object (a verifier would see it as an odd object).
      await removeEmptyParents(dirname(pathOf(dir, key)), dir);
      await removeEmptyParents(dirname(pathOf(metaDir, `${key}.json`)), metaDir);
    },
  };
}

/**
 * Removes temporary files that a killed process left behind (a write is a temporary file renamed
 * into place). Only files older than `olderThanMs` go, so a write still in progress elsewhere
 * (e.g. `cts jobs run` beside the server) is never touched; at worst its upload is retried.
 */
export async function sweepStaleTemporaryFiles(
  root: string,
  now: number,
  olderThanMs = 10 * 60_000,
): Promise<number> {
  let entries: Dirent[];
  try {
    entries = await readdir(resolve(root), { recursive: true, withFileTypes: true });
  } catch {
    return 0;
  }
  let removed = 0;
  for (const entry of entries) {
    if (!entry.isFile() || !entry.name.endsWith('.tmp')) continue;
    const path = join(entry.parentPath, entry.name);
    const { mtimeMs } = await stat(path);
    if (now - mtimeMs < olderThanMs) continue;
    await rm(path, { force: true });
    removed++;
  }
  return removed;
}

/** Removes `folder` and its parents up to (not including) `root` while they are empty. */
async function removeEmptyParents(folder: string, root: string): Promise<void> {
  for (let current = folder; current.startsWith(root + sep); current = dirname(current)) {
    try {
      await rmdir(current);
    } catch {
      return; // not empty (or gone): its parents are not empty either
    }
  }
}
