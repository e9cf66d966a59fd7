import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createApiKey, createProject, revokeApiKey } from '../../src/domain/projects/projects';
import { aTrace, makeTestEnv, type TestEnv } from '../helpers/app';
import { useBackends } from '../helpers/backends';

const backends = useBackends();
const ABSENT_PROJECT = 'ffffffffffffffffffffffffffffffff';

interface Operation {
  method: string;
  /** The OpenAPI path, `{project_id}` still in it. */
  path: string;
}

/** Every operation of the OpenAPI document that declares security: the whole authenticated API. */
async function securedOperations(env: TestEnv): Promise<Operation[]> {
  const doc = await (await env.call('GET', '/openapi.json', { key: null })).json();
  const operations: Operation[] = [];
  for (const [path, methods] of Object.entries(
    doc.paths as Record<string, Record<string, { security?: unknown[] }>>,
  )) {
    for (const [method, operation] of Object.entries(methods)) {
      if (operation.security?.length) operations.push({ method: method.toUpperCase(), path });
    }
  }
  return operations;
}

function call(env: TestEnv, op: Operation, projectId: string, headers: Record<string, string>) {
  const path = op.path
    .replace('{project_id}', projectId)
    // Test projects are their own domain (createProject's default).
    .replace('{domain_id}', projectId)
    .replace('{resource_type}', 'cts-tracker')
    .replace('{resource_id}', 'no-such-tracker')
    .replace('{notification_type}', 'smn')
    .replace('{topic_name}', 'hooks');
  const body = op.method === 'POST' || op.method === 'PUT' ? {} : undefined;
  return env.call(op.method, path, { key: null, body, headers });
}

const label = (op: Operation) => `${op.method} ${op.path}`;

