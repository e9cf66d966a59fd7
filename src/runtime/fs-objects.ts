import type { Dirent } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';

/** A path that exists but holds no object's bytes (a folder, a FIFO, a socket). */
export class NotAnObjectError extends Error {
  override name = 'NotAnObjectError';
}

/**
 * The bytes of the object stored at `path`, or null when there is none. Anything else in its
 * place is an error, not a read: a folder (`EISDIR`) or a FIFO (which would block for ever).
 */
export async function readObjectFile(path: string): Promise<Buffer | null> {
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  if (!info.isFile())
    throw new NotAnObjectError(info.isDirectory() ? 'a folder, not a file' : 'not a regular file');
  return readFile(path);
}

/**
 * The keys under `prefix` of a bucket kept as a folder tree at `root`, in key order. Besides
 * files, it lists whatever else sits where an object could be — empty folders, links, FIFOs —
 * so that a verifier sees every name (a folder put in place of a file is a finding, not a gap).
 * `skip` leaves out the store's own bookkeeping (temporary files of writes in progress).
 */
export async function listFolderKeys(
  root: string,
  prefix: string,
  resolveFolder: (folder: string) => string,
  skip: (name: string) => boolean = () => false,
): Promise<Array<{ key: string; path: string; size: number }>> {
  const folder = prefix.includes('/') ? prefix.slice(0, prefix.lastIndexOf('/')) : '';
  let entries: Dirent[] = [];
  try {
    entries = await readdir(folder ? resolveFolder(folder) : root, { recursive: true, withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const parents = new Set(entries.map((entry) => entry.parentPath));
  const objects: Array<{ key: string; path: string; size: number }> = [];
  for (const entry of entries) {
    const path = join(entry.parentPath, entry.name);
    // A folder with something inside is only part of the names below it.
    if (entry.isDirectory() && parents.has(path)) continue;
    if (entry.isFile() && skip(entry.name)) continue;
    const key = relative(root, path).split(sep).join('/');
    if (!key.startsWith(prefix)) continue;
    let size = 0;
    if (entry.isFile()) size = (await stat(path).catch(() => ({ size: 0 }))).size;
    objects.push({ key, path, size });
  }
  return objects.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}
