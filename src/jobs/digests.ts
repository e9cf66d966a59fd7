import type { Deps } from '../domain/deps';
import { currentSigner } from '../domain/digests/signing-keys';
import {
  abandonChain,
  acquireDigestLease,
  closeHead,
  type DigestRow,
  digestCandidates,
  isOpenHead,
  latestDigest,
  orphanedChainHeads,
  recordDigest,
  releaseDigestLease,
  startChain,
  type TrackerRow,
  trackerById,
  uncoveredFiles,
} from '../store/digest-queries';
import { BucketError } from '../transfer/bucket';
import {
  buildSignedDigest,
  digestKey,
  floorHour,
  floorSecond,
  HOUR_MS,
  type PreviousDigest,
  prefixOfDigestKey,
  signatureKey,
} from '../transfer/digest';
import type { DigestSigner } from '../transfer/digest-signing';

/** What one run of the digest job did. */
export interface DigestRunSummary {
  written: number;
  /** Ending digests (verification or the tracker turned off, the bucket changed, the tracker deleted). */
  ended: number;
  /** Chains started (verification turned on). */
  started: number;
  /** Trace files newly covered by a digest. */
  filesCovered: number;
  /** Chains still behind after this run (more full hours to write): the next run continues. */
  behind: number;
  /** Trackers left alone because another run holds their digest lease. */
  busy: number;
  failures: Array<{ projectId: string; trackerName: string; error: string }>;
}

/** One digest to write: its window, where it goes and what it links to. */
interface DigestPlan {
  projectId: string;
  trackerName: string;
  bucket: string;
  prefix: string;
  chainStart: number;
  start: number;
  end: number;
  isEnd: boolean;
  previous: PreviousDigest | null;
  /** Absent when the tracker is gone (an orphaned chain). */
  trackerId?: string;
}

/**
 * Ends a chain with its ending digest — unless its bucket is gone (the tracker moved on to another
 * bucket, or was turned off, after the old one was deleted): then no digest can be written there
 * and the chain is let go, or it would block the tracker's new chain forever.
 */
async function endOrAbandon(end: () => Promise<unknown>, abandon: () => Promise<void>): Promise<void> {
  try {
    await end();
  } catch (error) {
    if (!(error instanceof BucketError && error.failure === 'noBucket')) throw error;
    await abandon();
  }
}

/** How long a digest lease lasts unless renewed (each digest written renews it). */
const LEASE_MS = 5 * 60_000;

/** A digest window ends at the next full UTC hour after it starts. */
export const windowEnd = (start: number) => floorHour(start) + HOUR_MS;

const previousOf = (t: TrackerRow): PreviousDigest | null =>
  t.lastDigestKey && t.lastDigestBucket && t.lastDigestHash && t.lastDigestSignature
    ? {
        bucket: t.lastDigestBucket,
        key: t.lastDigestKey,
        sha256: t.lastDigestHash,
        signature: t.lastDigestSignature,
        isEnd: t.lastDigestEnd ?? false,
      }
    : null;

/** Whether a tracker wants a chain: enabled (or in error), verification on, a bucket to write to. */
const wantsChain = (t: TrackerRow) => t.status !== 'disabled' && t.isSupportValidate && !!t.bucketName;

/**
 * Writes the hourly digests (DESIGN §5): for every tracker with verification on, one digest per
 * full UTC hour, covering every transferred file not yet covered — so a file recorded after its
 * hour's digest was written is covered by the next one. Starts a chain when verification is
 * turned on, ends it (`digest_end: true`) when verification or the tracker is turned off, the
 * bucket changes or the tracker is deleted. Catches up missed hours, at most
 * `CTS_DIGESTS_MAX_PER_RUN` digests a run.
 */
