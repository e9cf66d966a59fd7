import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runTransfer } from '../src/jobs/transfer';
import { makeTestEnv, type TestEnv } from './helpers/app';
import { readArchive, report } from './helpers/transfer';

// Data trackers, every tracker field the SDK sends, the DELETE semantics of the SDK, and the two
// known 500 defects of PUT /tracker — through the API on a real embedded database and folder buckets.

let env: TestEnv;
beforeEach(async () => {
  env = await makeTestEnv();
  await env.deps.buckets.create('tracked-bkt');
});
afterEach(() => env.close());

const trackerPath = () => `/v3/${env.projectId}/tracker`;
const trackersPath = () => `/v3/${env.projectId}/trackers`;
const system = { tracker_type: 'system', tracker_name: 'system' };
const dataTracker = (overrides: Record<string, unknown> = {}) => ({
  tracker_type: 'data',
  tracker_name: 'obs-writes',
  data_bucket: { data_bucket_name: 'tracked-bkt', data_event: ['WRITE'] },
  ...overrides,
});

async function trackers(query = '') {
  const res = await env.call('GET', `${trackersPath()}${query}`);
  expect(res.status).toBe(200);
  return (await res.json()).trackers as Array<Record<string, unknown>>;
}

async function expectError(res: Response, status: number, code: string, field?: string) {
  const body = await res.json();
  expect(res.status, JSON.stringify(body)).toBe(status);
  expect(body.error_code).toBe(code);
  if (field) expect(body.details?.map((d: { field: string }) => d.field)).toContain(field);
}

describe('PUT /tracker defects', () => {
  it('answers 200 to a body of fields that change nothing, and to obs_info: {}', async () => {
    const before = await trackers();
    for (const body of [
      system,
      { ...system, obs_info: {} },
      { ...system, is_organization_tracker: false },
      { ...system, management_event_selector: { exclude_service: [] }, obs_info: {} },
    ]) {
      const res = await env.call('PUT', trackerPath(), { body });
      expect(res.status, await res.clone().text()).toBe(200);
    }
    expect(await trackers()).toEqual(before);
  });
});

describe('DELETE /trackers', () => {
  it('never deletes the management tracker with tracker_type=data', async () => {
    await expectError(
      await env.call('DELETE', `${trackersPath()}?tracker_type=data&tracker_name=system`),
      404,
      'CTS.0214',
    );
    expect((await env.call('DELETE', `${trackersPath()}?tracker_type=data`)).status).toBe(204);
    expect((await trackers()).map((t) => t.tracker_name)).toEqual(['system']);
  });

  it('refuses a misspelled parameter with 400 naming it, deleting nothing', async () => {
    expect((await env.call('POST', trackerPath(), { body: dataTracker() })).status).toBe(201);
    await expectError(
      await env.call('DELETE', `${trackersPath()}?tracker_nam=obs-writes`),
      400,
      'CTS.0003',
      'tracker_nam',
    );
    await expectError(
      await env.call('GET', `${trackersPath()}?trackertype=data`),
      400,
      'CTS.0003',
      'trackertype',
    );
    await expectError(
      await env.call('DELETE', `${trackersPath()}?tracker_type=datum`),
      400,
      'CTS.0003',
      'tracker_type',
    );
    expect(await trackers()).toHaveLength(2);
  });

  it('deletes every data tracker without arguments, keeping the management tracker', async () => {
    await env.deps.buckets.create('other-bkt');
    for (const body of [
      dataTracker(),
      dataTracker({
        tracker_name: 'reads',
        data_bucket: { data_bucket_name: 'other-bkt', data_event: ['READ'] },
      }),
    ]) {
      expect((await env.call('POST', trackerPath(), { body })).status).toBe(201);
    }
    expect((await env.call('DELETE', trackersPath())).status).toBe(204);
    expect((await trackers()).map((t) => t.tracker_name)).toEqual(['system']);
    expect(
      (await env.call('DELETE', `${trackersPath()}?tracker_type=system&tracker_name=system`)).status,
    ).toBe(204);
    expect(await trackers()).toEqual([]);
  });
});

