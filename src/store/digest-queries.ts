import { and, asc, desc, eq, gte, inArray, isNotNull, isNull, lt, ne, or, sql } from 'drizzle-orm';
import type { BatchItem } from 'drizzle-orm/batch';
import type { Db } from './db';
import { digestLeases, digests, trackers, transferredFiles } from './schema/trackers';

export type TrackerRow = typeof trackers.$inferSelect;
export type DigestRow = typeof digests.$inferSelect;
export type TransferredFileRow = typeof transferredFiles.$inferSelect;

/** Trackers with a digest chain running, or that should start one. */
export async function digestCandidates(db: Db): Promise<TrackerRow[]> {
  return db
    .select()
    .from(trackers)
    .where(
      or(
        isNotNull(trackers.digestWindowStart),
        and(
          eq(trackers.isSupportValidate, true),
          isNotNull(trackers.bucketName),
          ne(trackers.status, 'disabled'),
        ),
      ),
    )
    .orderBy(asc(trackers.projectId), asc(trackers.trackerName));
}

/**
 * Open chains (newest digest not an ending one) whose tracker is gone — deleted, or deleted
 * and created again with a fresh chain. They still need their ending digest.
 */
export async function orphanedChainHeads(db: Db): Promise<DigestRow[]> {
  const rows = await db
    .select({ digest: digests })
    .from(digests)
    .leftJoin(
      trackers,
      and(eq(trackers.projectId, digests.projectId), eq(trackers.trackerName, digests.trackerName)),
    )
    .where(
      and(
        eq(digests.isHead, true),
        eq(digests.isEnd, false),
        or(isNull(trackers.id), sql`${trackers.lastDigestKey} IS NOT ${digests.objectKey}`),
      ),
    );
  return rows.map((row) => row.digest);
}

/** Files of a tracker in `bucket` uploaded in [from, before) that no digest covers yet, oldest first. */
export async function uncoveredFiles(
  db: Db,
  where: { projectId: string; trackerName: string; bucket: string; from: number; before: number },
): Promise<TransferredFileRow[]> {
  return db
    .select()
    .from(transferredFiles)
    .where(
      and(
        eq(transferredFiles.projectId, where.projectId),
        eq(transferredFiles.trackerName, where.trackerName),
        isNull(transferredFiles.digestKey),
        gte(transferredFiles.uploadedAt, where.from),
        lt(transferredFiles.uploadedAt, where.before),
        eq(transferredFiles.bucket, where.bucket),
      ),
    )
    .orderBy(asc(transferredFiles.uploadedAt), asc(transferredFiles.id));
}

/** The newest digest of a tracker in a bucket (a new chain there links to it). */
export async function latestDigest(
  db: Db,
  where: { projectId: string; trackerName: string; bucket: string },
): Promise<DigestRow | undefined> {
  const [row] = await db
    .select()
    .from(digests)
    .where(
      and(
        eq(digests.projectId, where.projectId),
        eq(digests.trackerName, where.trackerName),
        eq(digests.bucket, where.bucket),
      ),
    )
    .orderBy(desc(digests.endTime), desc(digests.id))
    .limit(1);
  return row;
}

/** Starts (or restarts) a tracker's chain; `previous` is the digest its first digest links to. */
export async function startChain(
  db: Db,
  trackerId: string,
  chain: { start: number; bucket: string; previous: DigestRow | undefined },
): Promise<void> {
  await db
    .update(trackers)
    .set({
      digestChainStart: chain.start,
      digestWindowStart: chain.start,
      lastDigestBucket: chain.bucket,
      lastDigestKey: chain.previous?.objectKey ?? null,
      lastDigestHash: chain.previous?.sha256 ?? null,
      lastDigestSignature: chain.previous?.signature ?? null,
      lastDigestEnd: chain.previous?.isEnd ?? null,
    })
    .where(eq(trackers.id, trackerId));
}

/** Lets a tracker's chain go without an ending digest (its bucket is gone). */
export async function abandonChain(db: Db, trackerId: string): Promise<void> {
  await db
    .update(trackers)
    .set({ digestWindowStart: null, digestChainStart: null })
    .where(eq(trackers.id, trackerId));
}

