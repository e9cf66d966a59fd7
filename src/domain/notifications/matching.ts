import type { BatchItem } from 'drizzle-orm/batch';
import type { Db } from '../../store/db';
import { loadMatchingState } from '../../store/notification-queries';
import { type OutboxEntry, outboxInsertStatements } from '../../store/outbox-queries';
import type { NewTraceRow, TraceRow } from '../../store/schema/traces';
import type { Deps } from '../deps';
import { toApiTrace } from '../traces/query';
import { cloudEventBody } from './cloud-event';
import { type CompiledRules, compileRules, type RuleDefinition } from './rules';
import type { Filter } from './schema';

/** Deliveries are retried this long after the trace was recorded, then marked failed. */
export const DELIVERY_WINDOW_MS = 24 * 3_600_000;

/**
 * How long a project's compiled rules are trusted. Changes made through this process take effect
 * at once (they call `forgetNotificationRules`); this bounds how stale another instance's copy
 * (another Worker isolate, another server on the same database) or a tracker's status can be.
 */
export const RULES_TTL_MS = 5_000;
const MAX_CACHED_PROJECTS = 10_000;

interface MatchingState {
  rules: CompiledRules;
  /** Trackers that notify: existing and not disabled (a disabled tracker stops notifications). */
  notifyingTrackers: Set<string>;
  loadedAt: number;
}

interface Cache {
  projects: Map<string, MatchingState>;
  /** Bumped by every forget: a load that started before a change must not be cached after it. */
  generation: number;
}

// Keyed by the injected database, so each app (and each test) has its own cache.
const caches = new WeakMap<Db, Cache>();

function cacheOf(db: Db): Cache {
  let cache = caches.get(db);
  if (!cache) {
    cache = { projects: new Map(), generation: 0 };
    caches.set(db, cache);
  }
  return cache;
}

/** Drops a project's compiled rules; the next recorded trace reloads them. */
export function forgetNotificationRules(db: Db, projectId: string): void {
  const cache = cacheOf(db);
  cache.generation++;
  cache.projects.delete(projectId);
}

export function toRuleDefinition(row: {
  id: string;
  name: string;
  operationType: 'complete' | 'customized';
  operations: string;
  notifyUserList: string;
  filter: string | null;
}): RuleDefinition {
  return {
    id: row.id,
    name: row.name,
    operationType: row.operationType,
    operations: JSON.parse(row.operations),
    notifyUserList: JSON.parse(row.notifyUserList),
    filter: row.filter === null ? null : (JSON.parse(row.filter) as Filter),
  };
}

async function matchingState(db: Db, projectId: string, now: number): Promise<MatchingState> {
  const cache = cacheOf(db);
  const cached = cache.projects.get(projectId);
  if (cached && Math.abs(now - cached.loadedAt) < RULES_TTL_MS) return cached;
  const generation = cache.generation;
  const loaded = await loadMatchingState(db, projectId);
  const state: MatchingState = {
    rules: compileRules(loaded.rules.map(toRuleDefinition)),
    notifyingTrackers: new Set(loaded.trackers.filter((t) => t.status !== 'disabled').map((t) => t.name)),
    loadedAt: now,
  };
  if (generation !== cache.generation) return state; // changed meanwhile: use it once, keep nothing
  cache.projects.delete(projectId);
  if (cache.projects.size >= MAX_CACHED_PROJECTS) cache.projects.delete(cache.projects.keys().next().value!);
  cache.projects.set(projectId, state);
  return state;
}

export interface NotificationPlan {
  /** To run in the same batch as, and before, the trace inserts. */
  statements: BatchItem<'sqlite'>[];
  /** Deliveries the statements queue (fewer if some traces turn out to be re-reports). */
  queued: number;
}

const NOTHING: NotificationPlan = { statements: [], queued: 0 };

/**
 * Matches a report's traces against the project's enabled rules and returns the outbox inserts
 * for the matches. A trace_id repeated within the report is matched once (the first one is what
 * gets stored). With no enabled rule this is one map lookup.
 */
export async function planNotifications(
  deps: Pick<Deps, 'db'>,
  projectId: string,
  rows: NewTraceRow[],
  now: number,
): Promise<NotificationPlan> {
  const state = await matchingState(deps.db, projectId, now);
  if (state.rules.size === 0) return NOTHING;
  const entries: OutboxEntry[] = [];
  const seen = new Set<string>();
  for (const row of rows) {
    if (seen.has(row.traceId)) continue;
    seen.add(row.traceId);
    if (!state.notifyingTrackers.has(row.trackerName)) continue;
    const matched = state.rules.match(row);
    if (matched.length === 0) continue;
    const trace = toApiTrace(row as TraceRow);
    for (const rule of matched) {
      const payload = cloudEventBody({
        projectId,
        notificationId: rule.id,
        notificationName: rule.name,
        trace,
      });
      entries.push({ notificationId: rule.id, traceId: row.traceId, payload });
    }
  }
  if (entries.length === 0) return NOTHING;
  return {
    statements: outboxInsertStatements(deps.db, projectId, entries, {
      now,
      expiresAt: now + DELIVERY_WINDOW_MS,
    }),
    queued: entries.length,
  };
}
