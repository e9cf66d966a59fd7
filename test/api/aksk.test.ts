import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type CreatedKey,
  createApiKey,
  createProject,
  revokeApiKey,
} from '../../src/domain/projects/projects';
import { aTrace, makeTestEnv, type TestEnv } from '../helpers/app';
import { useBackends } from '../helpers/backends';
import { sdkSign, sdkUrl } from '../helpers/sdk-signer';

// AK/SK (SDK-HMAC-SHA256) verification, in-process, every request signed by the SDK's own signer.

const backends = useBackends();
const SECRET = 'test-server-secret-0123456789abcdef0123456789';
const ORIGIN = 'http://localhost';

describe.each(backends)('AK/SK request signing ($name)', (backend) => {
  let env: TestEnv;
  let admin: CreatedKey;
  let reader: CreatedKey;

  beforeEach(async () => {
    env = await makeTestEnv({ dbUrl: backend.dbUrl(), config: { CTS_SECRET: SECRET } });
    admin = await createApiKey(env.deps, { projectId: env.projectId, role: 'admin', name: 'sdk-admin' });
    reader = await createApiKey(env.deps, { projectId: env.projectId, role: 'reader', name: 'sdk-reader' });
    env.clock.set(Date.now());
  });
  afterEach(() => env.close());

  const pair = (key: CreatedKey) => ({ ak: key.accessKey!.id, sk: key.accessKey!.secret });

  /** A request signed by the SDK's signer, sent in-process; `tamper` changes it after signing. */
  async function signed(
    method: string,
    path: string,
    options: {
      key?: CreatedKey;
      query?: Record<string, string>;
      body?: unknown;
      credentials?: { ak: string; sk: string; securityToken?: string };
      tamper?: (headers: Record<string, string>) => void;
      sendQuery?: Record<string, string>;
      sendBody?: string;
    } = {},
  ) {
    const endpoint = `${ORIGIN}${path}`;
    const headers = sdkSign(
      {
        method,
        endpoint,
        queryParams: options.query,
        headers: { 'content-type': 'application/json' },
        data: options.body,
      },
      options.credentials ?? pair(options.key ?? admin),
    );
    options.tamper?.(headers);
    const body = options.sendBody ?? (options.body === undefined ? undefined : JSON.stringify(options.body));
    return env.app.request(sdkUrl(endpoint, options.sendQuery ?? options.query), { method, headers, body });
  }

  it('creates each key with an AK/SK pair derived from the server secret', async () => {
    expect(admin.accessKey?.id).toMatch(/^[0-9A-F]{32}$/);
    expect(admin.accessKey?.secret).toMatch(/^[0-9a-f]{64}$/);
    expect(reader.accessKey?.secret).not.toBe(admin.accessKey?.secret);
    const again = await makeTestEnv({ config: { CTS_SECRET: `${SECRET}-other` } });
    const other = await createApiKey(again.deps, { projectId: again.projectId, role: 'admin' });
    again.close();
    expect(other.accessKey?.secret).not.toBe(admin.accessKey?.secret);
  });

  it('accepts signed GET, POST, PUT and DELETE requests with queries and bodies', async () => {
    const report = await signed('POST', `/v3/${env.projectId}/traces`, {
      body: { traces: [aTrace({ time: Date.now() - 60_000, resource_name: 'a b/ü' })] },
    });
    expect(report.status).toBe(201);
    const list = await signed('GET', `/v3/${env.projectId}/traces`, {
      key: reader,
      query: { limit: '5', resource_name: 'a b/ü', from: String(Date.now() - 3_600_000) },
    });
    expect(list.status).toBe(200);
    expect((await list.json()).traces).toHaveLength(1);
    const put = await signed('PUT', `/v3/${env.projectId}/tracker`, {
      body: { tracker_type: 'system', tracker_name: 'system', status: 'disabled' },
    });
    expect(put.status).toBe(200);
    const del = await signed('DELETE', `/v3/${env.projectId}/trackers`, {
      query: { tracker_name: 'system' },
    });
    expect(del.status).toBe(204);
  });

  it('records the access key id in CTS audit traces', async () => {
    await signed('PUT', `/v3/${env.projectId}/tracker`, {
      body: { tracker_type: 'system', tracker_name: 'system', status: 'enabled' },
    });
    const list = await env.call(
      'GET',
      `/v3/${env.projectId}/traces?service_type=CTS&trace_name=updateTracker`,
    );
    const [trace] = (await list.json()).traces;
    const user = typeof trace.user === 'string' ? JSON.parse(trace.user) : trace.user;
    expect(user.access_key_id).toBe(admin.accessKey?.id);
    expect(user.name).toBe('sdk-admin');
  });

  it('keeps X-Auth-Token and Bearer working', async () => {
    expect((await env.call('GET', `/v3/${env.projectId}/trackers`)).status).toBe(200);
    const bearer = await env.call('GET', `/v3/${env.projectId}/trackers`, {
      key: null,
      headers: { Authorization: `Bearer ${env.keys.reader}` },
    });
    expect(bearer.status).toBe(200);
  });

  const refusals: Array<[string, Parameters<typeof signed>[2], RegExp]> = [
    [
      'a wrong signature',
      {
        tamper: editAuthorization(/Signature=(.)/, (_, c) => `Signature=${c === 'a' ? 'b' : 'a'}`),
      },
      /signature does not match/,
    ],
    ['a changed query', { query: { limit: '5' }, sendQuery: { limit: '6' } }, /signature does not match/],
    ['a changed body', { body: { a: 1 }, sendBody: '{"a":2}' }, /signature does not match/],
    [
      'an unknown access key',
      { credentials: { ak: 'ABCDEF0123456789ABCDEF0123456789', sk: 'x' } },
      /unknown or revoked/,
    ],
    ['a malformed access key', { credentials: { ak: 'AKIA-not-ours', sk: 'x' } }, /unknown or revoked/],
    ['a wrong secret key', { credentials: { ak: '', sk: 'wrong' } }, /signature does not match/],
    [
      'an unsigned host',
      {
        tamper: editAuthorization(/SignedHeaders=\S+,/, 'SignedHeaders=content-type;x-sdk-date,'),
      },
      /host header must be signed/,
    ],
    [
      'an unsigned x-sdk-date',
      {
        tamper: editAuthorization(/SignedHeaders=\S+,/, 'SignedHeaders=content-type;host,'),
      },
      /x-sdk-date header must be signed/,
    ],
    [
      'a date 16 minutes old',
      { tamper: setHeader('X-Sdk-Date', sdkDate(Date.now() - 16 * 60_000)) },
      /15 minutes/,
    ],
    ['a malformed date', { tamper: setHeader('X-Sdk-Date', '2026-01-01T00:00:00Z') }, /X-Sdk-Date must be/],
    [
      'an unsigned payload',
      { body: { a: 1 }, tamper: setHeader('X-Sdk-Content-Sha256', 'UNSIGNED-PAYLOAD') },
      /unsigned payloads/,
    ],
    [
      'temporary credentials',
      { credentials: { ak: '', sk: '', securityToken: 'session-token' } },
      /X-Security-Token/,
    ],
    [
      'a malformed Authorization',
      { tamper: setHeader('Authorization', 'SDK-HMAC-SHA256 Access=x') },
      /Malformed/,
    ],
  ];

  it.each(refusals)('refuses %s with 401 CTS.0002', async (_, options, message) => {
    const credentials = options?.credentials;
    const filled = credentials && {
      ...pair(admin),
      ...Object.fromEntries(Object.entries(credentials).filter(([, v]) => v !== '')),
    };
    const [method, resource] = options?.body === undefined ? ['GET', 'trackers'] : ['POST', 'traces'];
    const response = await signed(method, `/v3/${env.projectId}/${resource}`, {
      ...options,
      credentials: filled,
    });
    expect(response.status).toBe(401);
    const body = await response.json();
    expect(body.error_code).toBe('CTS.0002');
    expect(body.error_msg).toMatch(message);
  });

  it('accepts a date up to 15 minutes off either way, and the date is signed', async () => {
    for (const offset of [-14, 14]) {
      const response = await signed('GET', `/v3/${env.projectId}/trackers`, {
        tamper: setHeader('X-Sdk-Date', sdkDate(Date.now() + offset * 60_000)),
      });
      // The date is signed: changing it after signing breaks the signature, so sign with it instead.
      expect(response.status).toBe(401);
    }
    for (const offset of [-14, 14]) {
      env.clock.set(Date.now() - offset * 60_000);
      expect((await signed('GET', `/v3/${env.projectId}/trackers`)).status).toBe(200);
    }
  });

  it('refuses a revoked key, and a key of another project with 403', async () => {
    await revokeApiKey(env.deps, env.projectId, reader.id);
    const revoked = await signed('GET', `/v3/${env.projectId}/trackers`, { key: reader });
    expect(revoked.status).toBe(401);
    const other = await createProject(env.deps);
    const foreign = await createApiKey(env.deps, { projectId: other.id, role: 'admin' });
    const response = await signed('GET', `/v3/${env.projectId}/trackers`, { key: foreign });
    expect(response.status).toBe(403);
    expect((await response.json()).error_code).toBe('CTS.0013');
    const wrongRole = await signed('PUT', `/v3/${env.projectId}/tracker`, {
      key: await createApiKey(env.deps, { projectId: env.projectId, role: 'reader' }),
      body: { tracker_type: 'system', tracker_name: 'system', status: 'enabled' },
    });
    expect(wrongRole.status).toBe(403);
  });

  it('refuses AK/SK when the server has no secret', async () => {
    const plain = await makeTestEnv({ dbUrl: backend.dbUrl() });
    try {
      const headers = sdkSign(
        { method: 'GET', endpoint: `${ORIGIN}/v3/${plain.projectId}/trackers` },
        pair(admin),
      );
      const response = await plain.app.request(`/v3/${plain.projectId}/trackers`, { headers });
      expect(response.status).toBe(401);
      expect((await response.json()).error_msg).toMatch(/CTS_SECRET/);
    } finally {
      plain.close();
    }
  });
});

type Headers = Record<string, string>;
const setHeader = (name: string, value: string) => (headers: Headers) => {
  headers[name] = value;
};
const editAuthorization =
  (pattern: RegExp, replacement: string | ((match: string, ...groups: string[]) => string)) =>
  (headers: Headers) => {
    headers.Authorization = headers.Authorization!.replace(pattern, replacement as string);
  };

/** `YYYYMMDDTHHmmssZ`, the X-Sdk-Date format. */
function sdkDate(time: number): string {
  return `${new Date(time).toISOString().replace(/[-:]/g, '').slice(0, 15)}Z`;
}
