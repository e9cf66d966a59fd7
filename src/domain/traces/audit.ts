import type { Deps } from '../deps';
import type { Principal } from '../projects/projects';
import { recordTraces } from './record';
import type { ReportedTrace } from './schema';

/** The caller of a management operation, as CTS records it about itself. */
export interface Actor extends Principal {
  sourceIp: string | null;
  requestId: string;
}

export interface AuditedOperation {
  traceName: string;
  resourceType: 'tracker' | 'notification' | 'topic' | 'trace' | 'key';
  resourceId?: string;
  resourceName?: string;
  rating?: ReportedTrace['trace_rating'];
  request?: unknown;
  response?: unknown;
  code?: number;
}

/** Records one of CTS's own management operations as a trace of service `CTS` (reference §12.2). */
export async function recordAudit(
  deps: Pick<Deps, 'db' | 'clock'>,
  actor: Actor,
  operation: AuditedOperation,
): Promise<void> {
  await recordTraces(deps, actor.projectId, [
    {
      trace_name: operation.traceName,
      trace_rating: operation.rating ?? 'normal',
      trace_type: 'ApiCall',
      service_type: 'CTS',
      resource_type: operation.resourceType,
      resource_id: operation.resourceId,
      resource_name: operation.resourceName,
      time: deps.clock(),
      tracker_name: 'system',
      user: {
        id: actor.keyId,
        name: actor.keyName,
        domain: { id: actor.domainId },
        // Calls signed with AK/SK say which access key made them, as CTS records it.
        ...(actor.accessKeyId ? { access_key_id: actor.accessKeyId } : {}),
      },
      source_ip: actor.sourceIp,
      request_id: actor.requestId,
      request: operation.request,
      response: operation.response,
      code: String(operation.code ?? 200),
      api_version: 'v3',
    },
  ]);
}
