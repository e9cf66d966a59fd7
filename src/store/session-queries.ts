import { and, eq, gt, isNull, lte } from 'drizzle-orm';
import type { Db } from './db';
import { apiKeys, consoleSessions, projects } from './schema/projects';

export type NewSessionRow = typeof consoleSessions.$inferInsert;

export interface SessionRow {
  csrfToken: string;
  expiresAt: number;
  keyId: string;
  keyName: string;
  projectId: string;
  domainId: string;
  role: (typeof apiKeys.$inferSelect)['role'];
}

export async function insertSession(db: Db, row: NewSessionRow): Promise<void> {
  await db.insert(consoleSessions).values(row);
}

/**
 * The live session with this id hash: not expired, and its key not revoked (the join on an
 * active key is what ends every session of a key the moment it is revoked).
 */
export async function findLiveSession(db: Db, idHash: string, now: number): Promise<SessionRow | undefined> {
  const [row] = await db
    .select({
      csrfToken: consoleSessions.csrfToken,
      expiresAt: consoleSessions.expiresAt,
      keyId: apiKeys.id,
      keyName: apiKeys.name,
      projectId: apiKeys.projectId,
      domainId: projects.domainId,
      role: apiKeys.role,
    })
    .from(consoleSessions)
    .innerJoin(apiKeys, eq(apiKeys.id, consoleSessions.keyId))
    .innerJoin(projects, eq(projects.id, apiKeys.projectId))
    .where(
      and(
        eq(consoleSessions.idHash, idHash),
        gt(consoleSessions.expiresAt, now),
        isNull(apiKeys.revokedAt),
        eq(consoleSessions.projectId, apiKeys.projectId),
      ),
    )
    .limit(1);
  return row;
}

export async function deleteSession(db: Db, idHash: string): Promise<void> {
  await db.delete(consoleSessions).where(eq(consoleSessions.idHash, idHash));
}

export async function deleteExpiredSessions(db: Db, now: number): Promise<void> {
  await db.delete(consoleSessions).where(lte(consoleSessions.expiresAt, now));
}
