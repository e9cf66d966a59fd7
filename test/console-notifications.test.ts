import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runNotificationDelivery } from '../src/jobs/notifications';
import { aTrace, makeTestEnv, type TestEnv } from './helpers/app';
import { type ConsoleClient, signIn } from './helpers/console';
import { startWebhookReceiver, type WebhookReceiver } from './helpers/webhook-receiver';

const PAGE = '/console/notifications';

let receiver: WebhookReceiver;
let env: TestEnv;
let admin: ConsoleClient;
let reader: ConsoleClient;
let background: Promise<unknown>[];

beforeAll(async () => {
  receiver = await startWebhookReceiver();
});
afterAll(() => receiver.close());
beforeEach(async () => {
  receiver.requests.length = 0;
  receiver.answer = () => 200;
  background = [];
  env = await makeTestEnv({ deps: { waitUntil: (work) => void background.push(work) } });
  admin = await signIn(env, env.keys.admin);
  reader = await signIn(env, env.keys.reader);
});
afterEach(() => env.close());

const form = (overrides: Record<string, string> = {}) => ({
  notification_name: 'server_ops',
  operation_type: 'customized',
  operations: 'ECS ecs createServer deleteServer\r\nEVS evs deleteVolume',
  users: 'ops: alice, bob\r\nadmins: carol',
  filter_on: 'on',
  condition: 'OR',
  rules: 'code != 200\r\ntrace_rating = incident',
  topic_id: receiver.url,
  enabled: 'on',
  ...overrides,
});

async function rules() {
  const res = await env.call('GET', `/v3/${env.projectId}/notifications/smn`);
  return (await res.json()).notifications as Array<Record<string, unknown> & { notification_id: string }>;
}

async function createViaApi(body: Record<string, unknown>) {
  const res = await env.call('POST', `/v3/${env.projectId}/notifications`, { body });
  expect(res.status).toBe(201);
  return (await res.json()) as { notification_id: string };
}

