import { selectTransferringTrackers, setTransferStatus, type TrackerRow } from '../store/tracker-queries';
import { countBacklog, fixPlan, pageEnd } from '../store/transfer-queries';
import { BucketError } from '../transfer/bucket';
import { type TransferDeps, transferPage } from './transfer-page';

export interface JobOptions {
  /** The run's time (epoch ms): names the files; `cts jobs run --now` sets it. */
  now: number;
}

export interface TrackerTransfer {
  projectId: string;
  trackerName: string;
  bucket: string;
  /** `ok`: wrote files; `idle`: nothing waited (or no budget left); `error`: the bucket failed. */
  outcome: 'ok' | 'idle' | 'error';
  files: number;
  traces: number;
  bytes: number;
  /** Traces still waiting after this run, counted up to 10,000 (then `backlogCapped`). */
  backlog: number;
  backlogCapped: boolean;
  error?: string;
}

export interface TransferSummary {
  files: number;
  traces: number;
  bytes: number;
  /** Traces still waiting, over all trackers (each counted up to 10,000): the next runs continue. */
  backlog: number;
  /** Some tracker has more than 10,000 waiting: `backlog` is a lower bound. */
  backlogCapped: boolean;
  trackers: TrackerTransfer[];
}

/** Waiting traces are counted up to this many: counting reads every row it counts. */
const BACKLOG_COUNT_CAP = 10_000;
/** Traces per page (one cursor step) at most, whatever the run's budget. */
const MAX_PAGE = 100_000;

/** The tracker `detail` for a failure: the reference knows only these two for a bucket. */
const detailOf = (error: BucketError) =>
  error.failure === 'bucketPolicyError' ? 'bucketPolicyError' : 'noBucket';

/**
 * Transfers one tracker's traces after its cursor, page by page, within `budget` traces.
 * A page's end and file time are fixed in the database before anything is uploaded, so that a
 * run that dies half-way is retried with the same files under the same keys.
 */
async function transferTracker(
  deps: TransferDeps,
  tracker: TrackerRow,
  now: number,
  budget: number,
): Promise<TrackerTransfer> {
  const result: TrackerTransfer = {
    projectId: tracker.projectId,
    trackerName: tracker.trackerName,
    bucket: tracker.bucketName!,
    outcome: 'idle',
    files: 0,
    traces: 0,
    bytes: 0,
    backlog: 0,
    backlogCapped: false,
  };
  let cursor = tracker.transferCursor;
  let plan =
    tracker.transferPlanEnd !== null && tracker.transferPlanEnd > cursor
      ? { end: tracker.transferPlanEnd, at: tracker.transferPlanAt ?? now }
      : undefined;
  const range = {
    projectId: tracker.projectId,
    trackerName: tracker.trackerName,
    excludeServices: tracker.excludeServices,
  };
  try {
    const bucket = deps.buckets.bucket(tracker.bucketName!);
    while (result.traces < budget) {
      if (!plan) {
        const size = Math.min(budget - result.traces, MAX_PAGE);
        const end = await pageEnd(deps.db, { ...range, afterSeq: cursor }, size);
        if (end === undefined) break;
        const fixed = await fixPlan(deps.db, { trackerId: tracker.id, cursor, end, at: now });
        // The cursor moved under us (a concurrent run, or a re-enable): leave it to the next run.
        if (!fixed || fixed.cursor !== cursor || fixed.end === null || fixed.end <= cursor) break;
        plan = { end: fixed.end, at: fixed.at ?? now };
      }
      const page = await transferPage({ deps, tracker, bucket, namedAt: plan.at, now }, cursor, plan.end);
      result.files += page.files;
      result.traces += page.traces;
      result.bytes += page.bytes;
      cursor = plan.end;
      plan = undefined;
    }
    if (result.traces > 0) {
      result.outcome = 'ok';
      if (tracker.status === 'error') await setTransferStatus(deps.db, tracker.id, { status: 'enabled' });
    }
  } catch (error) {
    if (!(error instanceof BucketError)) throw error;
    result.outcome = 'error';
    result.error = error.message;
    deps.logger.warn('transfer failed', {
      projectId: tracker.projectId,
      trackerName: tracker.trackerName,
      bucket: tracker.bucketName,
      failure: error.failure,
      error: error.message,
    });
    // Unless disabled or moved to another bucket meanwhile: then the failure no longer applies.
    await setTransferStatus(deps.db, tracker.id, {
      status: 'error',
      detail: detailOf(error),
      lastError: error.message.slice(0, 1000),
      bucketName: tracker.bucketName!,
    });
  }
  const waiting = await countBacklog(deps.db, { ...range, afterSeq: cursor }, BACKLOG_COUNT_CAP);
  result.backlog = waiting.count;
  result.backlogCapped = waiting.capped;
  return result;
}

/**
 * Scheduled transfer (DESIGN §5): every tracker that transfers (not disabled, with a bucket)
 * writes the traces after its cursor to its bucket, at most `CTS_TRANSFER_MAX_TRACES_PER_RUN`
 * traces per run over all trackers (least recently served first); the rest waits for the next run.
 * A bucket failure puts the tracker in `status: "error"`; its next successful run clears it.
 */
export async function runTransfer(deps: TransferDeps, options: JobOptions): Promise<TransferSummary> {
  const summary: TransferSummary = {
    files: 0,
    traces: 0,
    bytes: 0,
    backlog: 0,
    backlogCapped: false,
    trackers: [],
  };
  let budget = deps.config.CTS_TRANSFER_MAX_TRACES_PER_RUN;
  for (const tracker of await selectTransferringTrackers(deps.db)) {
    const result = await transferTracker(deps, tracker, options.now, budget);
    budget -= result.traces;
    summary.files += result.files;
    summary.traces += result.traces;
    summary.bytes += result.bytes;
    summary.backlog += result.backlog;
    summary.backlogCapped ||= result.backlogCapped;
    summary.trackers.push(result);
  }
  return summary;
}