export async function runDigests(
  deps: Deps,
  options: { now: number; maxDigests?: number },
): Promise<DigestRunSummary> {
  const now = floorSecond(options.now);
  let budget = options.maxDigests ?? deps.config.CTS_DIGESTS_MAX_PER_RUN;
  const summary: DigestRunSummary = {
    written: 0,
    ended: 0,
    started: 0,
    filesCovered: 0,
    behind: 0,
    busy: 0,
    failures: [],
  };
  const orphans = await orphanedChainHeads(deps.db);
  const candidates = await digestCandidates(deps.db);
  // No key is generated until some tracker turns verification on.
  if (orphans.length === 0 && candidates.length === 0) return summary;
  const signer = await currentSigner(deps);

  const holder = crypto.randomUUID();
  const lease = (plan: { projectId: string; trackerName: string }) => {
    const now = deps.clock();
    return acquireDigestLease(deps.db, plan, holder, now, now + LEASE_MS);
  };
  const write = async (plan: DigestPlan): Promise<PreviousDigest> => {
    // Renewed before every digest: a run that lost its lease (it stalled) must stop writing.
    if (!(await lease(plan))) throw new Error('the digest lease passed to another run');
    const written = await writeDigest(deps, signer, plan);
    budget--;
    summary.written++;
    summary.filesCovered += written.files;
    if (plan.isEnd) summary.ended++;
    return written.link;
  };
  const attempt = async (projectId: string, trackerName: string, work: () => Promise<void>) => {
    const of = { projectId, trackerName };
    if (!(await lease(of))) {
      summary.busy++;
      return;
    }
    try {
      await work();
    } catch (error) {
      // One tracker's bucket failing must not stop the others; the next run retries.
      const message = error instanceof Error ? error.message : String(error);
      summary.failures.push({ projectId, trackerName, error: message });
      deps.logger.warn('digest failed', { projectId, trackerName, error: message });
    } finally {
      await releaseDigestLease(deps.db, of, holder);
    }
  };

  // Trackers whose old chain is still open: a new chain waits until it has ended.
  const pendingOrphans = new Set<string>();
  for (const head of orphans) {
    pendingOrphans.add(`${head.projectId}/${head.trackerName}`);
    if (budget <= 0) continue;
    await attempt(head.projectId, head.trackerName, async () => {
      // Read before the lease was held: another run may have ended it since.
      if (!(await isOpenHead(deps.db, head.id))) return;
      await endOrAbandon(
        () => write(orphanEnding(head, now)),
        () => closeHead(deps.db, head.id),
      );
      pendingOrphans.delete(`${head.projectId}/${head.trackerName}`);
    });
  }
  for (const candidate of candidates) {
    if (budget <= 0) {
      summary.behind++;
      continue;
    }
    await attempt(candidate.projectId, candidate.trackerName, async () => {
      // The row as it is now that this run holds the lease: another run may have written since.
      const tracker = await trackerById(deps.db, candidate.id);
      if (!tracker) return;
      let chainOpen = tracker.digestWindowStart !== null;
      if (chainOpen && (!wantsChain(tracker) || tracker.bucketName !== tracker.lastDigestBucket)) {
        await endOrAbandon(
          () => write(endingPlan(tracker, now)),
          () => abandonChain(deps.db, tracker.id),
        );
        chainOpen = false;
      } else if (chainOpen) {
        let start = tracker.digestWindowStart!;
        let previous = previousOf(tracker);
        while (budget > 0 && windowEnd(start) <= now) {
          const plan = hourlyPlan(tracker, start, previous);
          previous = await write(plan);
          start = plan.end;
        }
        if (windowEnd(start) <= now) summary.behind++;
      }
      if (
        !chainOpen &&
        wantsChain(tracker) &&
        !pendingOrphans.has(`${tracker.projectId}/${tracker.trackerName}`)
      ) {
        const bucket = tracker.bucketName!;
        const before = await latestDigest(deps.db, { ...tracker, bucket });
        // The new chain links to the ending digest of the tracker's last chain in this bucket, so
        // that the whole history verifies as one chain (not to a chain let go without one).
        await startChain(deps.db, tracker.id, {
          start: now,
          bucket,
          previous: before?.isEnd ? before : undefined,
        });
        summary.started++;
      }
    });
  }
  return summary;
}

function hourlyPlan(t: TrackerRow, start: number, previous: PreviousDigest | null): DigestPlan {
  return {
    projectId: t.projectId,
    trackerName: t.trackerName,
    bucket: t.lastDigestBucket!,
    prefix: t.filePrefixName,
    chainStart: t.digestChainStart ?? start,
    start,
    end: windowEnd(start),
    isEnd: false,
    previous,
    trackerId: t.id,
  };
}

/** The last digest of a chain: from its last window's start to now (never an empty interval). */
function endingPlan(t: TrackerRow, now: number): DigestPlan {
  const start = t.digestWindowStart!;
  return {
    ...hourlyPlan(t, start, previousOf(t)),
    end: Math.max(now, start + 1000),
    isEnd: true,
  };
}

function orphanEnding(head: DigestRow, now: number): DigestPlan {
  return {
    projectId: head.projectId,
    trackerName: head.trackerName,
    bucket: head.bucket,
    prefix: prefixOfDigestKey(head.objectKey),
    chainStart: head.chainStart ?? head.startTime,
    start: head.endTime,
    end: Math.max(now, head.endTime + 1000),
    isEnd: true,
    previous: {
      bucket: head.bucket,
      key: head.objectKey,
      sha256: head.sha256,
      signature: head.signature,
      isEnd: false,
    },
  };
}

/** Builds, signs, uploads and records one digest; returns how many files it covers and its link. */
async function writeDigest(
  deps: Deps,
  signer: DigestSigner,
  plan: DigestPlan,
): Promise<{ files: number; link: PreviousDigest }> {
  const files = await uncoveredFiles(deps.db, {
    projectId: plan.projectId,
    trackerName: plan.trackerName,
    bucket: plan.bucket,
    from: plan.chainStart,
    before: plan.end,
  });
  const key = digestKey({
    region: deps.config.CTS_REGION,
    projectId: plan.projectId,
    trackerName: plan.trackerName,
    prefix: plan.prefix,
    endTime: plan.end,
  });
  const signed = await buildSignedDigest(
    {
      projectId: plan.projectId,
      bucket: plan.bucket,
      key,
      startTime: plan.start,
      endTime: plan.end,
      isEnd: plan.isEnd,
      previous: plan.previous,
      files,
    },
    signer,
  );
  // Upload first, record second: a crash in between rewrites the same keys on the next run. The
  // signature also goes beside the digest, where a plain download keeps it (ADR 0007).
  const bucket = deps.buckets.bucket(plan.bucket);
  await bucket.put(key, signed.body, { contentType: 'application/gzip', metadata: signed.metadata });
  await bucket.put(signatureKey(key), new TextEncoder().encode(signed.signature), {
    contentType: 'text/plain',
  });
  await recordDigest(
    deps.db,
    {
      projectId: plan.projectId,
      trackerName: plan.trackerName,
      bucket: plan.bucket,
      objectKey: key,
      startTime: plan.start,
      endTime: plan.end,
      sha256: signed.sha256,
      signature: signed.signature,
      isEnd: plan.isEnd,
      chainStart: plan.chainStart,
      fileCount: files.length,
      createdAt: deps.clock(),
    },
    files.map((file) => file.id),
    plan.trackerId,
  );
  return {
    files: files.length,
    link: { bucket: plan.bucket, key, sha256: signed.sha256, signature: signed.signature, isEnd: plan.isEnd },
  };
}
