import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createApiKey, createProject } from '../src/domain/projects/projects';
import { makeTestEnv, type TestEnv } from './helpers/app';

let env: TestEnv;
let base: string;
beforeEach(async () => {
  env = await makeTestEnv();
  base = `/v3/${env.projectId}`;
});
afterEach(() => env.close());

const customized = (overrides: Record<string, unknown> = {}) => ({
  notification_name: 'keyOps_1',
  operation_type: 'customized',
  operations: [
    { service_type: 'CTS', resource_type: 'tracker', trace_names: ['createTracker', 'deleteTracker'] },
    { service_type: 'AOM', resource_type: 'pe', trace_names: ['createPolicyGroup'] },
  ],
  notify_user_list: [{ user_group: 'admin', user_list: ['u1', 'u2'] }],
  topic_id: 'https://hooks.example.com/cts',
  filter: { is_support_filter: true, condition: 'OR', rule: ['code != 200', 'trace_rating = warning'] },
  ...overrides,
});

async function create(body: Record<string, unknown>) {
  const res = await env.call('POST', `${base}/notifications`, { body });
  return { status: res.status, body: await res.json() };
}

async function list(query = '') {
  const res = await env.call('GET', `${base}/notifications/smn${query}`, { key: env.keys.reader });
  expect(res.status).toBe(200);
  return (await res.json()).notifications as Array<Record<string, unknown>>;
}

async function auditTraces() {
  const res = await env.call('GET', `${base}/traces?service_type=CTS&limit=200`, { key: env.keys.reader });
  const traces = (await res.json()).traces as Array<Record<string, unknown>>;
  return traces.map((t) => [t.trace_name, t.resource_type, t.resource_name]).reverse();
}

const fieldsOf = (body: { details?: Array<{ field: string }> }) => (body.details ?? []).map((d) => d.field);

