import { selectTrackers } from '../../store/tracker-queries';
import { countBacklog, firstInRange } from '../../store/transfer-queries';
import type { Deps } from '../deps';

/** How far a tracker's transfer is behind (for the console's Tracker List). */
export interface TransferLag {
  trackerName: string;
  status: 'enabled' | 'disabled' | 'error';
  /** `noBucket` / `bucketPolicyError` when `status` is `error`. */
  detail: string | null;
  /** Whether transfer is configured and running (a bucket, and not disabled). */
  transferring: boolean;
  /** Traces recorded but not yet in the bucket; 0 when not transferring. */
  backlog: number;
  /** The oldest untransferred trace (first in ingestion order), or null when caught up. */
  oldestPending: { time: number; recordTime: number } | null;
  /** When a file was last written (epoch ms), or null. */
  lastTransferAt: number | null;
  /** The last transfer failure's message while `status` is `error`. */
  lastError: string | null;
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
      const range = { projectId, trackerName: row.trackerName, afterSeq: row.transferCursor };
      const first = transferring ? await firstInRange(deps.db, range) : undefined;
      return {
        trackerName: row.trackerName,
        status: row.status,
        detail: row.status === 'error' ? (row.detail ?? 'noBucket') : null,
        transferring,
        backlog: first ? await countBacklog(deps.db, range) : 0,
        oldestPending: first ? { time: first.time, recordTime: first.recordTime } : null,
        lastTransferAt: row.lastTransferAt,
        lastError: row.status === 'error' ? row.lastError : null,
      };
    }),
  );
}
