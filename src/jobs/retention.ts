import type { Deps } from '../domain/deps';
import { DAY_MS } from '../domain/traces/query';
import { deleteExpiredTraces, selectProjectIds } from '../store/retention-queries';
import type { JobOptions } from './transfer';

export interface RetentionSummary {
  /** Traces older than this (epoch ms, by `time`) may go. */
  cutoff: number;
  deleted: number;
  /** The run stopped at `CTS_RETENTION_MAX_DELETES_PER_RUN`: more is due, the next runs continue. */
  more: boolean;
}

/** Rows per DELETE statement: short statements keep the database responsive to requests. */
const CHUNK = 5000;

/**
 * Deletes traces older than `CTS_RETENTION_DAYS` (by `time`), but never one that a transferring
 * tracker (enabled or in error, with a bucket) has not transferred yet: while a bucket is down the
 * traces wait in the database. With no transferring tracker, age alone decides. Bounded per run.
 */
export async function runRetention(
  deps: Pick<Deps, 'db' | 'config'>,
  options: JobOptions,
): Promise<RetentionSummary> {
  const cutoff = options.now - deps.config.CTS_RETENTION_DAYS * DAY_MS;
  let budget = deps.config.CTS_RETENTION_MAX_DELETES_PER_RUN;
  let deleted = 0;
  for (const projectId of await selectProjectIds(deps.db)) {
    for (;;) {
      if (budget === 0) return { cutoff, deleted, more: true };
      const chunk = Math.min(CHUNK, budget);
      const n = await deleteExpiredTraces(deps.db, projectId, cutoff, chunk);
      deleted += n;
      budget -= n;
      if (n < chunk) break;
    }
  }
  return { cutoff, deleted, more: false };
}
