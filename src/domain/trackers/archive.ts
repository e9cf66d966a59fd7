import {
  selectTransferredFile,
  selectTransferredFiles,
  summarizeTransferredFiles,
  type TransferredFileRow,
} from '../../store/transfer-queries';
import { BucketError, type StoredObject } from '../../transfer/bucket';
import type { Deps } from '../deps';
import { badField, CtsError } from '../errors';

/** A trace file a tracker wrote to its bucket (one row of `transferred_files`). */
export interface ArchivedFile {
  /** Row id: pass it to `readArchivedFile`, or as `before` for the next page. */
  id: number;
  bucket: string;
  objectKey: string;
  /** File name (last path segment of the key). */
  name: string;
  /** Service directory of the file; null when the tracker does not sort by service. */
  serviceType: string | null;
  /** Bytes stored, and their SHA-256 (hex). */
  size: number;
  sha256: string;
  traceCount: number;
  /** Range of the traces' `time` in the file (epoch ms). */
  oldestTime: number;
  newestTime: number;
  uploadedAt: number;
  compressed: boolean;
}

export interface ArchiveDay {
  /** UTC day of upload, `YYYY-MM-DD` (the `{yyyy}/{m}/{d}` folder of the keys). */
  day: string;
  serviceType: string | null;
  files: number;
  traces: number;
  bytes: number;
}

const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;
const DAY_MS = 86_400_000;

function toArchivedFile(row: TransferredFileRow): ArchivedFile {
  return {
    id: row.id,
    bucket: row.bucket,
    objectKey: row.objectKey,
    name: row.objectKey.slice(row.objectKey.lastIndexOf('/') + 1),
    serviceType: row.serviceType,
    size: row.size,
    sha256: row.sha256,
    traceCount: row.traceCount,
    oldestTime: row.oldestTime,
    newestTime: row.newestTime,
    uploadedAt: row.uploadedAt,
    compressed: row.objectKey.endsWith('.gz'),
  };
}

/** Days (and services within them) that a tracker archived, newest day first, with totals. */
export async function listArchiveDays(
  deps: Pick<Deps, 'db'>,
  projectId: string,
  trackerName: string,
): Promise<ArchiveDay[]> {
  return summarizeTransferredFiles(deps.db, projectId, trackerName);
}

/**
 * Files a tracker archived, newest first: optionally of one UTC upload day (`YYYY-MM-DD`) and one
 * service; `limit` (1-1000, default 100) per page, `before` = the last file's id for the next page.
 */
export async function listArchivedFiles(
  deps: Pick<Deps, 'db'>,
  projectId: string,
  trackerName: string,
  options: { day?: string; serviceType?: string; limit?: number; before?: number } = {},
): Promise<ArchivedFile[]> {
  let from: number | undefined;
  if (options.day !== undefined) {
    const match = DAY.exec(options.day);
    from = match ? Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3])) : Number.NaN;
    if (Number.isNaN(from)) throw badField('day', 'must be a date YYYY-MM-DD');
  }
  const limit = Math.min(Math.max(Math.trunc(options.limit ?? 100), 1), 1000);
  const rows = await selectTransferredFiles(
    deps.db,
    {
      projectId,
      trackerName,
      from,
      to: from === undefined ? undefined : from + DAY_MS,
      serviceType: options.serviceType,
      beforeId: options.before,
    },
    limit,
  );
  return rows.map(toArchivedFile);
}

/**
 * One archived file's bytes for download (exactly as stored: gzip when `compressed`). Throws 404
 * when the id is not the project's or the object is gone, 503 when the bucket is unreachable.
 */
export async function readArchivedFile(
  deps: Pick<Deps, 'db' | 'buckets'>,
  projectId: string,
  fileId: number,
): Promise<{ file: ArchivedFile; body: Uint8Array; contentType: string }> {
  const row = await selectTransferredFile(deps.db, projectId, fileId);
  if (!row) throw new CtsError(404, 'CTS.0005', 'No such archived file.');
  const file = toArchivedFile(row);
  let object: StoredObject | null;
  try {
    object = await deps.buckets.bucket(row.bucket).get(row.objectKey);
  } catch (error) {
    if (error instanceof BucketError && error.failure === 'noBucket') object = null;
    else if (error instanceof BucketError)
      throw new CtsError(503, 'CTS.0001', 'The IAM or OBS service is abnormal.');
    else throw error;
  }
  if (!object)
    throw new CtsError(404, 'CTS.0005', `The file ${row.objectKey} is no longer in bucket ${row.bucket}.`);
  return {
    file,
    body: object.body,
    contentType: object.contentType ?? (file.compressed ? 'application/gzip' : 'application/json'),
  };
}