describe.each(backends)('authentication and authorisation ($name)', (backend) => {
  let env: TestEnv;
  /** An admin key of another project in the same database. */
  let otherKey: string;
  let operations: Operation[];
  beforeEach(async () => {
    env = await makeTestEnv({ dbUrl: backend.dbUrl() });
    const other = await createProject(env.deps);
    otherKey = (await createApiKey(env.deps, { projectId: other.id, role: 'admin' })).token;
    operations = await securedOperations(env);
  });
  afterEach(() => env.close());

  it('covers the trace and quota endpoints of the reference', () => {
    expect(operations.map(label)).toEqual(
      expect.arrayContaining([
        'POST /v3/{project_id}/traces',
        'GET /v3/{project_id}/traces',
        'GET /v3/{project_id}/quotas',
      ]),
    );
  });

  it('answers 401 CTS.0002 without a key, with an unknown, malformed or revoked key', async () => {
    const revoked = await createApiKey(env.deps, { projectId: env.projectId, role: 'admin' });
    await revokeApiKey(env.deps, env.projectId, revoked.id);
    const attempts: Array<[string, Record<string, string>]> = [
      ['no key', {}],
      ['unknown key', { 'X-Auth-Token': 'cts_0000000000000000000000000000000000000000' }],
      ['unknown bearer', { Authorization: 'Bearer cts_0000000000000000' }],
      ['basic auth', { Authorization: `Basic ${btoa(`user:${env.keys.admin}`)}` }],
      ['bearer without token', { Authorization: 'Bearer' }],
      ['over-long key', { 'X-Auth-Token': 'k'.repeat(600) }],
      ['revoked key', { 'X-Auth-Token': revoked.token }],
    ];
    for (const op of operations) {
      for (const [what, headers] of attempts) {
        const res = await call(env, op, env.projectId, headers);
        expect(res.status, `${label(op)} with ${what}`).toBe(401);
        expect((await res.json()).error_code).toBe('CTS.0002');
      }
    }
  });

  it('answers 403 CTS.0013 to a key of another project, the same whether that project exists or not', async () => {
    for (const op of operations) {
      const headers = { 'X-Auth-Token': otherKey };
      const existing = await call(env, op, env.projectId, headers);
      const absent = await call(env, op, ABSENT_PROJECT, headers);
      const malformed = await call(env, op, 'not-a-project', headers);
      for (const res of [existing, absent, malformed]) expect(res.status, label(op)).toBe(403);
      const bodies = await Promise.all(
        [existing, absent, malformed].map(async (r) => {
          const { request_id: _, ...rest } = await r.json();
          return rest;
        }),
      );
      expect(bodies[0]).toEqual({ error_code: 'CTS.0013', error_msg: 'No permission, Please check roles.' });
      expect(bodies[1]).toEqual(bodies[0]);
      expect(bodies[2]).toEqual(bodies[0]);
      expect(existing.headers.get('content-length')).toBe(absent.headers.get('content-length'));
    }
  });

  it('answers 403 CTS.0013 to a key without the role', async () => {
    for (const op of operations) {
      const reportsTraces = op.method === 'POST' && op.path === '/v3/{project_id}/traces';
      const denied = reportsTraces ? ['reader'] : op.method === 'GET' ? ['reporter'] : ['reporter', 'reader'];
      for (const role of denied as Array<'reader' | 'reporter'>) {
        const res = await call(env, op, env.projectId, { 'X-Auth-Token': env.keys[role] });
        expect(res.status, `${label(op)} as ${role}`).toBe(403);
        expect((await res.json()).error_code).toBe('CTS.0013');
      }
    }
  });

  it('lets the admin key through every endpoint of its project', async () => {
    for (const op of operations) {
      const res = await call(env, op, env.projectId, { 'X-Auth-Token': env.keys.admin });
      expect([401, 403], label(op)).not.toContain(res.status);
    }
  });

  it('lets a reporter report and a reader read, by X-Auth-Token or Authorization: Bearer', async () => {
    const path = `/v3/${env.projectId}/traces`;
    const report = (headers: Record<string, string>) =>
      env.call('POST', path, { key: null, headers, body: { traces: [aTrace()] } });
    expect((await report({ 'X-Auth-Token': env.keys.reporter })).status).toBe(201);
    expect((await report({ Authorization: `Bearer ${env.keys.reporter}` })).status).toBe(201);
    expect((await report({ authorization: `bearer  ${env.keys.admin}` })).status).toBe(201);
    const readers: Array<Record<string, string>> = [
      { 'X-Auth-Token': env.keys.reader },
      { Authorization: `Bearer ${env.keys.reader}` },
    ];
    for (const headers of readers) {
      const list = await env.call('GET', `${path}?limit=200`, { key: null, headers });
      expect(list.status).toBe(200);
      expect((await list.json()).meta_data.count).toBe(3);
      const quotas = await env.call('GET', `/v3/${env.projectId}/quotas`, { key: null, headers });
      expect(quotas.status).toBe(200);
      expect(await quotas.json()).toEqual({
        resources: [
          { type: 'system_tracker', used: 1, quota: 1 },
          { type: 'data_tracker', used: 0, quota: 100 },
          { type: 'smn_notification', used: 0, quota: 100 },
        ],
      });
    }
  });

  it('stops accepting a key once it is revoked', async () => {
    const key = await createApiKey(env.deps, { projectId: env.projectId, role: 'reader' });
    const path = `/v3/${env.projectId}/traces`;
    expect((await env.call('GET', path, { key: key.token })).status).toBe(200);
    expect(await revokeApiKey(env.deps, env.projectId, key.id)).toBe(true);
    expect((await env.call('GET', path, { key: key.token })).status).toBe(401);
    expect((await env.call('GET', path, { key: env.keys.reader })).status).toBe(200);
  });

  it('serves versions, health and the OpenAPI document without a key', async () => {
    for (const path of ['/', '/v3', '/health', '/openapi.json']) {
      const res = await env.call('GET', path, { key: null });
      expect(res.status, path).toBe(200);
    }
    expect((await (await env.call('GET', '/v3', { key: null })).json()).version).toMatchObject({
      id: 'v3',
      status: 'CURRENT',
    });
    const doc = await (await env.call('GET', '/openapi.json', { key: null })).json();
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/v3/{project_id}/traces', '/v3/{project_id}/quotas']),
    );
    const unknown = await env.call('GET', '/v1.0', { key: null });
    expect(unknown.status).toBe(404);
    expect((await unknown.json()).error_code).toBe('CTS.0100');
  });
});
