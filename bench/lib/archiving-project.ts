/** The archive benchmarks' start: a project whose system tracker archives, with digests. */
import { eq } from 'drizzle-orm';
import { parseConfig } from '../../src/config';
import { createProject } from '../../src/domain/projects/projects';
import { runDigests } from '../../src/jobs/digests';
import { buildNodeDeps } from '../../src/runtime/node';
import { trackers } from '../../src/store/schema';
import { traceFileKey } from '../../src/transfer/trace-file';
import { silentLogger } from '../../test/helpers/app';

/**
 * The Node deps for `settings`, one project whose `system` tracker transfers to the new bucket
 * `bucketName` with digests enabled, and the first digest run as of `start` (the chain begins).
 */
export async function archivingProject(settings: Record<string, string>, bucketName: string, start: number) {
  const deps = await buildNodeDeps(parseConfig(settings), { logger: silentLogger });
  const project = await createProject(deps, {});
  await deps.buckets.create(bucketName);
  await deps.db
    .update(trackers)
    .set({ bucketName, isSupportValidate: true })
    .where(eq(trackers.projectId, project.id));
  await runDigests(deps, { now: start });
  return { deps, project, bucket: deps.buckets.bucket(bucketName) };
}

/** The object key of a gzipped trace file of `projectId`'s `system` tracker (service ECS, no prefix). */
export function systemFileKey(region: string, projectId: string, uploadedAt: number, suffix: string): string {
  return traceFileKey({
    region,
    projectId,
    trackerName: 'system',
    serviceType: 'ECS',
    filePrefix: '',
    compress: true,
    uploadedAt,
    suffix,
  });
}