describe('data trackers', () => {
  it('creates, lists by type, counts in the quotas, and returns data_bucket', async () => {
    const res = await env.call('POST', trackerPath(), { body: dataTracker() });
    expect(res.status).toBe(201);
    const created = await res.json();
    expect(created).toMatchObject({
      tracker_type: 'data',
      tracker_name: 'obs-writes',
      status: 'enabled',
      data_bucket: { data_bucket_name: 'tracked-bkt', data_event: ['WRITE'], search_enabled: true },
    });
    expect((await trackers('?tracker_type=data')).map((t) => t.tracker_name)).toEqual(['obs-writes']);
    expect((await trackers('?tracker_type=system')).map((t) => t.tracker_name)).toEqual(['system']);
    expect(await trackers()).toHaveLength(2);
    const quotas = (await (await env.call('GET', `/v3/${env.projectId}/quotas`)).json()).resources;
    expect(quotas).toContainEqual({ type: 'data_tracker', used: 1, quota: 100 });
    expect(quotas).toContainEqual({ type: 'system_tracker', used: 1, quota: 1 });
  });

  const refusals: Array<[string, Record<string, unknown>, string, string]> = [
    [
      'no bucket',
      dataTracker({ data_bucket: { data_event: ['READ'] } }),
      'CTS.0210',
      'data_bucket.data_bucket_name',
    ],
    ['no data_bucket', dataTracker({ data_bucket: undefined }), 'CTS.0210', 'data_bucket.data_bucket_name'],
    [
      'a missing bucket',
      dataTracker({ data_bucket: { data_bucket_name: 'nope-bkt', data_event: ['READ'] } }),
      'CTS.0211',
      'data_bucket.data_bucket_name',
    ],
    [
      'no event',
      dataTracker({ data_bucket: { data_bucket_name: 'tracked-bkt', data_event: [] } }),
      'CTS.0219',
      'data_bucket.data_event',
    ],
    [
      'an unknown event',
      dataTracker({ data_bucket: { data_bucket_name: 'tracked-bkt', data_event: ['DELETE'] } }),
      'CTS.0225',
      'data_bucket.data_event',
    ],
    [
      'the tracked bucket as transfer bucket',
      dataTracker({ obs_info: { bucket_name: 'tracked-bkt' } }),
      'CTS.0213',
      'obs_info.bucket_name',
    ],
    ['the name system', dataTracker({ tracker_name: 'system' }), 'CTS.0203', 'tracker_name'],
    [
      'a data_bucket on the management tracker',
      { ...system, data_bucket: { data_bucket_name: 'tracked-bkt' } },
      'CTS.0003',
      'data_bucket',
    ],
    [
      'KMS encryption',
      dataTracker({ is_support_trace_files_encryption: true, kms_id: 'k' }),
      'CTS.0220',
      'is_support_trace_files_encryption',
    ],
  ];
  it.each(refusals)('refuses %s', async (_, body, code, field) => {
    await expectError(await env.call('POST', trackerPath(), { body }), 400, code, field);
  });

  it('refuses a second tracker of the same name, or of the same bucket and event', async () => {
    expect((await env.call('POST', trackerPath(), { body: dataTracker() })).status).toBe(201);
    await expectError(await env.call('POST', trackerPath(), { body: dataTracker() }), 400, 'CTS.0208');
    const same = dataTracker({
      tracker_name: 'again',
      data_bucket: { data_bucket_name: 'tracked-bkt', data_event: ['READ', 'WRITE'] },
    });
    await expectError(await env.call('POST', trackerPath(), { body: same }), 400, 'CTS.0209');
    const reads = dataTracker({
      tracker_name: 'reads',
      data_bucket: { data_bucket_name: 'tracked-bkt', data_event: ['READ'] },
    });
    expect((await env.call('POST', trackerPath(), { body: reads })).status).toBe(201);
  });

  it('modifies and disables a data tracker, but not its tracked bucket', async () => {
    await env.deps.buckets.create('other-bkt');
    expect((await env.call('POST', trackerPath(), { body: dataTracker() })).status).toBe(201);
    const moved = dataTracker({ data_bucket: { data_bucket_name: 'other-bkt', data_event: ['WRITE'] } });
    await expectError(await env.call('PUT', trackerPath(), { body: moved }), 400, 'CTS.0212');
    const res = await env.call('PUT', trackerPath(), {
      body: dataTracker({
        status: 'disabled',
        data_bucket: { data_bucket_name: 'tracked-bkt', data_event: ['READ', 'WRITE'] },
      }),
    });
    expect(res.status).toBe(200);
    expect(await trackers('?tracker_name=obs-writes')).toMatchObject([
      { status: 'disabled', data_bucket: { data_event: ['READ', 'WRITE'] } },
    ]);
    // The name of a data tracker with the management type is no tracker.
    await expectError(
      await env.call('PUT', trackerPath(), { body: { ...dataTracker(), tracker_type: 'system' } }),
      400,
      'CTS.0204',
    );
  });

  it('keeps its traces apart: trace_type=data finds them, and its transfer writes them', async () => {
    await env.deps.buckets.create('archive-bkt');
    const body = dataTracker({ obs_info: { bucket_name: 'archive-bkt', compress_type: 'json' } });
    expect((await env.call('POST', trackerPath(), { body })).status).toBe(201);
    const dataIds = await report(env, 3, () => ({ tracker_name: 'obs-writes', service_type: 'OBS' }));
    const systemIds = await report(env, 2);
    const list = async (query: string) => {
      const res = await env.call('GET', `/v3/${env.projectId}/traces?limit=50&${query}`);
      expect(res.status).toBe(200);
      return ((await res.json()).traces as Array<{ trace_id: string }>).map((t) => t.trace_id).sort();
    };
    expect(await list('trace_type=data&tracker_name=obs-writes')).toEqual([...dataIds].sort());
    expect(await list('trace_type=data')).toEqual([...dataIds].sort());
    expect(await list('trace_type=system&service_type=ECS')).toEqual([...systemIds].sort());
    await runTransfer(env.deps, { now: env.clock() });
    const archive = await readArchive(env.deps.buckets.bucket('archive-bkt'));
    expect(archive.every((object) => object.key.includes('/obs-writes/'))).toBe(true);
    expect(archive.flatMap((object) => object.traces.map((t) => t.trace_id)).sort()).toEqual(
      [...dataIds].sort(),
    );
  });
});

