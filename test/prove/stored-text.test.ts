/**
 * Stored text is always valid and bounded (issue 13): a lone surrogate (sent as the raw JSON
 * escape `\udc00`) or an oversized/odd header on every audited operation must neither reach the
 * database as invalid UTF-8 nor break a later read — on the embedded database and on sqld. A
 * lone surrogate once crashed the process on the next `GET /traces` (libsql `Utf8Error`).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeTestEnv, type TestEnv } from '../helpers/app';
import { useBackends } from '../helpers/backends';

const BAD = '"a\\udc00b"'; // JSON text: the string a, U+DC00 (unpaired), b
const backends = useBackends();

interface AuditedCase {
  name: string;
  method: string;
  /** Path below /v3/{project_id}. */
  path: string;
  /** JSON body text with `$S` where the hostile string goes (`"ok"` for the control request). */
  body?: string;
  /** The field the 400 must name. */
  field?: string;
}

const CASES: AuditedCase[] = [
  {
    name: 'CreateTracker',
    method: 'POST',
    path: '/tracker',
    body: '{"tracker_type":"system","tracker_name":$S}',
    field: 'tracker_name',
  },
  {
    name: 'UpdateTracker',
    method: 'PUT',
    path: '/tracker',
    body: '{"tracker_type":"system","tracker_name":$S,"status":"enabled"}',
    field: 'tracker_name',
  },
  {
    name: 'CreateNotification',
    method: 'POST',
    path: '/notifications',
    body: '{"notification_name":"n1","operation_type":"complete","notify_user_list":[{"user_group":$S,"user_list":["u"]}]}',
    field: 'notify_user_list[0].user_group',
  },
  {
    name: 'UpdateNotification',
    method: 'PUT',
    path: '/notifications',
    body: '{"notification_id":"$ID","notification_name":"n1","operation_type":"complete","status":"enabled","topic_id":"https://hooks.example.com/x","notify_user_list":[{"user_group":"g","user_list":[$S]}]}',
    field: 'notify_user_list[0].user_list[0]',
  },
  {
    name: 'PutTopic',
    method: 'PUT',
    path: '/topics/t1',
    body: '{"endpoint":$S}',
    field: 'endpoint',
  },
  {
    name: 'ReportTraces (request value)',
    method: 'POST',
    path: '/traces',
    body: `{"traces":[{"trace_name":"x","trace_rating":"normal","trace_type":"ApiCall","service_type":"ECS","resource_type":"vm","time":${Date.UTC(2026, 10, 24, 11)},"request":{"k":[1,$S]}}]}`,
    field: 'traces[0].request',
  },
  {
    name: 'BatchCreateResourceTags',
    method: 'POST',
    path: '/cts-tracker/00000000-0000-0000-0000-000000000000/tags/create',
    body: '{"tags":[{"key":"k","value":$S}]}',
    field: 'tags[0].value',
  },
  { name: 'DeleteTopic', method: 'DELETE', path: '/topics/a%ED%B0%80b' },
  { name: 'DeleteTracker', method: 'DELETE', path: '/trackers?tracker_name=a%ED%B0%80b' },
  { name: 'DeleteNotification', method: 'DELETE', path: '/notifications?notification_id=a%ED%B0%80b' },
];

