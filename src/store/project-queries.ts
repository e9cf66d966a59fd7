import { and, eq, isNull } from 'drizzle-orm';
import type { Db } from './db';
import { apiKeys, projects, trackers } from './schema';

type ProjectRow = typeof projects.$inferSelect;
type ApiKeyInsert = typeof apiKeys.$inferInsert;

/** Inserts a project's first tracker (in the project's shard); nothing when it exists. */
export async function insertFirstTracker(db: Db, tracker: typeof trackers.$inferInsert): Promise<void> {
  await db.insert(trackers).values(tracker).onConflictDoNothing();
}

export async function findProject(db: Db, id: string): Promise<ProjectRow | undefined> {
  return db.query.projects.findFirst({ where: eq(projects.id, id) });
}

export async function selectProjects(db: Db): Promise<ProjectRow[]> {
  return db.select().from(projects).orderBy(projects.createdAt);
}

export async function insertApiKey(db: Db, key: ApiKeyInsert): Promise<void> {
  await db.insert(apiKeys).values(key);
}

export async function selectApiKeys(db: Db, projectId: string) {
  return db
    .select({
      id: apiKeys.id,
      role: apiKeys.role,
      name: apiKeys.name,
      createdAt: apiKeys.createdAt,
      revokedAt: apiKeys.revokedAt,
    })
    .from(apiKeys)
    .where(eq(apiKeys.projectId, projectId))
    .orderBy(apiKeys.createdAt);
}

/** Marks an active key revoked; false when the project has no such active key. */
export async function markApiKeyRevoked(
  db: Db,
  projectId: string,
  keyId: string,
  at: number,
): Promise<boolean> {
  const revoked = await db
    .update(apiKeys)
    .set({ revokedAt: at })
    .where(and(eq(apiKeys.id, keyId), eq(apiKeys.projectId, projectId), isNull(apiKeys.revokedAt)))
    .returning({ id: apiKeys.id });
  return revoked.length > 0;
}

const principalColumns = {
  keyId: apiKeys.id,
  keyName: apiKeys.name,
  projectId: apiKeys.projectId,
  role: apiKeys.role,
  domainId: projects.domainId,
};

/** The active key with this id (AK/SK requests name it), with its project's domain. */
export async function findActiveKeyById(db: Db, keyId: string) {
  const [row] = await db
    .select(principalColumns)
    .from(apiKeys)
    .innerJoin(projects, eq(projects.id, apiKeys.projectId))
    .where(and(eq(apiKeys.id, keyId), isNull(apiKeys.revokedAt)))
    .limit(1);
  return row;
}

/** The active key with this hash, with its project's domain. */
export async function findActiveKeyByHash(db: Db, keyHash: string) {
  const [row] = await db
    .select(principalColumns)
    .from(apiKeys)
    .innerJoin(projects, eq(projects.id, apiKeys.projectId))
    .where(and(eq(apiKeys.keyHash, keyHash), isNull(apiKeys.revokedAt)))
    .limit(1);
  return row;
}
