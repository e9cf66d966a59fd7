import { readFile } from 'node:fs/promises';
import { basename, dirname, join, resolve, sep } from 'node:path';
import type { Bucket, ListedObject, StoredObject } from '../transfer/bucket';
import { listFolderKeys, readObjectFile } from './fs-objects';

const readIfThere = async (path: string): Promise<Buffer | null> => {
  try {
    return await readFile(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
};

/**
 * A read-only view of a folder holding a copy of a bucket (its children are `CloudTraces/`), for
 * `cts verify --dir`. Object metadata is read where the filesystem bucket keeps it
 * (`<parent>/.meta/<folder name>/<key>.json`); a plain download has none.
 */
export function folderBucket(path: string): Bucket {
  const dir = resolve(path);
  const metaDir = join(dirname(dir), '.meta', basename(dir));
  const inside = (root: string, key: string) => {
    const full = resolve(root, key);
    if (!full.startsWith(root + sep)) throw new Error(`Invalid key ${key}`);
    return full;
  };
  const readOnly = () => Promise.reject(new Error('A folder given to verify is read-only.'));
  return {
    name: basename(dir),
    put: readOnly,
    delete: readOnly,
    async get(key): Promise<StoredObject | null> {
      const body = await readObjectFile(inside(dir, key));
      if (!body) return null;
      const meta = await readIfThere(inside(metaDir, `${key}.json`));
      let metadata: Record<string, string> = {};
      try {
        if (meta) metadata = JSON.parse(meta.toString('utf8')).metadata ?? {};
      } catch {
        // Unreadable metadata counts as none: the verifier reports the missing signature.
      }
      return { body: new Uint8Array(body), metadata };
    },
    async *list(prefix): AsyncIterable<ListedObject> {
      for (const { key, size } of await listFolderKeys(dir, prefix, (folder) => inside(dir, folder)))
        yield { key, size };
    },
  };
}