describe.each(backends)('stored text ($name)', (backend) => {
  let env: TestEnv;
  let notificationId: string;
  beforeEach(async () => {
    env = await makeTestEnv({ dbUrl: backend.dbUrl() });
    const created = await env.call('POST', `/v3/${env.projectId}/notifications`, {
      body: { notification_name: 'seed', operation_type: 'complete' },
    });
    expect(created.status).toBe(201);
    notificationId = (await created.json()).notification_id;
  });
  afterEach(() => env.close());

  const send = (c: AuditedCase, value: string, headers: Record<string, string> = {}) =>
    env.call(c.method, `/v3/${env.projectId}${c.path}`, {
      headers,
      ...(c.body ? { body: c.body.replace('$S', value).replace('$ID', notificationId) } : {}),
    });

  /** Every query that reads what the operations above store must still answer. */
  async function expectReadsAnswer() {
    const base = `/v3/${env.projectId}`;
    for (const path of [
      '/traces?limit=200',
      '/traces?trace_type=system&limit=200',
      '/trackers',
      '/notifications/smn',
      '/topics',
    ]) {
      const res = await env.call('GET', base + path);
      expect(res.status, path).toBe(200);
      const text = await res.text();
      expect(text).not.toMatch(/\\ud[89a-f][0-9a-f]{2}/i); // no unpaired surrogate escapes either
    }
    const traces = (await (await env.call('GET', `${base}/traces?limit=200`)).json()).traces;
    return traces as Array<Record<string, unknown>>;
  }

  it.each(CASES.filter((c) => c.body))(
    '$name: an unpaired surrogate is a 400 naming the field',
    async (c) => {
      // The same request with a harmless string is not refused for it (it may be for another reason).
      const control = await send(c, '"ok"');
      expect(await control.text()).not.toContain('surrogate');
      const res = await send(c, BAD);
      expect(res.status).toBe(400);
      const body = await res.json();
      expect(body.error_code).toBe('CTS.0003');
      expect(body.details.map((d: { field: string }) => d.field)).toContain(c.field);
      await expectReadsAnswer();
    },
  );

  it.each(CASES)(
    '$name: odd headers and hostile values are stored bounded, and reads still answer',
    async (c) => {
      const res = await send(c, '"ok"', {
        'X-Request-Id': 'r'.repeat(251),
        'X-Forwarded-For': `198.51.100.1\t${'9'.repeat(3000)}`,
        'CF-Connecting-IP': `\u00e9${'x'.repeat(3000)}`,
        'X-Real-IP': '1'.repeat(300),
      });
      expect(res.status).toBeLessThan(500);
      expect(res.headers.get('x-request-id')?.length).toBeLessThanOrEqual(128);
      const traces = await expectReadsAnswer();
      expect(traces.length).toBeGreaterThan(0);
      for (const t of traces) {
        expect(String(t.source_ip ?? '').length).toBeLessThanOrEqual(64);
        expect(String(t.request_id ?? '').length).toBeLessThanOrEqual(128);
        expect(String(t.resource_name ?? '').length).toBeLessThanOrEqual(256);
        for (const value of Object.values(t)) {
          // biome-ignore lint/suspicious/noControlCharactersInRegex: looking for them is the point
          if (typeof value === 'string') expect(value).not.toMatch(/[\u0000-\u001f]/);
        }
      }
    },
  );

  it('a refused name is recorded with U+FFFD, never with the unpaired surrogate', async () => {
    // A name that passes the body check but is refused by the domain, echoed into the audit.
    const res = await env.call('POST', `/v3/${env.projectId}/tracker`, {
      body: `{"tracker_type":"system","tracker_name":"${'\\u0000'.repeat(3)}${'n'.repeat(300)}"}`,
    });
    expect((await res.json()).error_code).toBe('CTS.0203');
    const traces = await expectReadsAnswer();
    const refused = traces.find((t) => t.trace_name === 'createTracker' && t.code === '400');
    expect(refused).toBeDefined();
    expect(String(refused?.resource_name)).toMatch(/^\ufffd{3}n+$/);
    expect(String(refused?.resource_name)).toHaveLength(256);
  });

  it('every request body is bounded: PUT /tracker over 1 MB is a 413 and is not stored', async () => {
    const huge = JSON.stringify({ tracker_type: 'system', tracker_name: 'x'.repeat(2 * 1024 * 1024) });
    const res = await env.call('PUT', `/v3/${env.projectId}/tracker`, { body: huge });
    expect(res.status).toBe(413);
    expect((await res.json()).error_code).toBe('CTS.0003');
    const traces = await expectReadsAnswer();
    expect(JSON.stringify(traces).length).toBeLessThan(100_000);
  });
});
