import { asc, count, eq, sql } from 'drizzle-orm';
import type { Db } from './db';
import { placements, projects, shards } from './schema';

export type ShardRow = typeof shards.$inferSelect;

export async function selectShards(db: Db): Promise<ShardRow[]> {
  return db.select().from(shards).orderBy(asc(shards.createdAt), asc(shards.id));
}

/** Registers a shard; false when the id is taken. */
export async function insertShard(db: Db, row: ShardRow): Promise<boolean> {
  const inserted = await db.insert(shards).values(row).onConflictDoNothing().returning({ id: shards.id });
  return inserted.length > 0;
}

/** The shard a project was placed on; undefined: none (it lives in the control database). */
export async function findPlacement(db: Db, projectId: string): Promise<string | undefined> {
  const [row] = await db
    .select({ shardId: placements.shardId })
    .from(placements)
    .where(eq(placements.projectId, projectId))
    .limit(1);
  return row?.shardId;
}

/** Projects placed on each shard (projects without a placement are the control database's). */
export async function countPlacements(db: Db): Promise<Map<string, number>> {
  const rows = await db
    .select({ shardId: placements.shardId, projects: count() })
    .from(placements)
    .groupBy(placements.shardId);
  return new Map(rows.map((row) => [row.shardId, row.projects]));
}

export async function countProjects(db: Db): Promise<number> {
  const [row] = await db.select({ projects: count() }).from(projects);
  return row?.projects ?? 0;
}

/**
 * Inserts a project and, when `shardId` is given, its placement, in one transaction; false when
 * the id is taken (then nothing is written: the placement is inserted only for a new project).
 */
export async function insertProjectPlaced(
  db: Db,
  project: typeof projects.$inferInsert,
  shardId: string | undefined,
): Promise<boolean> {
  const insertProject = db
    .insert(projects)
    .values(project)
    .onConflictDoNothing()
    .returning({ id: projects.id });
  if (shardId === undefined) return (await insertProject).length > 0;
  const [, inserted] = await db.batch([
    db.run(sql`insert into ${placements} (project_id, shard_id, created_at)
      select ${project.id}, ${shardId}, ${project.createdAt}
      where not exists (select 1 from ${projects} where ${projects.id} = ${project.id})
      on conflict do nothing`),
    insertProject,
  ]);
  return inserted.length > 0;
}
