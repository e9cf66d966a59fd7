import { expect } from 'vitest';
import { type CtsSdkClient, SdkError } from './cts-sdk';

/** What the suite needs to know about the deployment under test. */
export interface SdkSuiteContext {
  client: CtsSdkClient;
  /** A client of another project's admin key (AK/SK): refused with 403. */
  foreignClient: CtsSdkClient;
  /** A client whose SK is wrong: refused with 401. */
  badSecretClient: CtsSdkClient;
  /** A client with temporary credentials (X-Security-Token): refused with 401. */
  temporaryClient: CtsSdkClient;
  projectId: string;
  domainId: string;
  accessKeyId: string;
  /** A bucket that exists in the deployment's bucket store. */
  bucket: string;
  /** Reports traces through the ingest API (not an SDK operation). */
  report(traces: Array<Record<string, unknown>>): Promise<void>;
}

async function refused(call: Promise<unknown>, status: number, code?: string): Promise<SdkError> {
  const error = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, `expected a ${status}`).toBeInstanceOf(SdkError);
  expect((error as SdkError).status, (error as SdkError).message).toBe(status);
  if (code) expect((error as SdkError).errorCode).toBe(code);
  return error as SdkError;
}

/**
 * Drives all 16 `CtsClient` operations, AK/SK-signed by the SDK's signer, each answer checked
 * against the SDK's response model (the client does), and the answers against real data.
 */
