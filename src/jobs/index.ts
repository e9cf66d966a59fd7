import type { Deps } from '../domain/deps';
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
 * Runs every step once as of `now` (Worker cron, Node scheduler, `cts jobs run`, tests). A failing
 * step is logged and reported; the later steps still run (each is safe on its own).
 */
export async function runScheduledJobs(deps: Deps, options: JobOptions): Promise<JobsSummary> {
  const steps: JobResult[] = [];
  for (const step of JOB_STEPS) {
    const started = Date.now();
    try {
      const summary = await step.run(deps, options);
      steps.push({ name: step.name, ok: true, summary, ms: Date.now() - started });
    } catch (error) {
      deps.logger.error('scheduled job failed', {
        job: step.name,
        error: error instanceof Error ? (error.stack ?? error.message) : String(error),
      });
      steps.push({ name: step.name, ok: false, error: String(error), ms: Date.now() - started });
    }
  }
  return { now: new Date(options.now).toISOString(), ok: steps.every((s) => s.ok), steps };
}