describe('key event notification API', () => {
  it('creates a customized rule in the reference shape and shows the secret only once', async () => {
    const { status, body } = await create(customized());
    expect(status).toBe(201);
    expect(body).toMatchObject({
      notification_name: 'keyOps_1',
      notification_type: 'smn',
      operation_type: 'customized',
      status: 'enabled',
      topic_id: 'https://hooks.example.com/cts',
      operations: customized().operations,
      notify_user_list: customized().notify_user_list,
      filter: customized().filter,
      project_id: env.projectId,
      create_time: env.clock(),
    });
    expect(body.notification_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(body.domain_id).toEqual(expect.any(String));
    expect(body.secret).toMatch(/^ctsn_[0-9a-f]{64}$/);

    const [listed] = await list();
    expect(listed).toEqual(Object.fromEntries(Object.entries(body).filter(([k]) => k !== 'secret')));
    expect(JSON.stringify(await list())).not.toContain(body.secret);
  });

  it('stores complete rules without operations; a rule without a topic starts disabled', async () => {
    const { body } = await create({
      notification_name: 'everything',
      operation_type: 'complete',
      operations: customized().operations,
    });
    expect(body).toMatchObject({
      operation_type: 'complete',
      operations: [],
      notify_user_list: [],
      status: 'disabled',
    });
    expect(body).not.toHaveProperty('topic_id');
    expect(body).not.toHaveProperty('filter');
  });

  it('filters the list by name and rejects unknown notification types', async () => {
    await create(customized({ notification_name: 'a' }));
    await create(customized({ notification_name: 'b' }));
    expect((await list('?notification_name=b')).map((n) => n.notification_name)).toEqual(['b']);
    expect((await list()).map((n) => n.notification_name)).toEqual(['a', 'b']);
    const bad = await env.call('GET', `${base}/notifications/sms`);
    expect(bad.status).toBe(400);
    expect(fieldsOf(await bad.json())).toEqual(['notification_type']);
  });

  it('rejects a duplicate name with CTS.0400, on create and on rename', async () => {
    await create(customized({ notification_name: 'one' }));
    const two = await create(customized({ notification_name: 'two' }));
    const dup = await create(customized({ notification_name: 'one' }));
    expect(dup.status).toBe(400);
    expect(dup.body).toMatchObject({
      error_code: 'CTS.0400',
      error_msg: 'NotificationV3 name is existed already.',
    });
    const rename = await env.call('PUT', `${base}/notifications`, {
      body: {
        ...customized({ notification_name: 'one' }),
        notification_id: two.body.notification_id,
        status: 'enabled',
      },
    });
    expect(rename.status).toBe(400);
    expect((await rename.json()).error_code).toBe('CTS.0400');
  });

  it.each([
    ['notification_name', { notification_name: 'with-hyphen' }],
    ['notification_name', { notification_name: 'x'.repeat(65) }],
    ['operation_type', { operation_type: 'some' }],
    ['operations', { operations: [] }],
    [
      'operations[0].service_type',
      { operations: [{ service_type: 'ecs', resource_type: 'ecs', trace_names: ['a'] }] },
    ],
    [
      'operations[0].trace_names[0]',
      { operations: [{ service_type: 'ECS', resource_type: 'ecs', trace_names: ['1a'] }] },
    ],
    [
      'operations',
      {
        operations: Array.from({ length: 11 }, (_, i) => ({
          service_type: `S${i}`,
          resource_type: 'r',
          trace_names: Array.from({ length: 100 }, (_, j) => `op${j}`),
        })),
      },
    ],
    [
      'operations',
      {
        operations: Array.from({ length: 101 }, (_, i) => ({
          service_type: `S${i}`,
          resource_type: 'r',
          trace_names: ['a'],
        })),
      },
    ],
    [
      'notify_user_list',
      { notify_user_list: Array.from({ length: 11 }, (_, i) => ({ user_group: `g${i}`, user_list: ['u'] })) },
    ],
    [
      'notify_user_list',
      {
        notify_user_list: Array.from({ length: 6 }, (_, i) => ({
          user_group: `g${i}`,
          user_list: Array.from({ length: 9 }, (_, j) => `u${j}`),
        })),
      },
    ],
    ['filter.rule', { filter: { is_support_filter: true, rule: Array(7).fill('code = 200') } }],
    ['filter.rule', { filter: { is_support_filter: true, rule: [] } }],
    ['filter.rule[1]', { filter: { is_support_filter: true, rule: ['code = 200', 'user = bob'] } }],
    ['filter.rule[0]', { filter: { is_support_filter: true, rule: ['trace_type = Api'] } }],
    ['filter.condition', { filter: { is_support_filter: true, condition: 'XOR', rule: ['code = 1'] } }],
    ['topic_id', { topic_id: 'ftp://example.com/hook' }],
    ['topic_id', { topic_id: 'https://user:secret@example.com/hook' }],
    ['topic_id', { topic_id: 'http://169.254.169.254/latest' }],
    ['topic_id', { topic_id: 'urn:smn:local-1:0123456789abcdef0123456789abcdef:other_project' }],
    ['topic_id', { topic_id: 'urn:smn:elsewhere-1:PROJECT:audit' }],
    ['topic_id', { topic_id: 'urn:smn:local-1:PROJECT:undefined_topic' }],
  ])('rejects a bad %s with CTS.0003 naming it', async (field, overrides) => {
    const body = JSON.parse(JSON.stringify(customized(overrides)).replaceAll('PROJECT', env.projectId));
    const res = await create(body);
    expect(res.status).toBe(400);
    expect(res.body.error_code).toBe('CTS.0003');
    expect(fieldsOf(res.body)).toContain(field);
  });

  it('accepts the limits exactly: 1000 operations of 100 services, 50 users in 10 groups, 6 rules', async () => {
    const res = await create(
      customized({
        operations: Array.from({ length: 100 }, (_, i) => ({
          service_type: `S${i}`,
          resource_type: 'r',
          trace_names: Array.from({ length: 10 }, (_, j) => `op${j}`),
        })),
        notify_user_list: Array.from({ length: 10 }, (_, i) => ({
          user_group: `g${i}`,
          user_list: Array.from({ length: 5 }, (_, j) => `u${i}_${j}`),
        })),
        filter: { is_support_filter: true, condition: 'AND', rule: Array(6).fill('code != 500') },
      }),
    );
    expect(res.status).toBe(201);
  });

  it('modifies a rule as a full replacement; topic_id is required when enabled', async () => {
    const { body: created } = await create(customized());
    const id = created.notification_id;
    const noTopic = await env.call('PUT', `${base}/notifications`, {
      body: {
        notification_id: id,
        notification_name: 'keyOps_1',
        operation_type: 'complete',
        status: 'enabled',
      },
    });
    expect(noTopic.status).toBe(400);
    expect(fieldsOf(await noTopic.json())).toEqual(['topic_id']);

    const res = await env.call('PUT', `${base}/notifications`, {
      body: {
        notification_id: id,
        notification_name: 'renamed',
        operation_type: 'complete',
        status: 'disabled',
      },
    });
    expect(res.status).toBe(200);
    const updated = await res.json();
    expect(updated).toMatchObject({
      notification_id: id,
      notification_name: 'renamed',
      operations: [],
      status: 'disabled',
    });
    expect(updated).not.toHaveProperty('topic_id');
    expect(updated).not.toHaveProperty('filter');
    expect(updated.create_time).toBe(created.create_time);

    const unknown = await env.call('PUT', `${base}/notifications`, {
      body: {
        notification_id: 'nope',
        notification_name: 'x',
        operation_type: 'complete',
        status: 'disabled',
      },
    });
    expect(unknown.status).toBe(404);
    expect((await unknown.json()).error_code).toBe('CTS.0401');
    const missingStatus = await env.call('PUT', `${base}/notifications`, {
      body: { notification_id: id, notification_name: 'x', operation_type: 'complete' },
    });
    expect(fieldsOf(await missingStatus.json())).toEqual(['status']);
  });

  it('deletes several rules at once, all or nothing', async () => {
    const ids = [];
    for (const name of ['a', 'b', 'c'])
      ids.push((await create(customized({ notification_name: name }))).body.notification_id);
    const unknown = await env.call('DELETE', `${base}/notifications?notification_id=${ids[0]},nope`);
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({
      error_code: 'CTS.0401',
      error_msg: expect.stringContaining('nope'),
    });
    expect(await list()).toHaveLength(3);

    const res = await env.call('DELETE', `${base}/notifications?notification_id=${ids[0]}, ${ids[1]}`);
    expect(res.status).toBe(204);
    expect((await list()).map((n) => n.notification_name)).toEqual(['c']);
    expect((await env.call('DELETE', `${base}/notifications?notification_id=,`)).status).toBe(400);
    expect((await env.call('DELETE', `${base}/notifications`)).status).toBe(400);
  });

  it('allows 100 rules per project and reports them in the quotas', async () => {
    for (let i = 0; i < 100; i++) {
      expect((await create(customized({ notification_name: `n${i}` }))).status).toBe(201);
    }
    const over = await create(customized({ notification_name: 'n100' }));
    expect(over.status).toBe(400);
    expect(over.body.error_code).toBe('CTS.0402');
    const quotas = await (await env.call('GET', `${base}/quotas`, { key: env.keys.reader })).json();
    expect(quotas.resources).toContainEqual({ type: 'smn_notification', used: 100, quota: 100 });
  });

  it('lets readers query, only admins write, and nobody touch another project', async () => {
    const body = customized();
    for (const key of [env.keys.reader, env.keys.reporter]) {
      const res = await env.call('POST', `${base}/notifications`, { key, body });
      expect(res.status).toBe(403);
      expect((await res.json()).error_code).toBe('CTS.0013');
      expect((await env.call('PUT', `${base}/notifications`, { key, body })).status).toBe(403);
      expect((await env.call('DELETE', `${base}/notifications?notification_id=x`, { key })).status).toBe(403);
    }
    expect((await env.call('GET', `${base}/notifications/smn`, { key: env.keys.reporter })).status).toBe(403);
    expect((await env.call('GET', `${base}/notifications/smn`, { key: null })).status).toBe(401);
    expect((await env.call('POST', `${base}/notifications`, { key: 'cts_wrong', body })).status).toBe(401);

    const other = await createProject(env.deps);
    const otherAdmin = (await createApiKey(env.deps, { projectId: other.id, role: 'admin' })).token;
    expect((await env.call('POST', `${base}/notifications`, { key: otherAdmin, body })).status).toBe(403);
    expect((await env.call('GET', `${base}/notifications/smn`, { key: otherAdmin })).status).toBe(403);
  });

  it('records its own operations as CTS traces', async () => {
    const { body } = await create(customized());
    const id = body.notification_id;
    const put = (status: string, name = 'keyOps_1') =>
      env.call('PUT', `${base}/notifications`, {
        body: { ...customized({ notification_name: name }), notification_id: id, status },
      });
    await put('disabled');
    await put('disabled', 'renamed');
    await env.call('DELETE', `${base}/notifications?notification_id=${id}`);
    expect(await auditTraces()).toEqual([
      ['createNotification', 'notification', 'keyOps_1'],
      ['updateNotificationStatus', 'notification', 'keyOps_1'],
      ['updateNotification', 'notification', 'renamed'],
      ['deleteNotification', 'notification', 'renamed'],
    ]);
    const res = await env.call('GET', `${base}/traces?trace_name=createNotification`, {
      key: env.keys.reader,
    });
    const [trace] = (await res.json()).traces;
    expect(trace).toMatchObject({
      service_type: 'CTS',
      resource_id: id,
      code: '201',
      user: { name: 'admin-key' },
    });
    expect(JSON.stringify(trace)).not.toContain(body.secret);
  });

  it('serves the notification and topic paths in the OpenAPI document', async () => {
    const doc = await (await env.call('GET', '/openapi.json', { key: null })).json();
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/v3/{project_id}/notifications',
        '/v3/{project_id}/notifications/{notification_type}',
        '/v3/{project_id}/notification-deliveries',
        '/v3/{project_id}/topics',
        '/v3/{project_id}/topics/{topic_name}',
      ]),
    );
  });
});

