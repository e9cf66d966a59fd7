import { sha256Hex } from '../domain/crypto';
import type { Deps } from '../domain/deps';
import type { TrackerRow } from '../store/tracker-queries';
import {
  isFileRecorded,
  moveCursor,
  recordTransferredFile,
  traceJsonReader,
} from '../store/transfer-queries';
import { type Bucket, BucketError } from '../transfer/bucket';
import { fileSuffix, TraceFileBuilder, traceFileKey } from '../transfer/trace-file';

export type TransferDeps = Pick<Deps, 'db' | 'buckets' | 'config' | 'logger'>;

/** About 50 MB of JSON per file at most (reference §7.3 batching; one PutObject). */
export const MAX_FILE_BYTES = 50 * 1024 * 1024;
/**
 * Traces read from the database per query (about 110 KB of JSON, a millisecond or two). The
 * embedded driver reads synchronously and the compressors get their next input only between turns
 * of the event loop, so small reads keep them busy; they also keep each read's text out of V8's
 * large-object space (measured with `npm run bench transfer`: 250 took 15 MB more memory).
 */
const READ_CHUNK = 100;
/** Uncompressed JSON held in a page's open (unfinished) files before the largest is written early. */
const MAX_OPEN_BYTES = 64 * 1024 * 1024;
/** Files compressed and uploaded concurrently while the page is read on. */
const MAX_IN_FLIGHT = 2;

/**
 * Lets the I/O callbacks already due run (`setImmediate`: Node, Bun). There the compressors work
 * on other threads and queue their next input only from a callback on this one, which the
 * synchronous reads would otherwise hold off until the page is read. Elsewhere compression runs
 * inline and a timer would only add delay.
 */
const letCallbacksRun: () => Promise<void> | undefined =
  typeof globalThis.setImmediate === 'function'
    ? () => new Promise((resolve) => globalThis.setImmediate(resolve))
    : () => undefined;

interface FileGroup {
  builder: TraceFileBuilder;
  serviceType?: string;
  firstSeq: number;
  lastSeq: number;
  oldestTime: number;
  newestTime: number;
}

export interface PageContext {
  deps: TransferDeps;
  tracker: TrackerRow;
  bucket: Bucket;
  /** The file names' upload time (the page plan's). */
  namedAt: number;
  now: number;
}

interface WrittenFile {
  record: Parameters<typeof recordTransferredFile>[1];
  skipped: boolean;
}

/** Finishes a file, uploads it unless already recorded, and returns the row to record. */
async function writeFile(ctx: PageContext, group: FileGroup): Promise<WrittenFile> {
  const { tracker } = ctx;
  const body = await group.builder.finish();
  const objectKey = traceFileKey({
    region: ctx.deps.config.CTS_REGION,
    projectId: tracker.projectId,
    trackerName: tracker.trackerName,
    serviceType: group.serviceType,
    filePrefix: tracker.filePrefixName,
    compress: tracker.compressType === 'gzip',
    uploadedAt: ctx.namedAt,
    suffix: await fileSuffix(tracker.projectId, tracker.trackerName, group.firstSeq, group.lastSeq),
  });
  const record = {
    projectId: tracker.projectId,
    trackerName: tracker.trackerName,
    bucket: ctx.bucket.name,
    objectKey,
    serviceType: group.serviceType ?? null,
    sha256: await sha256Hex(body),
    size: body.byteLength,
    traceCount: group.builder.count,
    firstSeq: group.firstSeq,
    lastSeq: group.lastSeq,
    oldestTime: group.oldestTime,
    newestTime: group.newestTime,
    uploadedAt: ctx.now,
  };
  // A retry of a page after a crash: files already recorded are in the bucket already.
  if (await isFileRecorded(ctx.deps.db, ctx.bucket.name, objectKey)) return { record, skipped: true };
  try {
    await ctx.bucket.put(objectKey, body, {
      contentType: objectKey.endsWith('.gz') ? 'application/gzip' : 'application/json',
    });
  } catch (error) {
    throw error instanceof BucketError
      ? error
      : new BucketError('unavailable', `Upload of ${objectKey} failed: ${String(error)}`, { cause: error });
  }
  return { record, skipped: false };
}

