import type { Trace } from './schema';

/**
 * A trace as an OCSF 1.x event of class API Activity (class_uid 6003, category Application
 * Activity 6): what SIEMs ingest natively. The mapping, by field:
 * - `time` ← `time`; `metadata.logged_time` ← `record_time`; `metadata.uid` ← `trace_id`;
 * - `api.operation` ← `trace_name`, `api.service.name` ← `service_type`, `api.version` ←
 *   `api_version`, `api.request.uid` ← `request_id`;
 * - `actor.user` ← `user` (`name`, `uid`, `domain`); a trace with no user (a system action) has
 *   the service as its actor (`actor.app_name`);
 * - `src_endpoint.ip` ← `source_ip` (`name` when it is not an IP address, `Unknown` when absent:
 *   the class requires the object);
 * - `resources[0]` ← `resource_id` (`uid`), `resource_name` (`name`), `resource_type` (`type`);
 * - `status_id`/`status` from `code` (2xx/3xx Success, 4xx/5xx Failure, else Unknown),
 *   `status_code` ← `code`; `severity_id` from `trace_rating` (normal Informational, warning
 *   Medium, incident High); `activity_id` from the operation's verb (create/read/update/delete,
 *   else Other);
 * - `cloud` (the cloud profile) ← the region and project; everything else under `unmapped`.
 */
export const OCSF_VERSION = '1.3.0';
export const OCSF_PRODUCT = { name: 'Cloud Trace Service', vendor_name: 'Cloud Trace Service' } as const;

const ACTIVITIES: Array<[RegExp, number, string]> = [
  [/^(create|add|put|post|insert|register|upload|attach|import|generate|issue)/i, 1, 'Create'],
  [/^(get|list|query|describe|show|read|search|download|export|view|check|head)/i, 2, 'Read'],
  [
    /^(update|modify|set|change|edit|patch|enable|disable|start|stop|reboot|resize|rotate|rename|bind|unbind|move|restore|reset)/i,
    3,
    'Update',
  ],
  [/^(delete|remove|destroy|terminate|detach|revoke|purge|drop|release)/i, 4, 'Delete'],
];

const SEVERITIES: Record<string, [number, string]> = {
  normal: [1, 'Informational'],
  warning: [3, 'Medium'],
  incident: [4, 'High'],
};

const IPV4 = /^(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)$/;
const IPV6 = /^[0-9A-Fa-f:.]{2,45}$/;
const isIp = (text: string) => IPV4.test(text) || (text.includes(':') && IPV6.test(text));

function status(code: string | null): { status_id: number; status: string } {
  if (code !== null && /^[23]\d\d$/.test(code)) return { status_id: 1, status: 'Success' };
  if (code !== null && /^[45]\d\d$/.test(code)) return { status_id: 2, status: 'Failure' };
  return { status_id: 0, status: 'Unknown' };
}

/** Copies the entries of `source` whose value is neither null nor undefined. */
function present<T extends Record<string, unknown>>(source: T): Partial<T> {
  return Object.fromEntries(
    Object.entries(source).filter(([, v]) => v !== null && v !== undefined),
  ) as Partial<T>;
}

export interface OcsfContext {
  region: string;
  projectId: string;
  /** The product version in `metadata.product.version`. */
  version?: string;
}

/** The OCSF API Activity event of a trace in the API's shape. */
export function toOcsf(trace: Trace, context: OcsfContext): Record<string, unknown> {
  const [activityId, activityName] = (
    ACTIVITIES.find(([verb]) => verb.test(trace.trace_name)) ?? [undefined, 99, 'Other']
  ).slice(1) as [number, string];
  const [severityId, severity] = SEVERITIES[trace.trace_rating] ?? [0, 'Unknown'];
  const user = trace.user
    ? present({
        name: trace.user.name,
        uid: trace.user.id,
        domain: trace.user.domain?.name ?? trace.user.domain?.id,
      })
    : undefined;
  const source = trace.source_ip;
  const resource = present({ uid: trace.resource_id, name: trace.resource_name, type: trace.resource_type });
  return {
    class_uid: 6003,
    class_name: 'API Activity',
    category_uid: 6,
    category_name: 'Application Activity',
    activity_id: activityId,
    activity_name: activityName,
    type_uid: 600300 + activityId,
    type_name: `API Activity: ${activityName}`,
    time: trace.time,
    severity_id: severityId,
    severity,
    ...status(trace.code),
    ...(trace.code === null ? {} : { status_code: trace.code }),
    metadata: {
      version: OCSF_VERSION,
      uid: trace.trace_id,
      logged_time: trace.record_time,
      profiles: ['cloud'],
      product: { ...OCSF_PRODUCT, ...(context.version ? { version: context.version } : {}) },
    },
    cloud: { provider: OCSF_PRODUCT.name, region: context.region, project_uid: context.projectId },
    api: present({
      operation: trace.trace_name,
      service: { name: trace.service_type },
      version: trace.api_version,
      request: trace.request_id === null ? undefined : { uid: trace.request_id },
    }),
    actor: user && Object.keys(user).length > 0 ? { user } : { app_name: trace.service_type },
    src_endpoint: source === null ? { name: 'Unknown' } : isIp(source) ? { ip: source } : { name: source },
    resources: [resource],
    unmapped: present({
      trace_type: trace.trace_type,
      request: trace.request,
      response: trace.response,
      message: trace.message,
      location_info: trace.location_info,
      endpoint: trace.endpoint,
      resource_url: trace.resource_url,
    }),
  };
}
