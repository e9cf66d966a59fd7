import { selectTrackers } from '../../store/tracker-queries';
import { countBacklog, firstInRange, type TraceRange } from '../../store/transfer-queries';
import type { Deps } from '../deps';

/** How far a tracker's transfer is behind (for the console's Tracker List). */
export interface TransferLag {
  trackerName: string;
  status: 'enabled' | 'disabled' | 'error';
  /** `noBucket` / `bucketPolicyError` when `status` is `error`. */
  detail: string | null;
  /** Whether transfer is configured and running (a bucket, and not disabled). */
  transferring: boolean;
  /** Traces recorded but not yet in the bucket (counted up to 100,000); 0 when not transferring. */
  backlog: number;
  /** The backlog is at least `backlog` (counting stopped there): show it as "100,000+". */
  backlogCapped: boolean;
  /** The oldest untransferred trace (first in ingestion order), or null when caught up. */
  oldestPending: { time: number; recordTime: number } | null;
  /** When a file was last written (epoch ms), or null. */
  lastTransferAt: number | null;
  /** The last transfer failure's message while `status` is `error`. */
  lastError: string | null;
}

/** Counting stops here: beyond it a console page would read the whole backlog to show a number. */
const LAG_COUNT_CAP = 100_000;

async function backlogOf(deps: Pick<Deps, 'db'>, range: TraceRange) {
  const { count, capped } = await countBacklog(deps.db, range, LAG_COUNT_CAP);
  return { backlog: count, backlogCapped: capped };
}

/**
 * Transfer lag of each of the project's trackers: backlog count and the oldest waiting trace's
 * `time` and `record_time` (so `now - recordTime` is how long it has waited).
 */
export async function getTransferLag(deps: Pick<Deps, 'db'>, projectId: string): Promise<TransferLag[]> {
  const rows = await selectTrackers(deps.db, projectId);
  return Promise.all(
    rows.map(async (row) => {
      const transferring = row.status !== 'disabled' && row.bucketName !== null;
      const range = {
        projectId,
        trackerName: row.trackerName,
        afterSeq: row.transferCursor,
        excludeServices: row.excludeServices,
      };
      const first = transferring ? await firstInRange(deps.db, range) : undefined;
      return {
        trackerName: row.trackerName,
        status: row.status,
        detail: row.status === 'error' ? (row.detail ?? 'noBucket') : null,
        transferring,
        ...(first ? await backlogOf(deps, range) : { backlog: 0, backlogCapped: false }),
        oldestPending: first ? { time: first.time, recordTime: first.recordTime } : null,
        lastTransferAt: row.lastTransferAt,
        lastError: row.status === 'error' ? row.lastError : null,
      };
    }),
  );
}