/**
 * Writes the page (cursor, end] as files — one per service when sorting by service, split at the
 * per-file limits — and then moves the cursor to `end` in the same batch that records the last file.
 * File boundaries depend only on the page's traces, so a retried page yields the same files.
 */
export async function transferPage(
  ctx: PageContext,
  cursor: number,
  end: number,
): Promise<{ files: number; traces: number; bytes: number }> {
  const { deps, tracker } = ctx;
  const maxPerFile = deps.config.CTS_TRANSFER_MAX_TRACES_PER_FILE;
  const compress = tracker.compressType === 'gzip';
  const sortByService = tracker.isSortByService;
  const groups = new Map<string, FileGroup>();
  const inFlight: Array<Promise<WrittenFile>> = [];
  const move = { trackerId: tracker.id, from: cursor, to: end, at: ctx.now };
  let openBytes = 0;
  let traces = 0;
  let files = 0;
  let bytes = 0;
  // Each uploaded file is recorded when the next one is done; the last is held back to be
  // recorded in the same batch that moves the cursor.
  let held: WrittenFile | undefined;
  const complete = async (file: WrittenFile) => {
    if (file.skipped) return;
    if (held) await recordTransferredFile(deps.db, held.record);
    held = file;
    files++;
    bytes += file.record.size;
  };
  const launch = async (key: string) => {
    const group = groups.get(key)!;
    groups.delete(key);
    openBytes -= group.builder.bytes;
    const write = writeFile(ctx, group);
    // Awaited in order below; a later file failing first must not count as unhandled meanwhile.
    write.catch(() => {});
    inFlight.push(write);
    if (inFlight.length >= MAX_IN_FLIGHT) await complete(await inFlight.shift()!);
  };

  try {
    const read = traceJsonReader(
      deps.db,
      {
        projectId: tracker.projectId,
        trackerName: tracker.trackerName,
        toSeq: end,
        excludeServices: tracker.excludeServices,
      },
      READ_CHUNK,
    );
    for (let after = cursor; ; ) {
      const rows = await read(after);
      if (rows.length === 0) break;
      for (const row of rows) {
        const key = sortByService ? row.serviceType : '';
        let group = groups.get(key);
        if (!group) {
          group = {
            builder: new TraceFileBuilder(compress),
            serviceType: sortByService ? row.serviceType : undefined,
            firstSeq: row.seq,
            lastSeq: row.seq,
            oldestTime: row.time,
            newestTime: row.time,
          };
          groups.set(key, group);
        }
        const before = group.builder.bytes;
        const behind = group.builder.add(row.json);
        if (behind) await behind;
        openBytes += group.builder.bytes - before;
        group.lastSeq = row.seq;
        group.oldestTime = Math.min(group.oldestTime, row.time);
        group.newestTime = Math.max(group.newestTime, row.time);
        traces++;
        if (group.builder.count >= maxPerFile || group.builder.bytes >= MAX_FILE_BYTES) await launch(key);
        else if (openBytes >= MAX_OPEN_BYTES) await launch(largestGroup(groups));
      }
      after = rows.at(-1)!.seq;
      await letCallbacksRun();
    }
    for (const key of [...groups.keys()]) await launch(key);
    while (inFlight.length > 0) await complete(await inFlight.shift()!);
  } catch (error) {
    for (const group of groups.values()) group.builder.abort();
    await Promise.allSettled(inFlight);
    throw error;
  }

  if (held) await recordTransferredFile(deps.db, held.record, move);
  else await moveCursor(deps.db, move);
  return { files, traces, bytes };
}

function largestGroup(groups: Map<string, FileGroup>): string {
  let largest = '';
  let bytes = -1;
  for (const [key, group] of groups) {
    if (group.builder.bytes > bytes) {
      largest = key;
      bytes = group.builder.bytes;
    }
  }
  return largest;
}