export async function exerciseEveryOperation(ctx: SdkSuiteContext): Promise<void> {
  const { client } = ctx;
  const now = Date.now();
  const quotas = await client.listQuotas();
  expect(quotas.status).toBe(200);
  expect(quotas.body.resources).toContainEqual({ type: 'data_tracker', used: 0, quota: 100 });

  // Trackers: a data tracker next to the management one; the known PUT defects answer 200.
  const created = await client.createTracker({
    tracker_type: 'data',
    tracker_name: 'sdk-data',
    data_bucket: { data_bucket_name: ctx.bucket, data_event: ['READ', 'WRITE'] },
    obs_info: { bucket_lifecycle: 30 },
  });
  expect(created.status).toBe(201);
  expect(created.body).toMatchObject({ tracker_type: 'data', tracker_name: 'sdk-data', status: 'enabled' });
  expect(
    (await client.updateTracker({ tracker_type: 'system', tracker_name: 'system', obs_info: {} })).status,
  ).toBe(200);
  const update = await client.updateTracker({
    tracker_type: 'system',
    tracker_name: 'system',
    is_organization_tracker: false,
    management_event_selector: { exclude_service: ['KMS'] },
  });
  expect(update.status).toBe(200);
  const data = await client.listTrackers({ tracker_type: 'data' });
  expect(data.body.trackers.map((t) => t.tracker_name)).toEqual(['sdk-data']);
  const [system] = (await client.listTrackers({ tracker_name: 'system' })).body.trackers;
  expect(system?.management_event_selector?.exclude_service).toEqual(['KMS']);
  await refused(client.createTracker({ tracker_type: 'system', tracker_name: 'system' }), 400, 'CTS.0201');

  // Tags on the data tracker.
  const trackerId = created.body.id!;
  expect(
    (
      await client.batchCreateResourceTags(trackerId, {
        tags: [
          { key: 'env', value: 'prod' },
          { key: 'team', value: 'audit' },
        ],
      })
    ).status,
  ).toBe(204);
  expect((await client.batchDeleteResourceTags(trackerId, { tags: [{ key: 'team' }] })).status).toBe(204);
  const [tagged] = (await client.listTrackers({ tracker_name: 'sdk-data' })).body.trackers;
  expect(tagged?.tags).toEqual([{ key: 'env', value: 'prod' }]);
  await refused(
    client.batchCreateResourceTags('no-such-tracker', { tags: [{ key: 'a', value: 'b' }] }),
    404,
    'CTS.0214',
  );

  // Notifications.
  const rule = await client.createNotification({
    notification_name: 'sdk_rule',
    operation_type: 'customized',
    operations: [{ service_type: 'ECS', resource_type: 'ecs', trace_names: ['deleteServer'] }],
    notify_user_list: [],
  });
  expect(rule.status).toBe(201);
  const notificationId = rule.body.notification_id!;
  const modified = await client.updateNotification({
    notification_id: notificationId,
    notification_name: 'sdk_rule',
    operation_type: 'complete',
    status: 'disabled',
  });
  expect(modified.status).toBe(200);
  const rules = await client.listNotifications('smn', { notification_name: 'sdk_rule' });
  expect(rules.body.notifications.map((n) => n.notification_id)).toEqual([notificationId]);
  expect((await client.deleteNotification(notificationId)).status).toBe(204);

  // Traces: reported with the SDK's extras, read back in the SDK's shape.
  await ctx.report([
    {
      trace_id: 'sdk-ecs-1',
      trace_name: 'createServer',
      trace_rating: 'normal',
      trace_type: 'ApiCall',
      service_type: 'ECS',
      resource_type: 'ecs',
      time: now - 60_000,
      user: {
        id: 'u1',
        name: 'alice',
        domain: { id: 'd1', name: 'acme' },
        access_key_id: 'HSTAALICE',
        principal_is_root_user: 'false',
      },
      request: { server: { name: 'web-1' } },
      response: 'accepted',
      enterprise_project_id: 'ep-1',
      read_only: false,
      operation_id: 'CreateServer',
    },
    {
      trace_id: 'sdk-obs-1',
      trace_name: 'PUT.OBJECT',
      trace_rating: 'normal',
      trace_type: 'ApiCall',
      service_type: 'OBS',
      resource_type: 'object',
      tracker_name: 'sdk-data',
      time: now - 30_000,
      user: { name: 'bob' },
    },
  ]);
  const byAk = await client.listTraces({ trace_type: 'system', access_key_id: 'HSTAALICE', limit: 5 });
  expect(byAk.body.traces.map((t) => t.trace_id)).toEqual(['sdk-ecs-1']);
  const [ecs] = byAk.body.traces;
  expect(ecs).toMatchObject({
    request: '{"server":{"name":"web-1"}}',
    response: 'accepted',
    read_only: false,
    operation_id: 'CreateServer',
  });
  expect(
    (await client.listTraces({ enterprise_project_id: 'ep-1' })).body.traces.map((t) => t.trace_id),
  ).toEqual(['sdk-ecs-1']);
  expect((await client.listTraces({ enterprise_project_id: 'ep-2' })).body.traces).toEqual([]);
  const dataTraces = await client.listTraces({ trace_type: 'data', tracker_name: 'sdk-data' });
  expect(dataTraces.body.traces.map((t) => t.trace_id)).toEqual(['sdk-obs-1']);
  // The calls above were signed: CTS's own traces of them carry the access key id.
  const audited = await client.listTraces({ access_key_id: ctx.accessKeyId, service_type: 'CTS', limit: 50 });
  expect(audited.body.traces.map((t) => t.trace_name)).toEqual(
    expect.arrayContaining(['createTracker', 'updateTracker', 'createNotification']),
  );
  expect(audited.body.traces.every((t) => t.user?.access_key_id === ctx.accessKeyId)).toBe(true);

  // The listings come from the traces.
  const operations = await client.listOperations({ service_type: 'ECS' });
  expect(operations.body.operations).toEqual([
    { service_type: 'ECS', resource_type: 'ecs', operation_list: ['createServer'] },
  ]);
  const users = (await client.listUserResources()).body.users.map((u) => u.name);
  expect(users).toEqual(expect.arrayContaining(['alice', 'bob']));
  const resources = await client.listTraceResources(ctx.domainId);
  expect(resources.body.resources).toEqual(
    expect.arrayContaining([
      { service_type: 'ECS', resource: ['ecs'] },
      { service_type: 'OBS', resource: ['object'] },
    ]),
  );

  // Buckets checked for real.
  const checked = await client.checkObsBuckets(ctx.domainId, {
    buckets: [{ bucket_name: ctx.bucket, bucket_location: 'local-1' }, { bucket_name: 'no-such-bucket-12' }],
  });
  expect(
    checked.body.buckets.map((b) => [
      b.bucket_name,
      b.check_bucket_response?.success,
      b.check_bucket_response?.error_code,
    ]),
  ).toEqual([
    [ctx.bucket, true, undefined],
    ['no-such-bucket-12', false, 'noBucket'],
  ]);

  // DeleteTracker: tracker_type=data never reaches the management tracker; no arguments = data trackers.
  await refused(client.deleteTracker({ tracker_type: 'data', tracker_name: 'system' }), 404, 'CTS.0214');
  expect((await client.deleteTracker()).status).toBe(204);
  expect((await client.listTrackers()).body.trackers.map((t) => t.tracker_name)).toEqual(['system']);

  // Refusals over the real transport.
  await refused(ctx.badSecretClient.listTrackers(), 401, 'CTS.0002');
  const temporary = await refused(ctx.temporaryClient.listTrackers(), 401, 'CTS.0002');
  expect(temporary.message).toMatch(/X-Security-Token/);
  await refused(ctx.foreignClient.listTrackers(), 403, 'CTS.0013');
  await refused(client.listTraceResources('ffffffffffffffffffffffffffffffff'), 403, 'CTS.0013');
}
