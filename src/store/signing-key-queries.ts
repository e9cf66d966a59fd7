import { and, asc, desc, eq, isNotNull, isNull, ne } from 'drizzle-orm';
import type { Db } from './db';
import { signingKeys } from './schema/trackers';

export type SigningKeyRow = typeof signingKeys.$inferSelect;

export async function findSigningKey(db: Db, fingerprint: string): Promise<SigningKeyRow | undefined> {
  const [row] = await db.select().from(signingKeys).where(eq(signingKeys.fingerprint, fingerprint)).limit(1);
  return row;
}

/** The newest active key the service generated itself (it holds the private key). */
export async function findActiveStoredKey(db: Db): Promise<SigningKeyRow | undefined> {
  const [row] = await db
    .select()
    .from(signingKeys)
    .where(and(isNull(signingKeys.retiredAt), isNotNull(signingKeys.privateKeyPem)))
    .orderBy(desc(signingKeys.createdAt), asc(signingKeys.fingerprint))
    .limit(1);
  return row;
}

/**
 * Makes `row` the one active key: inserts it (or re-activates it) and retires every other
 * active key, in one atomic batch.
 */
export async function activateSigningKey(db: Db, row: SigningKeyRow, now: number): Promise<void> {
  await db.batch([
    db
      .insert(signingKeys)
      .values(row)
      .onConflictDoUpdate({ target: signingKeys.fingerprint, set: { retiredAt: null } }),
    db
      .update(signingKeys)
      .set({ retiredAt: now })
      .where(and(ne(signingKeys.fingerprint, row.fingerprint), isNull(signingKeys.retiredAt))),
  ]);
}

/** Every key ever used, oldest first (retired ones stay published: old digests name them). */
export async function listSigningKeys(db: Db): Promise<SigningKeyRow[]> {
  return db.select().from(signingKeys).orderBy(asc(signingKeys.createdAt), asc(signingKeys.fingerprint));
}
