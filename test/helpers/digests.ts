import { and, eq } from 'drizzle-orm';
import { sha256Hex } from '../../src/domain/crypto';
import type { Deps } from '../../src/domain/deps';
import { trackers, transferredFiles } from '../../src/store/schema';
import type { DigestDocument } from '../../src/transfer/digest';
import { fileTime, gunzipBytes, gzipBytes } from '../../src/transfer/digest';

export const BUCKET = 'trace-archive';

/** Turns transfer to BUCKET and verification on (or changes them) for a project's `system` tracker. */
export async function configureTracker(
  deps: Deps,
  projectId: string,
  patch: Partial<typeof trackers.$inferInsert> = {},
): Promise<void> {
  if (!(await deps.buckets.exists(patch.bucketName ?? BUCKET)))
    await deps.buckets.create(patch.bucketName ?? BUCKET);
  await deps.db
    .update(trackers)
    .set({ bucketName: BUCKET, isSupportValidate: true, status: 'enabled', ...patch })
    .where(and(eq(trackers.projectId, projectId), eq(trackers.trackerName, 'system')));
}

let fileCounter = 0;

/**
 * Stands in for the transfer job: writes a gzip trace file named like transfer names them and
 * records it in `transferred_files`, uploaded at `uploadedAt`.
 */
export async function putTraceFile(
  deps: Deps,
  projectId: string,
  uploadedAt: number,
  options: { bucket?: string; service?: string; traces?: unknown[] } = {},
): Promise<{ key: string; body: Uint8Array }> {
  const bucket = options.bucket ?? BUCKET;
  const service = options.service ?? 'ECS';
  const d = new Date(uploadedAt);
  const suffix = (++fileCounter).toString(16).padStart(16, '0');
  const key =
    `CloudTraces/${deps.config.CTS_REGION}/${d.getUTCFullYear()}/${d.getUTCMonth() + 1}/${d.getUTCDate()}/system/${service}/` +
    `CloudTrace_${deps.config.CTS_REGION}-${projectId}_${fileTime(uploadedAt)}_${suffix}.json.gz`;
  const traces = options.traces ?? [
    { trace_id: `t-${suffix}`, time: uploadedAt - 1000, service_type: service },
  ];
  const body = await gzipBytes(new TextEncoder().encode(JSON.stringify(traces)));
  await deps.buckets.bucket(bucket).put(key, body, { contentType: 'application/gzip' });
  await deps.db.insert(transferredFiles).values({
    projectId,
    trackerName: 'system',
    bucket,
    objectKey: key,
    serviceType: service,
    sha256: await sha256Hex(body),
    size: body.byteLength,
    traceCount: traces.length,
    firstSeq: fileCounter,
    lastSeq: fileCounter,
    oldestTime: uploadedAt - 1000,
    newestTime: uploadedAt - 1000,
    uploadedAt,
  });
  return { key, body };
}

/** Every digest object of a bucket, oldest first, decoded. */
export async function readDigests(
  deps: Deps,
  bucket = BUCKET,
): Promise<Array<{ key: string; doc: DigestDocument; body: Uint8Array; metadata: Record<string, string> }>> {
  const out = [];
  for await (const { key } of deps.buckets.bucket(bucket).list('CloudTraces/')) {
    if (!key.includes('/Digest/') || key.endsWith('.sig')) continue;
    const object = (await deps.buckets.bucket(bucket).get(key))!;
    const doc = JSON.parse(new TextDecoder().decode(await gunzipBytes(object.body))) as DigestDocument;
    out.push({ key, doc, body: object.body, metadata: object.metadata });
  }
  return out.sort((a, b) => a.doc.digest_end_time.localeCompare(b.doc.digest_end_time));
}
