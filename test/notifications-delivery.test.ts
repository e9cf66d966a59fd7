import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { notificationOverview } from '../src/domain/notifications/deliveries';
import { RULES_TTL_MS } from '../src/domain/notifications/matching';
import { runScheduledJobs } from '../src/jobs';
import { runNotificationDelivery } from '../src/jobs/notifications';
import { claimDueDeliveries } from '../src/store/outbox-queries';
import { aTrace, makeTestEnv, type TestEnv } from './helpers/app';
import { signatureIsValid, startWebhookReceiver, type WebhookReceiver } from './helpers/webhook-receiver';

const HOUR = 3_600_000;

let receiver: WebhookReceiver;
let env: TestEnv;
let background: Promise<unknown>[];
let base: string;

beforeAll(async () => {
  receiver = await startWebhookReceiver();
});
afterAll(() => receiver.close());
beforeEach(async () => {
  receiver.requests.length = 0;
  receiver.events.clear();
  receiver.answer = () => 200;
  background = [];
  env = await makeTestEnv({
    config: { CTS_WEBHOOK_TIMEOUT_MS: '300' },
    // Collected so a test can wait for the first attempt that follows an ingest.
    deps: { waitUntil: (work) => void background.push(work) },
  });
  base = `/v3/${env.projectId}`;
});
afterEach(() => env.close());

/** Waits for the background deliveries that ingests started (and those they started). */
async function settle() {
  while (background.length > 0) await Promise.all(background.splice(0));
}

// Rules watch ECS servers unless a test says otherwise (a `complete` rule would also match the
// service's own audit trace of its creation).
const ECS_OPERATIONS = {
  operation_type: 'customized',
  operations: [
    {
      service_type: 'ECS',
      resource_type: 'ecs',
      trace_names: ['createServer', 'deleteServer', 'rebootServer'],
    },
  ],
};

async function createRule(body: Record<string, unknown>) {
  const res = await env.call('POST', `${base}/notifications`, {
    body: { topic_id: receiver.url, ...ECS_OPERATIONS, ...body },
  });
  expect(res.status).toBe(201);
  return (await res.json()) as { notification_id: string; secret: string; notification_name: string };
}

async function report(...traces: Array<Record<string, unknown>>) {
  const res = await env.call('POST', `${base}/traces`, { key: env.keys.reporter, body: { traces } });
  expect(res.status).toBe(201);
  await settle();
}

const deliver = () => runNotificationDelivery(env.deps, { now: env.clock() });

async function deliveries(query = '') {
  const res = await env.call('GET', `${base}/notification-deliveries${query}`, { key: env.keys.reader });
  return (await res.json()).deliveries as Array<Record<string, unknown>>;
}

const received = () => receiver.requests.map((r) => `${r.event.data.notification_name}:${r.event.id}`).sort();