describe('Key Event Notifications page', () => {
  it('is in the navigation and starts empty', async () => {
    const html = await (await admin.get(PAGE)).text();
    expect(html).toContain(
      '<a href="/console/notifications" aria-current="page">Key Event Notifications</a>',
    );
    expect(html).toContain('No key event notification yet');
    expect(html).toContain(`href="${PAGE}/new"`);
  });

  it('creates a rule from the form and shows its secret once', async () => {
    const page = await (await admin.get(`${PAGE}/new`)).text();
    for (const field of ['notification_name', 'operation_type', 'operations', 'users', 'rules', 'topic_id']) {
      expect(page).toContain(`name="${field}"`);
    }
    const res = await admin.post(`${PAGE}/new`, form());
    expect(res.status).toBe(200);
    const created = await res.text();
    const secret = created.match(/ctsn_[0-9a-f]{64}/)?.[0];
    expect(secret).toBeDefined();
    expect(created).toContain('shown only this once');
    const [rule] = await rules();
    expect(rule).toMatchObject({
      notification_name: 'server_ops',
      status: 'enabled',
      topic_id: receiver.url,
      operations: [
        { service_type: 'ECS', resource_type: 'ecs', trace_names: ['createServer', 'deleteServer'] },
        { service_type: 'EVS', resource_type: 'evs', trace_names: ['deleteVolume'] },
      ],
      notify_user_list: [
        { user_group: 'ops', user_list: ['alice', 'bob'] },
        { user_group: 'admins', user_list: ['carol'] },
      ],
      filter: { is_support_filter: true, condition: 'OR', rule: ['code != 200', 'trace_rating = incident'] },
    });
    expect(await (await admin.get(PAGE)).text()).not.toContain(secret);
  });

  it('shows what is wrong with a form, keeping what was typed', async () => {
    const res = await admin.post(
      `${PAGE}/new`,
      form({ notification_name: 'bad name', operations: 'ECS ecs createServer\nECS', rules: 'user = bob' }),
    );
    expect(res.status).toBe(400);
    const html = await res.text();
    expect(html).toContain('Name: must be 1-64 characters of letters, digits and underscores');
    expect(html).toContain('Operations, line 2 resource_type');
    expect(html).toContain('Filter rule 1: field must be one of');
    expect(html).toContain('value="bad name"');
    expect(html).toContain('user = bob</textarea>');
    expect(await rules()).toEqual([]);

    await admin.post(`${PAGE}/new`, form());
    const dup = await admin.post(`${PAGE}/new`, form());
    expect(dup.status).toBe(400);
    expect(await dup.text()).toContain('NotificationV3 name is existed already. <code>(CTS.0400)</code>');
  });

  it('lists rules with their summary and delivery status, and escapes what users typed', async () => {
    await createViaApi({
      notification_name: 'everything',
      operation_type: 'complete',
      notify_user_list: [{ user_group: 'ops', user_list: ['alice', '<script>alert(1)</script>'] }],
      topic_id: receiver.url,
    });
    await createViaApi({
      notification_name: 'deletes',
      operation_type: 'customized',
      operations: [{ service_type: 'ECS', resource_type: 'ecs', trace_names: ['deleteServer'] }],
      filter: { is_support_filter: true, rule: ['code != 200'] },
    });
    receiver.answer = () => 500;
    await env.call('POST', `/v3/${env.projectId}/traces`, { body: { traces: [aTrace({ trace_id: 'x1' })] } });
    while (background.length > 0) await Promise.all(background.splice(0));

    const html = await (await admin.get(PAGE)).text();
    expect(html).toContain('2 of 100 notifications');
    expect(html).toContain('All operations');
    expect(html).toContain('2 users in 1 group');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).not.toContain('<script>');
    expect(html).toContain('1 operation of ECS');
    expect(html).toContain('only if code != 200');
    expect(html).toContain('None: nothing is sent');
    expect(html).toContain('<span class="badge warning">retrying</span>');
    expect(html).toContain('HTTP 500');
    expect(html).toContain('1 waiting');
    expect(html).toContain('Nothing sent yet');

    receiver.answer = () => 200;
    env.clock.advance(3_600_000);
    await runNotificationDelivery(env.deps, { now: env.clock() });
    const after = await (await admin.get(PAGE)).text();
    expect(after).toContain('<span class="badge normal">delivered</span>');
    expect(after).not.toContain('1 waiting');
  });

  it('modifies a rule', async () => {
    const { notification_id: id } = await createViaApi({
      notification_name: 'to_edit',
      operation_type: 'customized',
      operations: [{ service_type: 'ECS', resource_type: 'ecs', trace_names: ['deleteServer'] }],
      topic_id: receiver.url,
    });
    const page = await (await admin.get(`${PAGE}/${id}/edit`)).text();
    expect(page).toContain('ECS ecs deleteServer</textarea>');
    expect(page).toContain(`value="${receiver.url}"`);
    const res = await admin.post(
      `${PAGE}/${id}/edit`,
      form({ notification_name: 'edited', operation_type: 'complete' }),
    );
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe(`${PAGE}?done=updated&name=edited`);
    expect(await (await admin.get(res.headers.get('location')!)).text()).toContain(
      'Notification edited saved.',
    );
    expect((await rules())[0]).toMatchObject({
      notification_name: 'edited',
      operation_type: 'complete',
      operations: [],
    });
  });

  it('disables and enables a rule after confirmation; enabling needs a topic', async () => {
    const { notification_id: id } = await createViaApi({
      notification_name: 'toggle',
      operation_type: 'complete',
      topic_id: receiver.url,
    });
    const confirm = await (await admin.get(`${PAGE}/${id}/status?to=disabled`)).text();
    expect(confirm).toContain('Disable notification toggle?');
    const off = await admin.post(`${PAGE}/${id}/status`, { status: 'disabled' });
    expect(off.headers.get('location')).toBe(`${PAGE}?done=disabled&name=toggle`);
    expect((await rules())[0]?.status).toBe('disabled');
    expect((await admin.post(`${PAGE}/${id}/status`, { status: 'enabled' })).status).toBe(303);
    expect((await rules())[0]?.status).toBe('enabled');

    const { notification_id: bare } = await createViaApi({
      notification_name: 'no_topic',
      operation_type: 'complete',
    });
    const refused = await admin.post(`${PAGE}/${bare}/status`, { status: 'enabled' });
    expect(refused.status).toBe(400);
    expect(await refused.text()).toContain('Topic: is required when status is enabled');
  });

  it('deletes a rule after confirmation', async () => {
    const { notification_id: id } = await createViaApi({
      notification_name: 'doomed',
      operation_type: 'complete',
    });
    expect(await (await admin.get(`${PAGE}/${id}/delete`)).text()).toContain('Delete notification doomed?');
    const res = await admin.post(`${PAGE}/${id}/delete`, {});
    expect(res.headers.get('location')).toBe(`${PAGE}?done=deleted&name=doomed`);
    expect(await rules()).toEqual([]);
    expect((await admin.get(`${PAGE}/${id}/edit`)).status).toBe(404);
  });

  it('is read-only for readers and refuses forms without the CSRF token', async () => {
    const { notification_id: id } = await createViaApi({
      notification_name: 'kept',
      operation_type: 'complete',
    });
    const html = await (await reader.get(PAGE)).text();
    expect(html).toContain('<strong>kept</strong>');
    expect(html).toContain('notifications are shown read-only');
    expect(html).not.toContain(`${PAGE}/new`);
    expect(html).not.toContain('/edit');
    const page = await reader.get(`${PAGE}/new`);
    expect(page.status).toBe(403);
    expect(await page.text()).toContain('can view but not change key event notifications');
    expect((await reader.post(`${PAGE}/${id}/delete`, {})).status).toBe(403);
    expect((await admin.post(`${PAGE}/${id}/delete`, {}, { csrf: false })).status).toBe(403);
    expect(await rules()).toHaveLength(1);
  });
});
