import type { NewTraceRow } from '../../store/schema/traces';
import { insertTraces } from '../../store/trace-queries';
import type { Deps } from '../deps';
import { invalidRequest } from '../errors';
import { deliverSoon } from '../notifications/delivery';
import { planNotifications } from '../notifications/matching';
import { toWellFormed, wellFormedJsonText } from '../text';
import { uuidv7 } from '../uuid7';
import { type ReportedTrace, TRACE_EXTRAS } from './schema';

export interface RecordResult {
  trace_ids: string[];
  recorded: number;
  duplicates: number;
}

/**
 * How far `time` may run ahead of the server clock (clock skew). A trace further in the future
 * would stay out of every query window until then, and retention (by `time`) would never expire it.
 */
export const MAX_FUTURE_MS = 3_600_000;

function rejectFutureTimes(batch: ReportedTrace[], now: number): void {
  const details = batch.flatMap((trace, index) =>
    trace.time > now + MAX_FUTURE_MS
      ? [{ field: `traces[${index}].time`, message: 'must not be more than 1 hour after the server clock' }]
      : [],
  );
  if (details.length > 0) throw invalidRequest(details);
}

/** JSON text as stored: never with an unpaired surrogate, whoever built the trace (domain/text.ts). */
const json = (value: unknown) => wellFormedJsonText(JSON.stringify(value));

/** The text a string field of the SDK model returns: a string as sent, another JSON value as JSON text. */
const text = (value: unknown) =>
  value === undefined ? null : typeof value === 'string' ? toWellFormed(value) : json(value);

/** The extras that were reported (null ones left out) as a JSON object, or null when none was. */
function extrasOf(trace: ReportedTrace): string | null {
  const extras = Object.fromEntries(
    TRACE_EXTRAS.flatMap((name) => (trace[name] == null ? [] : [[name, trace[name]]])),
  );
  return Object.keys(extras).length === 0 ? null : json(extras);
}

/** The stored row of a reported trace; `record_time` is the server's clock. */
export function toTraceRow(projectId: string, trace: ReportedTrace, recordTime: number): NewTraceRow {
  return {
    projectId,
    trackerName: trace.tracker_name,
    traceId: trace.trace_id ?? uuidv7(),
    traceName: trace.trace_name,
    traceRating: trace.trace_rating,
    traceType: trace.trace_type,
    serviceType: trace.service_type,
    resourceType: trace.resource_type,
    resourceId: trace.resource_id ?? null,
    resourceName: trace.resource_name ?? null,
    sourceIp: trace.source_ip ?? null,
    requestId: trace.request_id ?? null,
    code: trace.code == null ? null : String(trace.code),
    apiVersion: trace.api_version ?? null,
    time: trace.time,
    recordTime,
    userName: trace.user?.name ?? null,
    user: trace.user ? json(trace.user) : null,
    request: text(trace.request),
    response: text(trace.response),
    message: text(trace.message),
    locationInfo: trace.location_info ?? null,
    endpoint: trace.endpoint ?? null,
    resourceUrl: trace.resource_url ?? null,
    accessKeyId: trace.user?.access_key_id ?? null,
    enterpriseProjectId: trace.enterprise_project_id ?? null,
    extras: extrasOf(trace),
  };
}

/**
 * Records a validated batch. A `trace_id` already stored for the project (or repeated within
 * the batch) is a no-op counted as a duplicate, so a client may safely retry a whole batch.
 */
export async function recordTraces(
  deps: Pick<Deps, 'db' | 'clock'> & Partial<Pick<Deps, 'waitUntil'>>,
  projectId: string,
  batch: ReportedTrace[],
): Promise<RecordResult> {
  const now = deps.clock();
  rejectFutureTimes(batch, now);
  const rows = batch.map((trace) => toTraceRow(projectId, trace, now));
  // Deliveries for matching rules are queued in the same batch as the traces (atomic).
  const notify = await planNotifications(deps, projectId, rows, now);
  const inserted = await insertTraces(deps.db, rows, notify.statements, deps.waitUntil);
  if (notify.queued > 0) deliverSoon(deps);
  return {
    trace_ids: rows.map((row) => row.traceId),
    recorded: inserted,
    duplicates: rows.length - inserted,
  };
}
