import { sql } from 'drizzle-orm';
import type { Db } from './db';
import { projects } from './schema/projects';

export async function selectProjectIds(db: Db): Promise<string[]> {
  const rows = await db.select({ id: projects.id }).from(projects).orderBy(projects.id);
  return rows.map((row) => row.id);
}

/**
 * Deletes up to `limit` of a project's traces older than `cutoff` (by `time`, oldest first) that no
 * transferring tracker still needs: a trace whose tracker is enabled (or in error) with a bucket
 * stays until that tracker's cursor has passed it. Returns how many were deleted.
 */
export async function deleteExpiredTraces(
  db: Db,
  projectId: string,
  cutoff: number,
  limit: number,
): Promise<number> {
  const result = await db.run(sql`
    delete from traces where seq in (
      select x.seq from traces x
      where x.project_id = ${projectId} and x.time < ${cutoff}
        and not exists (
          select 1 from trackers t
          where t.project_id = x.project_id and t.tracker_name = x.tracker_name
            and t.status <> 'disabled' and t.bucket_name is not null
            and x.seq > t.transfer_cursor)
      order by x.time
      limit ${limit})`);
  return result.rowsAffected;
}