describe('topics', () => {
  it('defines, repoints, lists and deletes topics; a topic in use cannot be deleted', async () => {
    const put = (name: string, endpoint: string, key = env.keys.admin) =>
      env.call('PUT', `${base}/topics/${name}`, { key, body: { endpoint } });
    const created = await put('audit', 'https://hooks.example.com/a');
    expect(created.status).toBe(201);
    const topic = await created.json();
    expect(topic).toEqual({
      topic_urn: `urn:smn:local-1:${env.projectId}:audit`,
      name: 'audit',
      endpoint: 'https://hooks.example.com/a',
      project_id: env.projectId,
      create_time: env.clock(),
    });
    const repointed = await put('audit', 'https://hooks.example.com/b');
    expect(repointed.status).toBe(200);
    expect((await repointed.json()).endpoint).toBe('https://hooks.example.com/b');

    expect((await put('bad name', 'https://x.example/')).status).toBe(400);
    const creds = await put('creds', 'https://u:p@x.example/');
    expect(fieldsOf(await creds.json())).toEqual(['endpoint']);
    expect((await put('audit2', 'https://x.example/', env.keys.reader)).status).toBe(403);
    expect((await env.call('GET', `${base}/topics`, { key: env.keys.reader })).status).toBe(403);
    const listed = await (await env.call('GET', `${base}/topics`)).json();
    expect(listed.topics.map((t: { name: string }) => t.name)).toEqual(['audit']);

    const rule = await create(customized({ topic_id: topic.topic_urn }));
    expect(rule.status).toBe(201);
    const inUse = await env.call('DELETE', `${base}/topics/audit`);
    expect(inUse.status).toBe(400);
    expect((await inUse.json()).error_msg).toContain('keyOps_1');
    await env.call('DELETE', `${base}/notifications?notification_id=${rule.body.notification_id}`);
    expect((await env.call('DELETE', `${base}/topics/audit`)).status).toBe(204);
    const gone = await env.call('DELETE', `${base}/topics/audit`);
    expect(gone.status).toBe(404);
    expect((await gone.json()).error_code).toBe('CTS.0403');
    // Refused calls are recorded too (issue 13), under the trace name of what was tried.
    expect((await auditTraces()).filter(([name]) => String(name).endsWith('Topic'))).toEqual([
      ['createTopic', 'topic', 'audit'],
      ['updateTopic', 'topic', 'audit'],
      ['updateTopic', 'topic', 'bad name'],
      ['updateTopic', 'topic', 'creds'],
      ['updateTopic', 'topic', 'audit2'],
      ['deleteTopic', 'topic', 'audit'],
      ['deleteTopic', 'topic', 'audit'],
      ['deleteTopic', 'topic', 'audit'],
    ]);
    // Readers see audit traces; topics keep their URLs from them.
    const traces = await env.call('GET', `${base}/traces?resource_type=topic`, { key: env.keys.reader });
    expect(JSON.stringify(await traces.json())).not.toContain('hooks.example.com');
  });

  it('refuses private webhook addresses when CTS_WEBHOOK_ALLOW_PRIVATE is false', async () => {
    const strict = await makeTestEnv({ config: { CTS_WEBHOOK_ALLOW_PRIVATE: 'false' } });
    try {
      const res = await strict.call('POST', `/v3/${strict.projectId}/notifications`, {
        body: customized({ topic_id: 'http://127.0.0.1:9/hook' }),
      });
      expect(res.status).toBe(400);
      expect((await res.json()).error_msg).toContain('CTS_WEBHOOK_ALLOW_PRIVATE');
    } finally {
      strict.close();
    }
  });
});
