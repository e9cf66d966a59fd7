import { aTrace } from '../../helpers/app';
import type { JsonSchema } from './json-schema';

export type Role = 'reporter' | 'reader' | 'admin';
/** Who may call an endpoint: anyone (`public`) or keys of the path's project with these roles. */
export type Access = 'public' | readonly Role[];

/**
 * The expected access of every endpoint (DESIGN §4: reporter only reports; reader reads traces,
 * trackers, notifications, quotas; admin does everything in its project). The suites fail when
 * the OpenAPI document declares an endpoint missing here, so a new endpoint cannot ship
 * without someone deciding who may call it.
 */
export const EXPECTED_ACCESS: Record<string, Access> = {
  'GET /': 'public',
  'GET /{version}': 'public',
  'GET /health': 'public',
  'POST /v3/{project_id}/traces': ['reporter', 'admin'],
  'GET /v3/{project_id}/traces': ['reader', 'admin'],
  'GET /v3/{project_id}/quotas': ['reader', 'admin'],
  'POST /v3/{project_id}/tracker': ['admin'],
  'PUT /v3/{project_id}/tracker': ['admin'],
  'GET /v3/{project_id}/trackers': ['reader', 'admin'],
  'DELETE /v3/{project_id}/trackers': ['admin'],
  'POST /v3/{project_id}/notifications': ['admin'],
  'PUT /v3/{project_id}/notifications': ['admin'],
  'GET /v3/{project_id}/notifications/{notification_type}': ['reader', 'admin'],
  'DELETE /v3/{project_id}/notifications': ['admin'],
  'GET /v3/{project_id}/digest-public-keys': ['reader', 'admin'],
  'GET /v3/{project_id}/notification-deliveries': ['reader', 'admin'],
  // Topics hold webhook URLs, whose path may be a secret: admin only.
  'PUT /v3/{project_id}/topics/{topic_name}': ['admin'],
  'DELETE /v3/{project_id}/topics/{topic_name}': ['admin'],
  'GET /v3/{project_id}/topics': ['admin'],
  // The SDK's listings read what traces contain, like ListTraces.
  'GET /v3/{project_id}/operations': ['reader', 'admin'],
  'GET /v3/{project_id}/user-resources': ['reader', 'admin'],
  'GET /v3/{domain_id}/resources': ['reader', 'admin'],
  // Writes a probe object into the bucket: admin only, like configuring transfer.
  'POST /v3/{domain_id}/checkbucket': ['admin'],
  'POST /v3/{project_id}/{resource_type}/{resource_id}/tags/create': ['admin'],
  'DELETE /v3/{project_id}/{resource_type}/{resource_id}/tags/delete': ['admin'],
};

export interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  required?: boolean;
  schema: JsonSchema;
}

export interface Operation {
  /** `GET /v3/{project_id}/traces` */
  key: string;
  method: string;
  path: string;
  secured: boolean;
  parameters: Parameter[];
  body?: { schema: JsonSchema; required: boolean; contentType: string };
}

export interface OpenApiDocument {
  paths: Record<string, Record<string, OperationObject>>;
  components?: { schemas?: Record<string, JsonSchema> };
}

interface OperationObject {
  security?: unknown[];
  parameters?: Parameter[];
  requestBody?: { required?: boolean; content?: Record<string, { schema: JsonSchema }> };
}

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'];

/** Every operation the document declares. */
export function operationsOf(doc: OpenApiDocument): Operation[] {
  const out: Operation[] = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      if (!METHODS.includes(method)) continue;
      const content = op.requestBody?.content ?? {};
      const [contentType, media] = Object.entries(content)[0] ?? [];
      out.push({
        key: `${method.toUpperCase()} ${path}`,
        method: method.toUpperCase(),
        path,
        secured: (op.security?.length ?? 0) > 0,
        parameters: op.parameters ?? [],
        body:
          contentType && media
            ? { schema: media.schema, required: op.requestBody?.required ?? false, contentType }
            : undefined,
      });
    }
  }
  return out;
}

/** `/v3/{project_id}/traces` with the parameters filled in (URL-encoded). */
export function fillPath(path: string, params: Record<string, string>): string {
  return path.replace(/\{([^}]+)\}/g, (_, name: string) => {
    const value = params[name];
    if (value === undefined) throw new Error(`no value for path parameter ${name} of ${path}`);
    return encodeSegment(value);
  });
}

/**
 * `encodeURIComponent`, except that a lone surrogate (which it refuses) is sent as the bytes a
 * careless client would produce for it (WTF-8, e.g. `%ED%A0%80`).
 */
export function encodeSegment(value: string): string {
  let out = '';
  for (let i = 0; i < value.length; i++) {
    const unit = value.charCodeAt(i);
    const next = value.charCodeAt(i + 1);
    if (unit >= 0xd800 && unit <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
      out += encodeURIComponent(value.slice(i, i + 2));
      i++;
    } else if (unit >= 0xd800 && unit <= 0xdfff) {
      out += `%${(0xe0 | (unit >> 12)).toString(16).toUpperCase()}%${(0x80 | ((unit >> 6) & 0x3f)).toString(16).toUpperCase()}%${(0x80 | (unit & 0x3f)).toString(16).toUpperCase()}`;
    } else out += encodeURIComponent(value[i]!);
  }
  return out;
}