describe('tracker fields the SDK sends', () => {
  it('stores and returns them, and does not transfer excluded services', async () => {
    await env.deps.buckets.create('archive-bkt');
    const res = await env.call('PUT', trackerPath(), {
      body: {
        ...system,
        agency_name: 'cts_admin_trust',
        is_organization_tracker: true,
        is_support_trace_files_encryption: false,
        kms_id: 'kms-key-1',
        management_event_selector: { exclude_service: ['KMS', 'IAM'] },
        obs_info: { bucket_name: 'archive-bkt', bucket_lifecycle: 30, compress_type: 'json' },
      },
    });
    expect(res.status, await res.clone().text()).toBe(200);
    const [tracker] = await trackers('?tracker_name=system');
    expect(tracker).toMatchObject({
      agency_name: 'cts_admin_trust',
      is_organization_tracker: true,
      is_support_trace_files_encryption: false,
      kms_id: 'kms-key-1',
      management_event_selector: { exclude_service: ['KMS', 'IAM'] },
      obs_info: { bucket_name: 'archive-bkt', bucket_lifecycle: 30 },
    });
    const kept = await report(env, 2, () => ({ service_type: 'ECS' }));
    await report(env, 2, (i) => ({ service_type: i === 0 ? 'KMS' : 'IAM' }));
    await runTransfer(env.deps, { now: env.clock() });
    const archive = await readArchive(env.deps.buckets.bucket('archive-bkt'));
    // CTS's own trace of the PUT is transferred too; the KMS and IAM ones are not.
    const archived = archive.flatMap((object) => object.traces).filter((t) => t.service_type !== 'CTS');
    expect(archived.map((t) => t.trace_id).sort()).toEqual([...kept].sort());
    expect((await env.call('GET', `/v3/${env.projectId}/traces?service_type=KMS`)).ok).toBe(true);
  });

  it('refuses a bad exclude_service or bucket_lifecycle with 400 naming it', async () => {
    for (const [body, field] of [
      [
        { ...system, management_event_selector: { exclude_service: ['not a service'] } },
        'management_event_selector.exclude_service[0]',
      ],
      [{ ...system, obs_info: { bucket_lifecycle: 0 } }, 'obs_info.bucket_lifecycle'],
      [{ ...system, agency_name: 'someone' }, 'agency_name'],
    ] as const) {
      await expectError(await env.call('PUT', trackerPath(), { body }), 400, 'CTS.0003', field);
    }
  });
});
