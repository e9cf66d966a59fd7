import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { listTrackers } from '../src/domain/trackers';
import { selectTracker, updateTracker } from '../src/store/tracker-queries';
import { recordTransferredFile } from '../src/store/transfer-queries';
import { aTrace, makeTestEnv, type TestEnv } from './helpers/app';
import { type ConsoleClient, signIn } from './helpers/console';

let env: TestEnv;
let admin: ConsoleClient;
let reader: ConsoleClient;
beforeEach(async () => {
  env = await makeTestEnv();
  admin = await signIn(env, env.keys.admin);
  reader = await signIn(env, env.keys.reader);
});
afterEach(() => env.close());

const systemTracker = async () => (await listTrackers(env.deps, env.projectId, 'system'))[0];
const auditNames = async () => {
  const res = await env.call(
    'GET',
    `/v3/${env.projectId}/traces?service_type=CTS&resource_type=tracker&limit=50`,
  );
  return ((await res.json()).traces as Array<{ trace_name: string; trace_rating: string }>).map(
    (t) => `${t.trace_name}:${t.trace_rating}`,
  );
};
const configure = (client: ConsoleClient, fields: Record<string, string>) =>
  client.post('/console/trackers/system/configure', fields);

describe('Tracker List', () => {
  it('shows the system tracker; operations for admins, read-only for readers', async () => {
    const asAdmin = await (await admin.get('/console/trackers')).text();
    expect(asAdmin).toContain('<strong>system</strong>');
    expect(asAdmin).toContain('<span class="badge enabled">enabled</span>');
    expect(asAdmin).toContain('Transfer not configured');
    expect(asAdmin).toContain('href="/console/trackers/system/configure"');
    expect(asAdmin).toContain('href="/console/trackers/system/status?to=disabled"');
    expect(asAdmin).toContain('href="/console/trackers/system/delete"');
    const asReader = await (await reader.get('/console/trackers')).text();
    expect(asReader).toContain('<strong>system</strong>');
    expect(asReader).toContain('trackers are shown read-only');
    expect(asReader).not.toContain('/configure');
    expect(asReader).not.toContain('/status?to=');
  });

  it('configures transfer (creating the bucket), records it, and shows the settings', async () => {
    const form = await (await admin.get('/console/trackers/system/configure')).text();
    expect(form).toContain('name="bucket_name"');
    expect(form).toContain('CloudTraces/local-1/');
    const res = await configure(admin, {
      transfer: 'on',
      bucket_name: 'audit-bkt',
      is_obs_created: 'on',
      file_prefix_name: 'acme',
      compress_type: 'json',
      is_support_validate: 'on',
    });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/console/trackers?done=configured&tracker=system');
    expect((await systemTracker())?.obs_info).toMatchObject({
      bucket_name: 'audit-bkt',
      file_prefix_name: 'acme',
      compress_type: 'json',
      is_sort_by_service: false,
      is_obs_created: true,
    });
    expect((await systemTracker())?.is_support_validate).toBe(true);
    expect(await env.deps.buckets.exists('audit-bkt')).toBe(true);
    const list = await (await admin.get(res.headers.get('location')!)).text();
    expect(list).toContain('Tracker system saved.');
    expect(list).toContain('href="/console/trackers/system/files">audit-bkt</a>');
    expect(list).toContain(
      'Prefix: acme · no compression · not sorted by service · trace file verification on',
    );
    expect(await auditNames()).toContain('updateTracker:normal');

    // Turning transfer off again.
    expect((await configure(admin, { compress_type: 'gzip' })).status).toBe(303);
    expect((await systemTracker())?.obs_info.bucket_name).toBe('');
  });

  it('shows a refused configuration in the form, keeping what was typed', async () => {
    const res = await configure(admin, { transfer: 'on', bucket_name: 'Bad_Bucket', file_prefix_name: 'p1' });
    expect(res.status).toBe(400);
    const html = await res.text();
    expect(html).toContain('Invalid bucket name.');
    expect(html).toContain('(CTS.0231)');
    expect(html).toContain('value="Bad_Bucket"');
    expect(html).toContain('value="p1"');
    const validate = await configure(admin, { is_support_validate: 'on' });
    expect(validate.status).toBe(400);
    expect(await validate.text()).toContain('is_support_validate requires OBS transfer');
    expect((await systemTracker())?.obs_info.bucket_name).toBe('');
  });

  it('disables and enables with a confirmation step', async () => {
    const confirm = await (await admin.get('/console/trackers/system/status?to=disabled')).text();
    expect(confirm).toContain('Disable tracker system?');
    expect(confirm).toContain('action="/console/trackers/system/status"');
    expect(confirm).toContain('name="status" value="disabled"');
    const off = await admin.post('/console/trackers/system/status', { status: 'disabled' });
    expect(off.headers.get('location')).toBe('/console/trackers?done=disabled&tracker=system');
    expect((await systemTracker())?.status).toBe('disabled');
    const list = await (await admin.get('/console/trackers')).text();
    expect(list).toContain('href="/console/trackers/system/status?to=enabled"');
    expect(list).toContain('Transfer paused while the tracker is disabled');
    await admin.post('/console/trackers/system/status', { status: 'enabled' });
    expect((await systemTracker())?.status).toBe('enabled');
  });

  it('deletes with a confirmation step, then Enable CTS brings the tracker back', async () => {
    const confirm = await (await admin.get('/console/trackers/system/delete')).text();
    expect(confirm).toContain('Delete tracker system?');
    const res = await admin.post('/console/trackers/system/delete', {});
    expect(res.headers.get('location')).toBe('/console/trackers?done=deleted&tracker=system');
    expect(await systemTracker()).toBeUndefined();
    const empty = await (await admin.get('/console/trackers')).text();
    expect(empty).toContain('CTS is not enabled for this project');
    expect(empty).toContain('href="/console/trackers/enable-cts"');
    expect(await (await admin.get('/console/trackers/enable-cts')).text()).toContain('creates the system');
    const enabled = await admin.post('/console/trackers/enable-cts', {});
    expect(enabled.headers.get('location')).toBe('/console/trackers?done=created&tracker=system');
    expect((await systemTracker())?.status).toBe('enabled');
    expect(await auditNames()).toEqual(
      expect.arrayContaining(['deleteTracker:normal', 'createTracker:normal']),
    );
    // A second Enable CTS is refused with the reference's code, shown in a page.
    const again = await admin.post('/console/trackers/enable-cts', {});
    expect(again.status).toBe(400);
    expect(await again.text()).toContain('CTS.0201');
  });

  it('does not let a reader change trackers, even with a valid form', async () => {
    for (const path of [
      '/console/trackers/system/configure',
      '/console/trackers/system/status?to=disabled',
    ]) {
      const page = await reader.get(path);
      expect(page.status).toBe(403);
      expect(await page.text()).toContain('reader key, which can view but not change trackers');
    }
    const attempts = [
      reader.post('/console/trackers/system/configure', { transfer: 'on', bucket_name: 'reader-bkt' }),
      reader.post('/console/trackers/system/status', { status: 'disabled' }),
      reader.post('/console/trackers/system/delete', {}),
      reader.post('/console/trackers/enable-cts', {}),
    ];
    for (const res of await Promise.all(attempts)) expect(res.status).toBe(403);
    expect(await systemTracker()).toMatchObject({ status: 'enabled', obs_info: { bucket_name: '' } });
    expect(await auditNames()).toEqual([]);
  });

  it('refuses a tracker change without the CSRF token', async () => {
    const res = await admin.post('/console/trackers/system/status', { status: 'disabled' }, { csrf: false });
    expect(res.status).toBe(403);
    expect(await res.text()).toContain('CSRF check failed');
    expect((await systemTracker())?.status).toBe('enabled');
  });

  it('shows the transfer lag and an error status with its detail', async () => {
    await configure(admin, {
      transfer: 'on',
      bucket_name: 'lag-bkt',
      is_obs_created: 'on',
      is_sort_by_service: 'on',
    });
    await env.call('POST', `/v3/${env.projectId}/traces`, {
      key: env.keys.reporter,
      body: { traces: [aTrace(), aTrace({ resource_id: 'srv-2' })] },
    });
    env.clock.advance(90 * 60_000);
    const lag = await (await reader.get('/console/trackers')).text();
    // The two reported traces, the updateTracker record of the configuration itself and the
    // two sign-ins of beforeEach.
    expect(lag).toContain('5 traces waiting, oldest for 1 h 30 min');
    expect(lag).toContain('No file written yet');

    const row = await selectTracker(env.deps.db, env.projectId, 'system');
    await updateTracker(env.deps.db, row!.id, {
      status: 'error',
      detail: 'noBucket',
      lastError: 'Bucket lag-bkt does not exist',
    });
    const error = await (await reader.get('/console/trackers')).text();
    expect(error).toContain('<span class="badge error">error</span>');
    expect(error).toContain('noBucket: The bucket does not exist');
    expect(error).toContain('Bucket lag-bkt does not exist');
  });
});