/** A request the proof suites send: the parts an endpoint sample or a generator decides. */
export interface RequestParts {
  params?: Record<string, string>;
  query?: Record<string, string | string[]>;
  body?: unknown;
}

export function queryString(query: RequestParts['query']): string {
  if (!query) return '';
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) {
    for (const v of Array.isArray(value) ? value : [value]) search.append(name, v);
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}

export interface SampleContext {
  projectId: string;
  now: number;
  /** A trace id that exists in the project (for `next`). */
  traceId: string;
  /** A notification id of the project, once notifications exist. */
  notificationId?: string;
}

/**
 * One valid request per endpoint: the base that the corpus mutates and the call the isolation
 * suite makes with every key. Requests that change state change only the caller's project.
 */
export const SAMPLES: Record<string, (ctx: SampleContext) => RequestParts> = {
  'GET /': () => ({}),
  'GET /{version}': () => ({ params: { version: 'v3' } }),
  'GET /health': () => ({}),
  'POST /v3/{project_id}/traces': (ctx) => ({
    body: {
      traces: [aTrace({ trace_id: `sample-${ctx.now}`, time: ctx.now - 60_000 })],
    },
  }),
  'GET /v3/{project_id}/traces': (ctx) => ({
    query: { from: String(ctx.now - 6 * 86_400_000), to: String(ctx.now), limit: '200' },
  }),
  'GET /v3/{project_id}/quotas': () => ({}),
  'POST /v3/{project_id}/tracker': () => ({
    body: {
      tracker_type: 'system',
      tracker_name: 'system',
      obs_info: { bucket_name: 'prove-bucket', file_prefix_name: 'prove', is_obs_created: false },
    },
  }),
  'PUT /v3/{project_id}/tracker': () => ({
    body: {
      tracker_type: 'system',
      tracker_name: 'system',
      status: 'enabled',
      obs_info: { bucket_name: 'prove-bucket', file_prefix_name: 'prove', is_obs_created: false },
    },
  }),
  'GET /v3/{project_id}/trackers': () => ({ query: { tracker_name: 'system' } }),
  'DELETE /v3/{project_id}/trackers': () => ({ query: { tracker_name: 'system' } }),
  'POST /v3/{project_id}/notifications': (ctx) => ({
    body: {
      notification_name: `prove_${ctx.now}`,
      operation_type: 'complete',
      topic_id: 'http://127.0.0.1:9/hook',
    },
  }),
  'PUT /v3/{project_id}/notifications': (ctx) => ({
    body: {
      notification_id: ctx.notificationId ?? '00000000-0000-0000-0000-000000000000',
      notification_name: 'prove_updated',
      operation_type: 'complete',
      status: 'enabled',
      topic_id: 'http://127.0.0.1:9/hook',
    },
  }),
  'GET /v3/{project_id}/notifications/{notification_type}': () => ({
    params: { notification_type: 'smn' },
  }),
  'DELETE /v3/{project_id}/notifications': (ctx) => ({
    query: { notification_id: ctx.notificationId ?? '00000000-0000-0000-0000-000000000000' },
  }),
  'GET /v3/{project_id}/digest-public-keys': () => ({}),
  'GET /v3/{project_id}/notification-deliveries': () => ({ query: { limit: '200' } }),
  'PUT /v3/{project_id}/topics/{topic_name}': () => ({
    params: { topic_name: 'prove-topic' },
    body: { endpoint: 'http://127.0.0.1:9/topic-hook' },
  }),
  'DELETE /v3/{project_id}/topics/{topic_name}': () => ({ params: { topic_name: 'prove-topic' } }),
  'GET /v3/{project_id}/topics': () => ({}),
  'GET /v3/{project_id}/operations': () => ({ query: { service_type: 'ECS' } }),
  'GET /v3/{project_id}/user-resources': () => ({}),
  // The projects of these suites are their own domain (createProject's default).
  'GET /v3/{domain_id}/resources': (ctx) => ({ params: { domain_id: ctx.projectId } }),
  'POST /v3/{domain_id}/checkbucket': (ctx) => ({
    params: { domain_id: ctx.projectId },
    body: { buckets: [{ bucket_name: 'prove-check-bucket' }] },
  }),
  'POST /v3/{project_id}/{resource_type}/{resource_id}/tags/create': () => ({
    params: { resource_type: 'cts-tracker', resource_id: 'prove-tracker-id' },
    body: { tags: [{ key: 'prove', value: 'tag' }] },
  }),
  'DELETE /v3/{project_id}/{resource_type}/{resource_id}/tags/delete': () => ({
    params: { resource_type: 'cts-tracker', resource_id: 'prove-tracker-id' },
    body: { tags: [{ key: 'prove' }] },
  }),
};

/** The access and sample of an operation, or a message naming what is missing from the tables. */
export function expectationsFor(op: Operation): {
  access: Access;
  sample: (ctx: SampleContext) => RequestParts;
} {
  const access = EXPECTED_ACCESS[op.key];
  const sample = SAMPLES[op.key];
  if (access === undefined || sample === undefined) {
    throw new Error(
      `${op.key} is declared in /openapi.json but missing from test/prove/helpers/endpoints.ts ` +
        '(EXPECTED_ACCESS and SAMPLES): decide who may call it and add a valid sample request.',
    );
  }
  if ((access === 'public') === op.secured) {
    throw new Error(`${op.key}: the document says secured=${op.secured}, the expected table says ${access}`);
  }
  return { access, sample };
}