/** Stops treating a digest as an open chain head (an orphaned chain whose bucket is gone). */
export async function closeHead(db: Db, digestId: number): Promise<void> {
  await db.update(digests).set({ isHead: false }).where(eq(digests.id, digestId));
}

// One bound parameter per id; stay far below SQLite's limit.
const ID_CHUNK = 500;

/**
 * Records a written digest atomically: the digest row (the new head of its tracker), the files
 * it covers, and the tracker's chain state (ended when `digest.isEnd`). `trackerId` is absent
 * for an orphaned chain.
 */
export async function recordDigest(
  db: Db,
  digest: Omit<typeof digests.$inferInsert, 'id' | 'isHead'>,
  fileIds: number[],
  trackerId: string | undefined,
): Promise<void> {
  const statements: BatchItem<'sqlite'>[] = [
    db
      .update(digests)
      .set({ isHead: false })
      .where(
        and(
          eq(digests.projectId, digest.projectId),
          eq(digests.trackerName, digest.trackerName),
          eq(digests.isHead, true),
        ),
      ),
    db.insert(digests).values({ ...digest, isHead: true }),
  ];
  for (let i = 0; i < fileIds.length; i += ID_CHUNK) {
    statements.push(
      db
        .update(transferredFiles)
        .set({ digestKey: digest.objectKey })
        .where(inArray(transferredFiles.id, fileIds.slice(i, i + ID_CHUNK))),
    );
  }
  if (trackerId !== undefined) {
    statements.push(
      db
        .update(trackers)
        .set({
          digestWindowStart: digest.isEnd ? null : digest.endTime,
          digestChainStart: digest.isEnd ? null : sql`${trackers.digestChainStart}`,
          lastDigestBucket: digest.bucket,
          lastDigestKey: digest.objectKey,
          lastDigestHash: digest.sha256,
          lastDigestSignature: digest.signature,
          lastDigestEnd: digest.isEnd,
        })
        .where(eq(trackers.id, trackerId)),
    );
  }
  await db.batch(statements as [BatchItem<'sqlite'>, ...BatchItem<'sqlite'>[]]);
}

type LeaseOf = { projectId: string; trackerName: string };

/**
 * Takes (or renews) the digest lease of a tracker for `holder` until `until`: true when it is
 * now held by `holder`, false when another holder's lease has not expired. One statement, so two
 * runs racing for it cannot both win.
 */
export async function acquireDigestLease(
  db: Db,
  of: LeaseOf,
  holder: string,
  now: number,
  until: number,
): Promise<boolean> {
  const result = await db
    .insert(digestLeases)
    .values({ ...of, holder, expiresAt: until })
    .onConflictDoUpdate({
      target: [digestLeases.projectId, digestLeases.trackerName],
      set: { holder, expiresAt: until },
      setWhere: or(lt(digestLeases.expiresAt, now + 1), eq(digestLeases.holder, holder)),
    });
  return result.rowsAffected === 1;
}

/** Gives a lease back (only if `holder` still holds it). */
export async function releaseDigestLease(db: Db, of: LeaseOf, holder: string): Promise<void> {
  await db
    .delete(digestLeases)
    .where(
      and(
        eq(digestLeases.projectId, of.projectId),
        eq(digestLeases.trackerName, of.trackerName),
        eq(digestLeases.holder, holder),
      ),
    );
}

/** A tracker's row as it is now (a run re-reads it once it holds the lease). */
export async function trackerById(db: Db, id: string): Promise<TrackerRow | undefined> {
  const [row] = await db.select().from(trackers).where(eq(trackers.id, id));
  return row;
}

/** Whether a digest is still an open chain head (another run may have ended it meanwhile). */
export async function isOpenHead(db: Db, digestId: number): Promise<boolean> {
  const [row] = await db
    .select({ id: digests.id })
    .from(digests)
    .where(and(eq(digests.id, digestId), eq(digests.isHead, true), eq(digests.isEnd, false)));
  return row !== undefined;
}
