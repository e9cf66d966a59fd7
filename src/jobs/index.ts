import type { Deps } from '../domain/deps';
import { CONTROL_SHARD, type ShardDb } from '../domain/shards/router';
import { isUnreachableError } from '../store/db';
import { readMaintenanceMark, writeMaintenanceMark } from '../store/maintenance-queries';
import { runDigests } from './digests';
import { runNotificationDelivery } from './notifications';
import { runRetention } from './retention';
import { type JobOptions, runTransfer } from './transfer';

export type { RetentionSummary } from './retention';
export type { JobOptions, TrackerTransfer, TransferSummary } from './transfer';
export { runRetention, runTransfer };

/** One scheduled job: a plain function of the deps and the run's time, returning its summary. */
export interface JobStep {
  name: string;
  run: (deps: Deps, options: JobOptions) => Promise<unknown>;
}

/**
 * The scheduled jobs, in order. Transfer comes first (digests cover the files it wrote), and
 * retention after it (it deletes only what was transferred). Add a step with one line.
 */
export const JOB_STEPS: JobStep[] = [
  { name: 'transfer', run: runTransfer },
  { name: 'digests', run: runDigests },
  { name: 'retention', run: runRetention },
  { name: 'notifications', run: runNotificationDelivery },
];

export interface JobResult {
  name: string;
  /** The shard the step ran on; absent when no shard is registered (one database). */
  shard?: string;
  ok: boolean;
  /** The step's own summary when it succeeded. */
  summary?: unknown;
  error?: string;
  ms: number;
}

export interface JobsSummary {
  /** The run's time, ISO 8601. */
  now: string;
  ok: boolean;
  steps: JobResult[];
}

/**
 * Runs every step once as of `now` (Worker cron, Node scheduler, `cts jobs run`, tests) on every
 * database that holds project data, one after another (at most `CTS_JOBS_SHARDS_PER_RUN` of them
 * a run, taken in turn: see `shardsOfThisRun`). A failing step is logged and reported; the later
 * steps still run (each is safe on its own) — except on a database that cannot be reached, whose
 * remaining steps wait for the next run while the other databases' proceed.
 */
export async function runScheduledJobs(deps: Deps, options: JobOptions): Promise<JobsSummary> {
  // The control database's jobs run on the caller's `db` (its handle to it: the same client, or
  // one a test wrapped); the shards' on their own.
  const databases = (await deps.shards.databases()).map((shard) =>
    shard.id === CONTROL_SHARD ? { ...shard, db: deps.db } : shard,
  );
  const sharded = databases.length > 1;
  const steps: JobResult[] = [];
  for (const { id, db } of await shardsOfThisRun(deps, databases)) {
    const shardDeps = { ...deps, db };
    for (const step of JOB_STEPS) {
      const started = Date.now();
      const shard = sharded ? { shard: id } : {};
      try {
        const summary = await step.run(shardDeps, options);
        steps.push({ name: step.name, ...shard, ok: true, summary, ms: Date.now() - started });
      } catch (error) {
        deps.logger.error('scheduled job failed', {
          job: step.name,
          ...shard,
          error: error instanceof Error ? (error.stack ?? error.message) : String(error),
        });
        steps.push({ name: step.name, ...shard, ok: false, error: String(error), ms: Date.now() - started });
        if (isUnreachableError(error)) break;
      }
    }
  }
  return { now: new Date(options.now).toISOString(), ok: steps.every((s) => s.ok), steps };
}

const SHARD_CURSOR_TASK = 'jobs_shard_cursor';

/**
 * The databases this run covers: all of them when they fit in `CTS_JOBS_SHARDS_PER_RUN`, else
 * the next ones in turn after those of the last run (the cursor is kept in the control
 * database, so Worker isolates and processes share it), so that every shard's jobs run within
 * ⌈shards / limit⌉ runs and no run does unbounded work.
 */
async function shardsOfThisRun(deps: Deps, databases: ShardDb[]): Promise<ShardDb[]> {
  const limit = deps.config.CTS_JOBS_SHARDS_PER_RUN;
  if (databases.length <= limit) return databases;
  const start = ((await readMaintenanceMark(deps.control, SHARD_CURSOR_TASK)) ?? 0) % databases.length;
  await writeMaintenanceMark(deps.control, SHARD_CURSOR_TASK, (start + limit) % databases.length);
  return Array.from({ length: limit }, (_, i) => databases[(start + i) % databases.length]!);
}
