import { type Deps, depsOfProject } from '../deps';
import type { Principal } from '../projects/projects';
import { fitText, wellFormedJson } from '../text';
import { recordTraces } from './record';
import { jsonDepth, MAX_JSON_DEPTH, type ReportedTrace, ReportedTraceSchema } from './schema';

/** The caller of a management operation, as CTS records it about itself. */
export interface Actor extends Principal {
  /** The client address (api/client-ip.ts), null when the runtime knows none. */
  sourceIp: string | null;
  requestId: string;
  /** How the operation came: the API, the console, or the operator's command line (`SystemAction`). */
  traceType: 'ApiCall' | 'ConsoleAction' | 'SystemAction';
  /** Told when the operation's audit trace is recorded (so a refusal is not recorded twice). */
  onRecorded?: () => void;
}

/**
 * The `user` of a trace CTS records about itself, from the authenticated principal: the key's
 * id and name, and the project's domain. The one place that says who did it.
 */
export function auditUser(principal: Principal) {
  return {
    id: fitText(principal.keyId, 128),
    name: fitText(principal.keyName, 256),
    domain: { id: fitText(principal.domainId, 128) },
    // Calls signed with AK/SK say which access key made them, as CTS records it.
    ...(principal.accessKeyId ? { access_key_id: fitText(principal.accessKeyId, 128) } : {}),
  };
}

export interface AuditedOperation {
  traceName: string;
  resourceType: 'tracker' | 'notification' | 'topic' | 'trace' | 'key' | 'session';
  resourceId?: string;
  resourceName?: string;
  rating?: ReportedTrace['trace_rating'];
  request?: unknown;
  response?: unknown;
  code?: number;
}

/**
 * The largest `request`/`response` echoed into an audit trace, as JSON text. A management body
 * may be up to 1 MB; the trail keeps a bounded copy, not the whole thing twice per call.
 */
export const MAX_AUDIT_JSON_CHARS = 16 * 1024;

/** A request or response as recorded: valid Unicode, within depth and size, else a summary. */
function auditJson(value: unknown): unknown {
  if (value === undefined) return undefined;
  // Depth first: serializing a hostile, deeply nested body would overflow the stack.
  if (jsonDepth(value) > MAX_JSON_DEPTH) return { truncated: true, reason: 'nested too deep' };
  const text = JSON.stringify(wellFormedJson(value));
  if (text.length > MAX_AUDIT_JSON_CHARS) return { truncated: true, json_chars: text.length };
  return JSON.parse(text);
}

/**
 * The trace CTS records about one of its own management operations (service `CTS`, reference
 * §12.2). Every value that came from the caller (a refused name, a header) is made storable
 * under the limits of a reported trace, then the trace goes through the same validation as a
 * reported one: an audit record can never be the one value that breaks the store.
 */
export function auditTrace(actor: Actor, operation: AuditedOperation, now: number): ReportedTrace {
  return ReportedTraceSchema.parse({
    trace_name: operation.traceName,
    trace_rating: operation.rating ?? 'normal',
    trace_type: actor.traceType,
    service_type: 'CTS',
    resource_type: operation.resourceType,
    resource_id: fitText(operation.resourceId, 350) ?? undefined,
    resource_name: fitText(operation.resourceName, 256) ?? undefined,
    time: now,
    tracker_name: 'system',
    user: auditUser(actor),
    source_ip: fitText(actor.sourceIp, 64),
    request_id: fitText(actor.requestId, 128),
    request: auditJson(operation.request),
    response: auditJson(operation.response),
    code: String(operation.code ?? 200),
    api_version: 'v3',
  });
}

/** Records one of CTS's own management operations as a trace of service `CTS` (reference §12.2). */
export async function recordAudit(
  deps: Pick<Deps, 'db' | 'shards' | 'clock'> & Partial<Pick<Deps, 'waitUntil'>>,
  actor: Actor,
  operation: AuditedOperation,
): Promise<void> {
  // In the actor's project's trail, wherever the caller's deps point (the CLI's at the control database).
  await recordTraces(await depsOfProject(deps, actor.projectId), actor.projectId, [
    auditTrace(actor, operation, deps.clock()),
  ]);
  actor.onRecorded?.();
}
