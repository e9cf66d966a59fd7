import type { Deps } from '../domain/deps';
import { type DeliverySummary, deliverDue, registerDeliveryWaker } from '../domain/notifications/delivery';
import { nextDueAt, pruneSettledDeliveries } from '../store/outbox-queries';

const DAY_MS = 86_400_000;
const DEFAULT_LIMIT = 100;
const PRUNE_LIMIT = 1_000;

export interface NotificationDeliveryRun extends DeliverySummary {
  /** Delivered or failed entries older than the retention period, deleted. */
  pruned: number;
}

/**
 * One bounded drain of the notification outbox: attempts up to `limit` due deliveries, then
 * deletes settled entries older than the retention period. Used by the Node loop, the Worker's
 * cron and the CLI alike.
 */
export async function runNotificationDelivery(
  deps: Pick<Deps, 'db' | 'config' | 'logger'> & Partial<Pick<Deps, 'fetch'>>,
  options: { now: number; limit?: number },
): Promise<NotificationDeliveryRun> {
  const summary = await deliverDue(deps, { now: options.now, limit: options.limit ?? DEFAULT_LIMIT });
  const pruned = await pruneSettledDeliveries(
    deps.db,
    options.now - deps.config.CTS_RETENTION_DAYS * DAY_MS,
    PRUNE_LIMIT,
  );
  return { ...summary, pruned };
}

export interface NotificationLoop {
  /** Stops the loop and waits for the drain in progress to finish. */
  stop(): Promise<void>;
}

/**
 * The single-process scheduler for deliveries: drains the outbox continuously — at once after an
 * ingest that queued something (`deliverSoon` wakes it), as soon as a retry falls due, and at
 * least every `idleMs` (which also picks up rows queued by other processes). Idle, it costs one
 * indexed read per `idleMs`.
 */
export function startNotificationLoop(
  deps: Deps,
  options: { idleMs?: number; limit?: number } = {},
): NotificationLoop {
  const idleMs = options.idleMs ?? 1_000;
  const limit = options.limit ?? DEFAULT_LIMIT;
  let stopped = false;
  let woken = false;
  let wake: (() => void) | undefined;
  const unregister = registerDeliveryWaker(deps.db, () => {
    woken = true;
    wake?.();
  });

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      if (woken || stopped) return resolve();
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        wake = undefined;
        resolve();
      }
      wake = done;
    });

  const loop = async () => {
    while (!stopped) {
      woken = false;
      let busy = false;
      try {
        const run = await runNotificationDelivery(deps, { now: deps.clock(), limit });
        busy = run.attempted >= limit;
        if (!busy) {
          const due = await nextDueAt(deps.db);
          if (due !== undefined && due <= deps.clock()) busy = true;
          else if (due !== undefined) await sleep(Math.min(idleMs, due - deps.clock()));
          else await sleep(idleMs);
        }
      } catch (error) {
        if (stopped) break;
        deps.logger.error('notification delivery loop failed', { error: String(error) });
        await sleep(idleMs);
      }
      if (busy) await Promise.resolve(); // more is due: go again without waiting
    }
  };
  const running = loop();

  return {
    async stop() {
      stopped = true;
      unregister();
      wake?.();
      await running;
    },
  };
}
