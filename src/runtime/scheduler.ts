import type { Deps } from '../domain/deps';
import { type JobsSummary, runScheduledJobs } from '../jobs';

export interface JobScheduler {
  /** Stops scheduling and waits for a run in progress to finish. */
  stop(): Promise<void>;
}

/**
 * Runs the scheduled jobs every `intervalMs` in this process. The next run is scheduled only
 * when the previous one has finished, so runs never overlap however long one takes.
 */
export function startJobScheduler(
  deps: Deps,
  intervalMs: number,
  onRun?: (summary: JobsSummary) => void,
): JobScheduler {
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let running: Promise<void> | undefined;

  const tick = () => {
    timer = undefined;
    running = (async () => {
      try {
        const summary = await runScheduledJobs(deps, { now: deps.clock() });
        onRun?.(summary);
      } catch (error) {
        // runScheduledJobs reports step failures itself; this is a failure around it.
        deps.logger.error('scheduled jobs failed', { error: String(error) });
      }
    })();
    void running.finally(() => {
      running = undefined;
      if (!stopped) timer = setTimeout(tick, intervalMs);
    });
  };
  timer = setTimeout(tick, intervalMs);

  return {
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}