describe('matching on ingest', () => {
  it('delivers exactly the traces each enabled rule matches', async () => {
    await createRule({
      notification_name: 'servers_by_alice',
      operation_type: 'customized',
      operations: [
        { service_type: 'ECS', resource_type: 'ecs', trace_names: ['createServer', 'deleteServer'] },
      ],
      notify_user_list: [{ user_group: 'ops', user_list: ['alice'] }],
      filter: {
        is_support_filter: true,
        condition: 'AND',
        rule: ['code = 200', 'trace_type != SystemAction'],
      },
    });
    await createRule({
      notification_name: 'bad_things',
      operation_type: 'complete',
      filter: {
        is_support_filter: true,
        condition: 'OR',
        rule: ['trace_rating = incident', 'resource_name = db 1'],
      },
    });
    await createRule({
      notification_name: 'switched_off',
      operation_type: 'customized',
      operations: [{ service_type: 'EVS', resource_type: 'evs', trace_names: ['deleteVolume'] }],
      status: 'disabled',
    });
    await report(
      aTrace({ trace_id: 'match-a' }),
      aTrace({ trace_id: 'wrong-user', user: { name: 'bob' } }),
      aTrace({ trace_id: 'wrong-code', code: 500 }),
      aTrace({ trace_id: 'system-action', trace_type: 'SystemAction' }),
      aTrace({ trace_id: 'wrong-op', trace_name: 'rebootServer' }),
      aTrace({ trace_id: 'incident', trace_name: 'rebootServer', trace_rating: 'incident' }),
      aTrace({ trace_id: 'db1', service_type: 'RDS', resource_type: 'db', resource_name: 'db 1' }),
      aTrace({ trace_id: 'both', trace_name: 'deleteServer', trace_rating: 'incident' }),
      aTrace({ trace_id: 'evs', service_type: 'EVS', resource_type: 'evs', trace_name: 'deleteVolume' }),
    );
    expect(received()).toEqual([
      'bad_things:both',
      'bad_things:db1',
      'bad_things:incident',
      'servers_by_alice:both',
      'servers_by_alice:match-a',
    ]);
  });

  it('sends a signed CloudEvent whose data is the trace as the API returns it', async () => {
    const rule = await createRule({ notification_name: 'all_ops' });
    await report(aTrace({ trace_id: 'evt-1' }));
    const [request] = receiver.requests;
    expect(request).toBeDefined();
    expect(signatureIsValid(rule.secret, request!)).toBe(true);
    expect(signatureIsValid(`${rule.secret}x`, request!)).toBe(false);
    expect(request!.headers['content-type']).toBe('application/cloudevents+json; charset=utf-8');
    expect(request!.headers['x-cts-notification-id']).toBe(rule.notification_id);
    const [trace] = (await (await env.call('GET', `${base}/traces?trace_id=evt-1`)).json()).traces;
    expect(request!.event).toEqual({
      specversion: '1.0',
      type: 'com.cloudtrace.trace.recorded',
      source: `/v3/${env.projectId}/notifications/${rule.notification_id}`,
      id: 'evt-1',
      time: new Date(env.clock()).toISOString(),
      subject: 'ECS/ecs/srv-1',
      datacontenttype: 'application/json',
      data: {
        notification_id: rule.notification_id,
        notification_name: 'all_ops',
        project_id: env.projectId,
        trace,
      },
    });
  });

  it('notifies once per (rule, trace): re-reports and repeats within a batch are not notified again', async () => {
    await createRule({ notification_name: 'all_ops' });
    await report(aTrace({ trace_id: 'same' }), aTrace({ trace_id: 'same', trace_name: 'deleteServer' }));
    await report(aTrace({ trace_id: 'same' }));
    expect(received()).toEqual(['all_ops:same']);
    expect(receiver.requests[0]!.event.data.trace.trace_name).toBe('createServer');
  });

  it('notifies on its own audit traces, and follows rule changes at once', async () => {
    const rule = await createRule({
      notification_name: 'watch_rules',
      operation_type: 'customized',
      operations: [
        { service_type: 'CTS', resource_type: 'notification', trace_names: ['updateNotification'] },
      ],
    });
    await report(aTrace({ trace_id: 'ignored' }));
    const res = await env.call('PUT', `${base}/notifications`, {
      body: {
        notification_id: rule.notification_id,
        notification_name: 'watch_rules',
        operation_type: 'complete',
        status: 'enabled',
        topic_id: receiver.url,
      },
    });
    expect(res.status).toBe(200);
    await settle();
    await report(aTrace({ trace_id: 'now-matched' }));
    expect(receiver.requests.map((r) => r.event.data.trace.trace_name)).toEqual([
      'updateNotification',
      'createServer',
    ]);
  });

  it('stops notifying while the trace’s tracker is disabled', async () => {
    await createRule({ notification_name: 'all_ops' });
    const disable = await env.call('PUT', `${base}/tracker`, {
      body: { tracker_name: 'system', tracker_type: 'system', status: 'disabled' },
    });
    expect(disable.status).toBe(200);
    env.clock.advance(RULES_TTL_MS); // tracker status is re-read within this time
    await report(aTrace({ trace_id: 'while-disabled' }));
    expect(received().filter((r) => r.endsWith('while-disabled'))).toEqual([]);
  });
});

