import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createApiKey, createProject } from '../src/domain/projects/projects';
import { makeTestEnv, type TestEnv } from './helpers/app';

let env: TestEnv;
beforeEach(async () => {
  env = await makeTestEnv({ config: { CTS_REGION: 'eu-test-1' } });
});
afterEach(() => env.close());

const trackerPath = () => `/v3/${env.projectId}/tracker`;
const trackersPath = () => `/v3/${env.projectId}/trackers`;
const system = { tracker_type: 'system', tracker_name: 'system' };

async function listTrackers(key = env.keys.admin) {
  const res = await env.call('GET', trackersPath(), { key });
  expect(res.status).toBe(200);
  return (await res.json()).trackers as Array<Record<string, unknown>>;
}

async function ctsTraces() {
  const res = await env.call('GET', `/v3/${env.projectId}/traces?service_type=CTS&limit=200`);
  return (await res.json()).traces as Array<Record<string, unknown>>;
}

describe('tracker API', () => {
  it('lists the system tracker that exists from project creation, in the CTS shape', async () => {
    const [tracker, ...rest] = await listTrackers(env.keys.reader);
    expect(rest).toEqual([]);
    expect(tracker).toEqual({
      id: expect.any(String),
      create_time: env.clock(),
      domain_id: expect.any(String),
      project_id: env.projectId,
      tracker_name: 'system',
      tracker_type: 'system',
      status: 'enabled',
      is_support_validate: false,
      is_organization_tracker: false,
      is_support_trace_files_encryption: false,
      management_event_selector: { exclude_service: [] },
      lts: { is_lts_enabled: false, log_group_name: 'CTS', log_topic_name: 'system-trace' },
      obs_info: {
        bucket_name: '',
        file_prefix_name: '',
        is_obs_created: false,
        is_authorized_bucket: false,
        bucket_lifecycle: 0,
        bucket_location: '',
        compress_type: 'gzip',
        is_sort_by_service: true,
      },
    });
    expect(tracker).not.toHaveProperty('detail');
    const byName = await env.call('GET', `${trackersPath()}?tracker_name=system`);
    expect((await byName.json()).trackers).toHaveLength(1);
    const other = await env.call('GET', `${trackersPath()}?tracker_name=other`);
    expect(await other.json()).toEqual({ trackers: [] });
  });

  it('refuses a second management tracker, deletes it and creates it again', async () => {
    const again = await env.call('POST', trackerPath(), { body: system });
    expect(again.status).toBe(400);
    expect(await again.json()).toMatchObject({
      error_code: 'CTS.0201',
      error_msg: 'A management tracker has been created.',
    });

    const deleted = await env.call('DELETE', `${trackersPath()}?tracker_name=system`);
    expect(deleted.status).toBe(204);
    expect(await listTrackers()).toEqual([]);
    const quotas = await (await env.call('GET', `/v3/${env.projectId}/quotas`)).json();
    expect(quotas.resources).toContainEqual({ type: 'system_tracker', used: 0, quota: 1 });

    // Without arguments DELETE removes the data trackers (the SDK's meaning): none here, done.
    expect((await env.call('DELETE', trackersPath())).status).toBe(204);
    for (const [method, path] of [
      ['DELETE', `${trackersPath()}?tracker_name=system`],
      ['DELETE', `${trackersPath()}?tracker_type=system`],
    ] as const) {
      const missing = await env.call(method, path);
      expect(missing.status).toBe(404);
      expect(await missing.json()).toMatchObject({
        error_code: 'CTS.0214',
        error_msg: 'The tracker does not exist.',
      });
    }
    const put = await env.call('PUT', trackerPath(), { body: { ...system, status: 'disabled' } });
    expect(put.status).toBe(404);
    expect((await put.json()).error_code).toBe('CTS.0214');

    const obsInfo = {
      bucket_name: 'audit-bkt',
      file_prefix_name: 'acme',
      is_obs_created: true,
      compress_type: 'json',
      is_sort_by_service: false,
    };
    const created = await env.call('POST', trackerPath(), {
      body: {
        ...system,
        is_lts_enabled: true,
        is_support_validate: true,
        obs_info: obsInfo,
      },
    });
    expect(created.status).toBe(201);
    const body = await created.json();
    expect(body).toMatchObject({
      tracker_name: 'system',
      status: 'enabled',
      is_support_validate: true,
      lts: { is_lts_enabled: true },
      obs_info: obsInfo,
    });
    expect(await env.deps.buckets.exists('audit-bkt')).toBe(true);
    expect((await listTrackers())[0]).toEqual(body);
  });

  it('modifies only the fields sent, and enables and disables', async () => {
    await env.deps.buckets.create('existing-bkt');
    const configure = await env.call('PUT', trackerPath(), {
      body: { ...system, obs_info: { bucket_name: 'existing-bkt', file_prefix_name: 'p1' } },
    });
    expect(configure.status).toBe(200);
    expect(await configure.text()).toBe('');
    const disable = await env.call('PUT', trackerPath(), { body: { ...system, status: 'disabled' } });
    expect(disable.status).toBe(200);
    let [tracker] = await listTrackers();
    expect(tracker).toMatchObject({
      status: 'disabled',
      obs_info: {
        bucket_name: 'existing-bkt',
        file_prefix_name: 'p1',
        is_obs_created: false,
        compress_type: 'gzip',
      },
    });
    await env.call('PUT', trackerPath(), {
      body: { ...system, status: 'enabled', obs_info: { compress_type: 'json', is_sort_by_service: false } },
    });
    [tracker] = await listTrackers();
    expect(tracker).toMatchObject({
      status: 'enabled',
      obs_info: {
        bucket_name: 'existing-bkt',
        file_prefix_name: 'p1',
        compress_type: 'json',
        is_sort_by_service: false,
      },
    });
    // An empty bucket name turns the transfer off.
    await env.call('PUT', trackerPath(), { body: { ...system, obs_info: { bucket_name: '' } } });
    [tracker] = await listTrackers();
    expect(tracker?.obs_info).toMatchObject({ bucket_name: '', is_obs_created: false });
  });

  it('creates the bucket for is_obs_created, and refuses one that exists (CTS.0215)', async () => {
    await env.deps.buckets.create('taken-bkt');
    const taken = await env.call('PUT', trackerPath(), {
      body: { ...system, obs_info: { bucket_name: 'taken-bkt', is_obs_created: true } },
    });
    expect(taken.status).toBe(400);
    expect(await taken.json()).toMatchObject({
      error_code: 'CTS.0215',
      error_msg: 'The OBS bucket already exists.',
    });
    const fresh = await env.call('PUT', trackerPath(), {
      body: { ...system, obs_info: { bucket_name: 'fresh-bkt', is_obs_created: true } },
    });
    expect(fresh.status).toBe(200);
    expect(await env.deps.buckets.exists('fresh-bkt')).toBe(true);
    const [tracker] = await listTrackers();
    expect(tracker?.obs_info).toMatchObject({ bucket_name: 'fresh-bkt', is_obs_created: true });
  });

  const invalid: Array<[string, unknown, number, string, string?]> = [
    ['tracker_name other than system', { ...system, tracker_name: 'mytracker' }, 400, 'CTS.0204'],
    ['malformed tracker_name', { ...system, tracker_name: 'bad name!' }, 400, 'CTS.0203'],
    [
      'tracker_type other than system or data',
      { ...system, tracker_type: 'other' },
      400,
      'CTS.0003',
      'tracker_type',
    ],
    ['a data tracker named system', { ...system, tracker_type: 'data' }, 400, 'CTS.0203', 'tracker_name'],
    ['missing tracker_type', { tracker_name: 'system' }, 400, 'CTS.0003', 'tracker_type'],
    ['status outside enabled/disabled', { ...system, status: 'paused' }, 400, 'CTS.0205', 'status'],
    ...['AB', 'ab', '-abc', 'abc..d', 'abc.-d', 'abc-.d', '192.168.1.10', 'a'.repeat(64), 'under_score'].map(
      (name) =>
        [`bucket name ${name}`, { ...system, obs_info: { bucket_name: name } }, 400, 'CTS.0231'] as [
          string,
          unknown,
          number,
          string,
        ],
    ),
    [
      'prefix with a slash',
      { ...system, obs_info: { bucket_name: 'ok-bkt', file_prefix_name: 'a/b' } },
      400,
      'CTS.0218',
    ],
    [
      'prefix of 65 characters',
      { ...system, obs_info: { file_prefix_name: 'p'.repeat(65) } },
      400,
      'CTS.0218',
    ],
    [
      'compress_type zip',
      { ...system, obs_info: { compress_type: 'zip' } },
      400,
      'CTS.0003',
      'obs_info.compress_type',
    ],
    [
      'is_sort_by_service as a string',
      { ...system, obs_info: { is_sort_by_service: 'yes' } },
      400,
      'CTS.0003',
    ],
    [
      'validation without transfer',
      { ...system, is_support_validate: true },
      400,
      'CTS.0003',
      'is_support_validate',
    ],
  ];

  it.each(invalid)('rejects %s', async (_label, body, status, code, field) => {
    const res = await env.call('PUT', trackerPath(), { body });
    expect(res.status).toBe(status);
    const error = await res.json();
    expect(error.error_code).toBe(code);
    if (field) expect(error.details.map((d: { field: string }) => d.field)).toContain(field);
    // Nothing changed.
    expect((await listTrackers())[0]).toMatchObject({ status: 'enabled', obs_info: { bucket_name: '' } });
  });

  it('rejects bad bodies and query parameters with 400', async () => {
    const empty = await env.call('POST', trackerPath(), { body: '' });
    expect(empty.status).toBe(400);
    expect((await empty.json()).error_code).toBe('CTS.0003');
    const notJson = await env.call('PUT', trackerPath(), { body: '{"tracker_type":' });
    expect(notJson.status).toBe(400);
    const badName = await env.call('GET', `${trackersPath()}?tracker_name=${encodeURIComponent('a b')}`);
    expect(badName.status).toBe(400);
    expect((await badName.json()).error_code).toBe('CTS.0203');
    const post = await env.call('POST', trackerPath(), { body: { ...system, tracker_name: 'data1' } });
    expect((await post.json()).error_code).toBe('CTS.0204');
  });

  it('allows reads to readers and admins, writes to admins only', async () => {
    const other = await createProject(env.deps);
    const otherAdmin = (await createApiKey(env.deps, { projectId: other.id, role: 'admin' })).token;
    const writes: Array<[string, string, unknown?]> = [
      ['POST', trackerPath(), system],
      ['PUT', trackerPath(), { ...system, status: 'disabled' }],
      ['DELETE', trackersPath()],
    ];
    for (const key of [env.keys.reader, env.keys.reporter, otherAdmin]) {
      for (const [method, path, body] of writes) {
        const res = await env.call(method, path, { key, body });
        expect(res.status, `${method} ${path}`).toBe(403);
        expect((await res.json()).error_code).toBe('CTS.0013');
      }
    }
    for (const key of [env.keys.reporter, otherAdmin]) {
      expect((await env.call('GET', trackersPath(), { key })).status).toBe(403);
    }
    for (const [method, path, body] of [...writes, ['GET', trackersPath()] as const]) {
      const res = await env.call(method, path, { key: null, body });
      expect(res.status).toBe(401);
      expect((await res.json()).error_code).toBe('CTS.0002');
    }
    expect(await listTrackers(env.keys.reader)).toHaveLength(1);
    expect((await listTrackers())[0]?.status).toBe('enabled');
  });

  it('records its management operations as CTS traces, refusals as warnings', async () => {
    await env.call('PUT', trackerPath(), { body: { ...system, status: 'disabled' } });
    await env.call('PUT', trackerPath(), { body: { ...system, status: 'bogus' } });
    await env.call('DELETE', `${trackersPath()}?tracker_name=system`);
    await env.call('POST', trackerPath(), { body: system });
    const traces = await ctsTraces();
    const summary = traces
      .map((t) => [t.trace_name, t.trace_rating, t.code, t.resource_type, t.service_type])
      .sort();
    expect(summary).toEqual(
      [
        ['createTracker', 'normal', '201', 'tracker', 'CTS'],
        ['deleteTracker', 'normal', '204', 'tracker', 'CTS'],
        ['updateTracker', 'normal', '200', 'tracker', 'CTS'],
        ['updateTracker', 'warning', '400', 'tracker', 'CTS'],
      ].sort(),
    );
    const created = traces.find((t) => t.trace_name === 'createTracker')!;
    const [tracker] = await listTrackers();
    expect(created).toMatchObject({
      resource_id: tracker?.id,
      resource_name: 'system',
      user: { name: expect.any(String) },
      trace_type: 'ApiCall',
    });
    expect(JSON.parse(created.request as string)).toEqual(system);
    const refused = traces.find((t) => t.trace_rating === 'warning')!;
    expect(JSON.parse(refused.response as string)).toMatchObject({ error_code: 'CTS.0205' });
  });
});
