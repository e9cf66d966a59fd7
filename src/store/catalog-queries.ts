import { and, asc, eq, gte, isNotNull, sql } from 'drizzle-orm';
import type { Db } from './db';
import { traces } from './schema/traces';

/**
 * What a project's stored traces contain, for the SDK's listing operations (ListOperations,
 * ListUserResources, ListTraceResources). Each reads the traces of `since` and later of one
 * project through its time index: a scan of the window, bounded by what the database keeps.
 */

/** Distinct (service, resource type, trace name), sorted. */
export async function selectOperations(
  db: Db,
  projectId: string,
  since: number,
  filter: { serviceType?: string; resourceType?: string },
): Promise<Array<{ serviceType: string; resourceType: string; traceName: string }>> {
  const conditions = [eq(traces.projectId, projectId), gte(traces.time, since)];
  if (filter.serviceType !== undefined) conditions.push(eq(traces.serviceType, filter.serviceType));
  if (filter.resourceType !== undefined) conditions.push(eq(traces.resourceType, filter.resourceType));
  return db
    .selectDistinct({
      serviceType: traces.serviceType,
      resourceType: traces.resourceType,
      traceName: traces.traceName,
    })
    .from(traces)
    .where(and(...conditions))
    .orderBy(asc(traces.serviceType), asc(traces.resourceType), asc(traces.traceName));
}

/** Distinct `user.name`s, sorted. */
export async function selectUserNames(db: Db, projectId: string, since: number): Promise<string[]> {
  const rows = await db
    .selectDistinct({ name: sql<string>`${traces.userName}` })
    .from(traces)
    .where(and(eq(traces.projectId, projectId), gte(traces.time, since), isNotNull(traces.userName)))
    .orderBy(asc(traces.userName));
  return rows.map((row) => row.name);
}

/** Distinct (service, resource type), sorted. */
export async function selectResourceTypes(
  db: Db,
  projectId: string,
  since: number,
): Promise<Array<{ serviceType: string; resourceType: string }>> {
  return db
    .selectDistinct({ serviceType: traces.serviceType, resourceType: traces.resourceType })
    .from(traces)
    .where(and(eq(traces.projectId, projectId), gte(traces.time, since)))
    .orderBy(asc(traces.serviceType), asc(traces.resourceType));
}
