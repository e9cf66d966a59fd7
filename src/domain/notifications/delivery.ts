import type { Db } from '../../store/db';
import { findNotificationsByIds, findTopic } from '../../store/notification-queries';
import { type AttemptOutcome, claimDueDeliveries, recordOutcomes } from '../../store/outbox-queries';
import type { NotificationRow, OutboxRow } from '../../store/schema/notifications';
import type { Deps } from '../deps';
import { CONTENT_TYPE, SIGNATURE_HEADER, signatureOf } from './cloud-event';
import { parseTopicId, webhookUrlProblem } from './topic-id';

export const FIRST_RETRY_MS = 5_000;
export const MAX_RETRY_MS = 30 * 60_000;
/** A claimed row is retried by another drain if its drain has not finished this long after the timeout. */
const LEASE_MARGIN_MS = 60_000;
const CONCURRENCY = 8;

/**
 * Delay before retry number `attempt` (1 = after the first failure): exponential from 5 s, capped
 * at 30 min, with jitter (half fixed, half random) so that a receiver coming back up is not hit
 * by every queued delivery at the same instant.
 */
export function retryDelay(attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

export interface DeliverySummary {
  attempted: number;
  delivered: number;
  retrying: number;
  failed: number;
}

type DeliveryDeps = Pick<Deps, 'db' | 'config' | 'logger'> & Partial<Pick<Deps, 'fetch'>>;

interface Target {
  url?: string;
  problem?: string;
}

async function resolveTarget(
  deps: DeliveryDeps,
  rule: NotificationRow,
  topics: Map<string, Promise<string | undefined>>,
): Promise<Target> {
  if (!rule.topicId) return { problem: 'the notification has no topic_id' };
  const ref = parseTopicId(rule.topicId);
  if (!ref) return { problem: 'topic_id is not a valid URL or topic URN' };
  let url = ref.kind === 'url' ? ref.url : undefined;
  if (ref.kind === 'urn') {
    let endpoint = topics.get(ref.urn);
    if (!endpoint) {
      endpoint = findTopic(deps.db, ref.urn).then((t) =>
        t?.projectId === rule.projectId ? t.endpointUrl : undefined,
      );
      topics.set(ref.urn, endpoint);
    }
    url = await endpoint;
    if (!url) return { problem: `topic ${ref.urn} is not defined` };
  }
  // Checked again at delivery: the setting may have changed since the URL was accepted.
  const problem = webhookUrlProblem(url!, { allowPrivate: deps.config.CTS_WEBHOOK_ALLOW_PRIVATE });
  return problem ? { problem: `webhook URL ${problem}` } : { url };
}

function describeFailure(error: unknown, timeoutMs: number): string {
  const e = error as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return `timed out after ${timeoutMs} ms`;
  const cause = e?.cause?.code ?? e?.cause?.message;
  return `${e?.message ?? String(error)}${cause ? ` (${cause})` : ''}`.slice(0, 500);
}

/** One POST; resolves to the HTTP status, or throws on a network error or timeout. */
async function post(deps: DeliveryDeps, url: string, row: OutboxRow, rule: NotificationRow): Promise<number> {
  const init: RequestInit = {
    method: 'POST',
    headers: {
      'Content-Type': CONTENT_TYPE,
      'User-Agent': 'cloud-trace-service',
      [SIGNATURE_HEADER]: await signatureOf(rule.secret, row.payload),
      'X-CTS-Notification-Id': rule.id,
      'X-CTS-Delivery-Attempt': String(row.attempts),
    },
    body: row.payload,
    // A redirect is not followed: it could lead past the URL checks.
    redirect: 'manual',
    signal: AbortSignal.timeout(deps.config.CTS_WEBHOOK_TIMEOUT_MS),
  };
  const response = deps.fetch ? await deps.fetch(url, init) : await fetch(url, init);
  await response.body?.cancel().catch(() => {});
  return response.status;
}

async function attempt(
  deps: DeliveryDeps,
  row: OutboxRow,
  rule: NotificationRow,
  topics: Map<string, Promise<string | undefined>>,
  now: number,
): Promise<AttemptOutcome> {
  const base = { id: row.id, notificationId: row.notificationId, attempts: row.attempts };
  let statusCode: number | null = null;
  let error: string;
  const target = await resolveTarget(deps, rule, topics);
  if (target.url) {
    try {
      statusCode = await post(deps, target.url, row, rule);
      if (statusCode >= 200 && statusCode < 300) {
        return { ...base, status: 'delivered', at: now, statusCode, error: null };
      }
      error = `HTTP ${statusCode}`;
    } catch (failure) {
      error = describeFailure(failure, deps.config.CTS_WEBHOOK_TIMEOUT_MS);
    }
  } else {
    error = target.problem ?? 'no target';
  }
  const retryAt = now + retryDelay(row.attempts);
  if (retryAt >= row.expiresAt) {
    deps.logger.warn('notification delivery failed for good', {
      notificationId: row.notificationId,
      traceId: row.traceId,
      attempts: row.attempts,
      error,
    });
    return { ...base, status: 'failed', at: now, statusCode, error };
  }
  return { ...base, status: 'pending', at: retryAt, statusCode, error };
}

async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/**
 * Attempts up to `limit` due deliveries once each (2xx = delivered; anything else is retried with
 * backoff until 24 h after the trace was recorded, then marked failed). At-least-once: a row is
 * settled only after its POST returned.
 */
export async function deliverDue(
  deps: DeliveryDeps,
  options: { now: number; limit: number },
): Promise<DeliverySummary> {
  const { now, limit } = options;
  const lease = now + deps.config.CTS_WEBHOOK_TIMEOUT_MS + LEASE_MARGIN_MS;
  const claimed = await claimDueDeliveries(deps.db, now, lease, limit);
  const summary: DeliverySummary = { attempted: claimed.length, delivered: 0, retrying: 0, failed: 0 };
  if (claimed.length === 0) return summary;
  const rules = new Map(
    (await findNotificationsByIds(deps.db, [...new Set(claimed.map((row) => row.notificationId))])).map(
      (r) => [r.id, r],
    ),
  );
  const topics = new Map<string, Promise<string | undefined>>();
  // A row whose rule was deleted meanwhile went with it: nothing to settle.
  const live = claimed.filter((row) => rules.has(row.notificationId));
  const outcomes = await mapLimit(live, CONCURRENCY, (row) =>
    attempt(deps, row, rules.get(row.notificationId)!, topics, now),
  );
  await recordOutcomes(deps.db, outcomes, now);
  for (const outcome of outcomes) {
    if (outcome.status === 'delivered') summary.delivered++;
    else if (outcome.status === 'failed') summary.failed++;
    else summary.retrying++;
  }
  return summary;
}

// The Node scheduler registers here so that an ingest wakes it instead of starting a second drain.
const wakers = new WeakMap<Db, () => void>();
const draining = new WeakMap<Db, { again: boolean }>();
const SOON_LIMIT = 20;
const SOON_PASSES = 3;

/** Lets a long-running drain loop be woken by `deliverSoon`; returns the unregister function. */
export function registerDeliveryWaker(db: Db, wake: () => void): () => void {
  wakers.set(db, wake);
  return () => {
    if (wakers.get(db) === wake) wakers.delete(db);
  };
}

const canDeliver = (deps: Partial<Deps>): deps is Deps =>
  deps.db !== undefined &&
  deps.config !== undefined &&
  deps.logger !== undefined &&
  deps.waitUntil !== undefined;

/**
 * Called after recording traces that queued deliveries: the first attempt happens right away.
 * With a scheduler loop running (Node) it wakes the loop; otherwise (Workers) it runs a small,
 * bounded drain under `waitUntil` — coalesced, so a burst of reports starts one drain, not many.
 * Whatever it does not finish, the scheduler's next run picks up.
 */
export function deliverSoon(deps: Partial<Deps>): void {
  if (!canDeliver(deps)) return;
  const wake = wakers.get(deps.db);
  if (wake) {
    wake();
    return;
  }
  const running = draining.get(deps.db);
  if (running) {
    running.again = true;
    return;
  }
  const state = { again: true };
  draining.set(deps.db, state);
  const work = (async () => {
    try {
      for (let pass = 0; state.again && pass < SOON_PASSES; pass++) {
        state.again = false;
        await deliverDue(deps, { now: deps.clock(), limit: SOON_LIMIT });
      }
    } finally {
      draining.delete(deps.db);
    }
  })();
  deps.waitUntil(
    work.catch((error) => deps.logger.error('notification delivery failed', { error: String(error) })),
  );
}