describe('archived files browser', () => {
  async function archive(key: string, body: Uint8Array, uploadedAt: number, serviceType: string | null) {
    await env.deps.buckets.bucket('arch-bkt').put(key, body, { contentType: 'application/gzip' });
    await recordTransferredFile(env.deps.db, {
      projectId: env.projectId,
      trackerName: 'system',
      bucket: 'arch-bkt',
      objectKey: key,
      serviceType,
      sha256: 'ab'.repeat(32),
      size: body.byteLength,
      traceCount: 2,
      firstSeq: 1,
      lastSeq: 2,
      oldestTime: uploadedAt - 60_000,
      newestTime: uploadedAt - 1000,
      uploadedAt,
    });
  }

  it('lists archived days and services, then files, and downloads a file as stored', async () => {
    await configure(admin, {
      transfer: 'on',
      bucket_name: 'arch-bkt',
      is_obs_created: 'on',
      is_sort_by_service: 'on',
    });
    const content = gzipSync(JSON.stringify([{ trace_id: 'a' }, { trace_id: 'b' }]));
    const day = Date.UTC(2026, 10, 23, 10);
    const key =
      'CloudTraces/local-1/2026/11/23/system/ECS/CloudTrace_local-1-p_2026-11-23T10-00-00Z_0123456789abcdef.json.gz';
    await archive(key, content, day, 'ECS');
    await archive(key.replaceAll('ECS', 'EVS').replace('0123', '9999'), content, day + 1000, 'EVS');

    const days = await (await reader.get('/console/trackers/system/files')).text();
    expect(days).toContain('href="/console/trackers/system/files?day=2026-11-23&amp;service=ECS"');
    expect(days).toContain('href="/console/trackers/system/files?day=2026-11-23&amp;service=EVS"');

    const files = await (
      await reader.get('/console/trackers/system/files?day=2026-11-23&service=ECS')
    ).text();
    const link = files.match(/href="(\/console\/trackers\/system\/files\/\d+)" download="([^"]+)"/);
    expect(link?.[2]).toBe(key.split('/').at(-1));
    expect(files).not.toContain('EVS/');

    const download = await reader.get(link![1]!);
    expect(download.status).toBe(200);
    expect(download.headers.get('content-type')).toBe('application/gzip');
    expect(download.headers.get('content-disposition')).toBe(
      `attachment; filename="${key.split('/').at(-1)}"`,
    );
    expect(new Uint8Array(await download.arrayBuffer())).toEqual(new Uint8Array(content));

    expect((await reader.get('/console/trackers/system/files/999999')).status).toBe(404);
    const empty = await (await reader.get('/console/trackers/system/files?day=2026-11-01')).text();
    expect(empty).toContain('No files for this day');
  });

  it('says so when nothing was archived yet', async () => {
    const html = await (await reader.get('/console/trackers/system/files')).text();
    expect(html).toContain('No files archived yet.');
  });
});