describe('delivery', () => {
  it('retries after a 500 and delivers exactly once to the receiver’s dedupe, with the same signed bytes', async () => {
    const rule = await createRule({ notification_name: 'all_ops' });
    receiver.answer = (_, i) => (i < 2 ? 500 : 200);
    await report(aTrace({ trace_id: 'flaky' }));
    expect(await deliveries()).toMatchObject([
      { status: 'pending', attempts: 1, last_status_code: 500, last_error: 'HTTP 500' },
    ]);
    expect(await deliver()).toMatchObject({ attempted: 0 }); // not due yet
    env.clock.advance(HOUR);
    expect(await deliver()).toMatchObject({ attempted: 1, retrying: 1 });
    env.clock.advance(HOUR);
    expect(await deliver()).toMatchObject({ attempted: 1, delivered: 1 });
    env.clock.advance(HOUR);
    expect(await deliver()).toMatchObject({ attempted: 0 });
    expect(receiver.requests).toHaveLength(3);
    expect(new Set(receiver.requests.map((r) => r.body)).size).toBe(1);
    expect(receiver.requests.every((r) => signatureIsValid(rule.secret, r))).toBe(true);
    expect(receiver.requests.map((r) => r.headers['x-cts-delivery-attempt'])).toEqual(['1', '2', '3']);
    expect([...receiver.events.keys()]).toHaveLength(1);
    expect(await deliveries()).toMatchObject([
      { status: 'delivered', attempts: 3, delivered_time: env.clock() - HOUR },
    ]);
  });

  it('is retried by the scheduled jobs (the Worker cron)', async () => {
    await createRule({ notification_name: 'all_ops' });
    receiver.answer = (_, i) => (i === 0 ? 500 : 200);
    await report(aTrace({ trace_id: 'cron' }));
    env.clock.advance(HOUR);
    const jobs = await runScheduledJobs(env.deps, { now: env.clock() });
    expect(jobs.steps.find((step) => step.name === 'notifications')).toMatchObject({
      ok: true,
      summary: { attempted: 1, delivered: 1 },
    });
    expect(receiver.events.size).toBe(1);
  });

  it('retries a receiver that times out', async () => {
    await createRule({ notification_name: 'all_ops' });
    receiver.answer = (_, i) => (i === 0 ? 'hang' : 200);
    await report(aTrace({ trace_id: 'slow' }));
    expect(await deliveries()).toMatchObject([{ status: 'pending', last_error: 'timed out after 300 ms' }]);
    env.clock.advance(HOUR);
    expect(await deliver()).toMatchObject({ delivered: 1 });
    expect(receiver.requests).toHaveLength(2);
    expect([...receiver.events.values()].map((e) => e.id)).toEqual(['slow']);
  });

  it('backs off exponentially with jitter, and marks a delivery failed (and visible) after 24 h', async () => {
    const down = await startWebhookReceiver();
    await down.close(); // its port now refuses connections
    const rule = await createRule({ notification_name: 'down', topic_id: down.url });
    await report(aTrace({ trace_id: 'lost-cause' }));
    const retryTimes: number[] = [];
    for (let i = 0; i < 200; i++) {
      const [row] = await deliveries();
      if (row!.status !== 'pending') break;
      retryTimes.push((row!.next_attempt_time as number) - env.clock());
      env.clock.set(row!.next_attempt_time as number);
      await deliver();
    }
    // 5 s, 10 s, 20 s, ... each within [half, full] of its ceiling, capped at 30 min.
    expect(retryTimes[0]).toBeGreaterThanOrEqual(2_500);
    expect(retryTimes[0]).toBeLessThanOrEqual(5_000);
    expect(retryTimes[5]).toBeGreaterThanOrEqual(80_000);
    expect(retryTimes[5]).toBeLessThanOrEqual(160_000);
    expect(Math.max(...retryTimes)).toBeLessThanOrEqual(30 * 60_000);
    const [failed] = await deliveries('?status=failed');
    expect(failed).toMatchObject({
      trace_id: 'lost-cause',
      status: 'failed',
      last_error: expect.stringContaining('ECONNREFUSED'),
    });
    expect(failed!.attempts as number).toBeGreaterThan(40);
    expect(env.clock()).toBeGreaterThanOrEqual((failed!.expire_time as number) - 30 * 60_000);
    const [overview] = await notificationOverview(env.deps, env.projectId, 'd');
    expect(overview!.delivery).toMatchObject({ last_delivery_status: 'failed', failed: 1, pending: 0 });
    expect(overview!.notification_id).toBe(rule.notification_id);
  });

  it('retries what a crashed drain had claimed, once its lease runs out', async () => {
    await createRule({ notification_name: 'all_ops' });
    receiver.answer = () => 503;
    await report(aTrace({ trace_id: 'orphan' }));
    receiver.answer = () => 200;
    env.clock.advance(HOUR);
    // A drain claims the row and dies before settling it.
    expect(await claimDueDeliveries(env.deps.db, env.clock(), env.clock() + 60_000, 10)).toHaveLength(1);
    expect(await deliver()).toMatchObject({ attempted: 0 });
    env.clock.advance(60_000);
    expect(await deliver()).toMatchObject({ delivered: 1 });
    expect(receiver.events.size).toBe(1);
  });

  it('never hands one delivery to two concurrent drains', async () => {
    await createRule({ notification_name: 'all_ops' });
    receiver.answer = () => 503;
    await report(...Array.from({ length: 30 }, (_, i) => aTrace({ trace_id: `c${i}` })));
    receiver.requests.length = 0;
    receiver.answer = () => 200;
    env.clock.advance(HOUR);
    const runs = await Promise.all(
      [1, 2, 3].map(() => runNotificationDelivery(env.deps, { now: env.clock(), limit: 12 })),
    );
    expect(runs.reduce((n, run) => n + run.delivered, 0)).toBe(30);
    expect(receiver.requests).toHaveLength(30);
  });

  it('delivers through a topic, following the topic when it is repointed', async () => {
    const first = await startWebhookReceiver();
    try {
      const topic = await (
        await env.call('PUT', `${base}/topics/audit`, { body: { endpoint: first.url } })
      ).json();
      await createRule({ notification_name: 'via_topic', topic_id: topic.topic_urn });
      first.answer = () => 500;
      await report(aTrace({ trace_id: 'routed' }));
      expect(first.requests).toHaveLength(1);
      await env.call('PUT', `${base}/topics/audit`, { body: { endpoint: receiver.url } });
      env.clock.advance(HOUR);
      await deliver();
      expect(received()).toEqual(['via_topic:routed']);
    } finally {
      await first.close();
    }
  });

  it('drops the queued deliveries of a deleted rule', async () => {
    const rule = await createRule({ notification_name: 'all_ops' });
    receiver.answer = () => 500;
    await report(aTrace({ trace_id: 'orphaned' }));
    await env.call('DELETE', `${base}/notifications?notification_id=${rule.notification_id}`);
    env.clock.advance(HOUR);
    expect(await deliver()).toMatchObject({ attempted: 0 });
    expect(await deliveries()).toEqual([]);
  });

  it('prunes settled deliveries after the retention period', async () => {
    await createRule({ notification_name: 'all_ops' });
    await report(aTrace({ trace_id: 'old' }));
    expect(await deliveries()).toHaveLength(1);
    env.clock.advance(8 * 24 * HOUR);
    expect(await deliver()).toMatchObject({ pruned: 1 });
    expect(await deliveries()).toEqual([]);
  });
});
