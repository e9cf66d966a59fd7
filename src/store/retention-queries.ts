import { sql } from 'drizzle-orm';
import type { Db } from './db';
import { traces } from './schema/traces';

/**
 * The projects that have traces in this database (a shard holds no `projects` rows), in id order:
 * one index seek per project (`traces_project_time` leads with `project_id`), not a table scan.
 */
export async function selectProjectIds(db: Db): Promise<string[]> {
  const rows = await db.all<{ id: string }>(sql`
    with recursive p(id) as (
      select min(${traces.projectId}) from ${traces}
      union all
      select (select min(${traces.projectId}) from ${traces} where ${traces.projectId} > p.id) from p
      where p.id is not null
    )
    select id from p where id is not null`);
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
