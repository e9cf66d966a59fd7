import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { countTraces } from '../../src/store/trace-queries';
import { aTrace, makeTestEnv, type TestEnv } from '../helpers/app';
import { useBackends } from '../helpers/backends';

const backends = useBackends();
const long = (n: number) => 'x'.repeat(n);
/** JSON nested `depth` levels deep. */
const nested = (depth: number): unknown => (depth <= 1 ? {} : { a: nested(depth - 1) });

/** Every field rule of a reported trace: [field, bad value, why]. `undefined` = left out. */
const BAD_FIELDS: Array<[string, unknown, string]> = [
  ['trace_name', undefined, 'required'],
  ['trace_name', '', 'empty'],
  ['trace_name', '9lives', 'starts with a digit'],
  ['trace_name', 'create server', 'a space'],
  ['trace_name', 'create/server', 'a slash'],
  ['trace_name', `a${long(64)}`, '65 characters'],
  ['trace_name', 42, 'a number'],
  ['trace_rating', undefined, 'required'],
  ['trace_rating', 'fatal', 'not in the enum'],
  ['trace_rating', 'Normal', 'enum is case-sensitive'],
  ['trace_type', undefined, 'required'],
  ['trace_type', 'apiCall', 'enum is case-sensitive'],
  ['trace_type', 'Cron', 'not in the enum'],
  ['service_type', undefined, 'required'],
  ['service_type', 'ecs', 'lowercase'],
  ['service_type', 'E', 'one character'],
  ['service_type', 'E'.repeat(33), '33 characters'],
  ['service_type', 'EC-S', 'a hyphen'],
  ['resource_type', undefined, 'required'],
  ['resource_type', '', 'empty'],
  ['resource_type', 'a b', 'a space'],
  ['resource_type', long(65), '65 characters'],
  ['time', undefined, 'required'],
  ['time', '1795519800000', 'a string'],
  ['time', 1795519800000.5, 'not an integer'],
  ['time', 946684799999, 'before 2000'],
  ['time', -1, 'negative'],
  ['time', 1e15, 'not epoch milliseconds'],
  ['time', Date.UTC(2026, 10, 24, 13, 0, 1), 'over 1 h after the server clock'],
  ['trace_id', '', 'empty'],
  ['trace_id', 'a b', 'a space'],
  ['trace_id', 'a/b', 'a slash'],
  ['trace_id', long(65), '65 characters'],
  ['tracker_name', '', 'empty'],
  ['tracker_name', 'sys tem', 'a space'],
  ['user', 'alice', 'a string, not an object'],
  ['user', { name: 5 }, 'a number as name'],
  ['user', { name: long(257) }, 'a 257-character name'],
  ['user', { id: 'u\u0000' }, 'a control character'],
  ['user', { domain: 'acme' }, 'a string as domain'],
  ['request', nested(65), 'nested 65 levels'],
  ['response', nested(65), 'nested 65 levels'],
  ['message', nested(65), 'nested 65 levels'],
  ['code', true, 'a boolean'],
  ['code', 200.5, 'not an integer'],
  ['code', long(257), '257 characters'],
  ['code', '20\n0', 'a control character'],
  ['api_version', long(65), '65 characters'],
  ['api_version', 3, 'a number'],
  ['resource_id', long(351), '351 characters'],
  ['resource_id', 'r\u0001', 'a control character'],
  ['resource_name', long(257), '257 characters'],
  ['source_ip', long(65), '65 characters'],
  ['source_ip', '198.51.100.7\t', 'a tab'],
  ['request_id', long(129), '129 characters'],
  ['location_info', long(1025), '1025 characters'],
  ['endpoint', long(1025), '1025 characters'],
  ['resource_url', long(2049), '2049 characters'],
];

/** Bodies that are wrong as a whole: [body, field named in details, why]. */
const BAD_BODIES: Array<[unknown, string, string]> = [
  [{}, 'traces', 'no traces'],
  [{ traces: [] }, 'traces', 'an empty batch'],
  [{ traces: Array.from({ length: 1001 }, () => aTrace()) }, 'traces', '1001 traces'],
  [{ traces: aTrace() }, 'traces', 'not an array'],
  [{ traces: [aTrace(), 'trace'] }, 'traces[1]', 'a string in the batch'],
  [[aTrace()], '(body)', 'an array body'],
];

describe.each(backends)('POST /v3/{project_id}/traces ($name)', (backend) => {
  let env: TestEnv;
  let path: string;
  beforeEach(async () => {
    env = await makeTestEnv({ dbUrl: backend.dbUrl() });
    path = `/v3/${env.projectId}/traces`;
    // Something stored already, that a rejected batch must leave alone.
    await env.call('POST', path, { body: { traces: [aTrace({ trace_id: 'kept' })] } });
  });
  afterEach(() => env.close());

  const stored = () => countTraces(env.deps.db, env.projectId);

  it.each(BAD_FIELDS)('rejects %s = %j (%s) with 400, naming index and field', async (field, value) => {
    const bad = aTrace({ trace_id: 'bad' });
    if (value === undefined) delete (bad as Record<string, unknown>)[field];
    else (bad as Record<string, unknown>)[field] = value;
    const res = await env.call('POST', path, { body: { traces: [aTrace({ trace_id: 'good' }), bad] } });
    expect(res.status).toBe(400);
    const body = await res.json();
    expect(body.error_code).toBe('CTS.0003');
    expect(body.details.map((d: { field: string }) => d.field)).toContainEqual(
      expect.stringMatching(new RegExp(`^traces\\[1\\]\\.${field}(\\.|\\[|$)`)),
    );
    expect(await stored()).toBe(1);
  });

  it.each(BAD_BODIES)('rejects the body %# (%s) with 400', async (payload, field) => {
    const res = await env.call('POST', path, { body: payload });
    expect(res.status).toBe(400);
    const body = await res.json();
    expect(body.error_code).toBe('CTS.0003');
    expect(body.details.map((d: { field: string }) => d.field)).toContain(field);
    expect(await stored()).toBe(1);
  });

  it('names every bad trace of a batch, and stores none of it', async () => {
    const res = await env.call('POST', path, {
      body: {
        traces: [aTrace(), aTrace({ trace_name: '' }), aTrace(), aTrace({ time: 'now', code: false })],
      },
    });
    expect(res.status).toBe(400);
    const fields = (await res.json()).details.map((d: { field: string }) => d.field).sort();
    expect(fields).toEqual(['traces[1].trace_name', 'traces[3].code', 'traces[3].time']);
    expect(await stored()).toBe(1);
  });

  it.each([
    ['malformed JSON', '{"traces": [', 'application/json'],
    ['an empty body', '', 'application/json'],
    ['a text/plain body', JSON.stringify({ traces: [aTrace()] }), 'text/plain'],
    ['a form body', 'traces=1', 'application/x-www-form-urlencoded'],
  ])('answers %s with 400 CTS.0003', async (_, body, contentType) => {
    const res = await env.call('POST', path, { body, headers: { 'Content-Type': contentType } });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect((await res.json()).error_code).toBe('CTS.0003');
    expect(await stored()).toBe(1);
  });

  it('answers a body over 5 MB with 413 and a CTS body', async () => {
    const body = JSON.stringify({ traces: [aTrace({ message: long(5 * 1024 * 1024) })] });
    const res = await env.call('POST', path, { body });
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({ error_code: 'CTS.0003' });
    expect(await stored()).toBe(1);
  });

  it('accepts the limits of every rule', async () => {
    const edge = [
      aTrace({ trace_name: 'a', service_type: 'S3', time: 946684800000, trace_id: 'a:b.c_d-e' }),
      aTrace({ trace_name: `A${long(63)}`, service_type: 'E'.repeat(32), resource_type: long(64) }),
      aTrace({ trace_id: long(64), time: env.clock() + 3_600_000, user: null, source_ip: null }),
      aTrace({ request: nested(64), code: 'VPC.0514', resource_id: long(350), resource_url: long(2048) }),
    ];
    const res = await env.call('POST', path, { body: { traces: edge } });
    expect(res.status).toBe(201);
    expect((await res.json()).recorded).toBe(4);
  });

  it('accepts 1000 traces in one call', async () => {
    const traces = Array.from({ length: 1000 }, (_, i) => aTrace({ trace_id: `t-${i}` }));
    const res = await env.call('POST', path, { key: env.keys.reporter, body: { traces } });
    expect(res.status).toBe(201);
    expect(await res.json()).toMatchObject({ recorded: 1000, duplicates: 0 });
    expect(await stored()).toBe(1001);
  });

  it('is idempotent by trace_id: a retried batch is all duplicates, and stored once', async () => {
    const body = {
      traces: [aTrace({ trace_id: 'r-1' }), aTrace({ trace_id: 'r-2' }), aTrace({ trace_id: 'r-1' })],
    };
    const first = await env.call('POST', path, { body });
    expect(first.status).toBe(201);
    expect(await first.json()).toEqual({ trace_ids: ['r-1', 'r-2', 'r-1'], recorded: 2, duplicates: 1 });
    env.clock.advance(60_000);
    const again = await env.call('POST', path, {
      body: { traces: [...body.traces, aTrace({ trace_id: 'r-3' })] },
    });
    expect(await again.json()).toEqual({
      trace_ids: ['r-1', 'r-2', 'r-1', 'r-3'],
      recorded: 1,
      duplicates: 3,
    });
    expect(await stored()).toBe(4);
    // The first copy wins: its record_time is the first report's.
    const page = await (await env.call('GET', `${path}?trace_id=r-1`)).json();
    expect(page.traces[0].record_time).toBe(env.clock() - 60_000);
  });

  it('generates time-ordered trace_ids when none is sent', async () => {
    const res = await env.call('POST', path, { body: { traces: [aTrace(), aTrace()] } });
    const { trace_ids } = await res.json();
    expect(trace_ids).toHaveLength(2);
    for (const id of trace_ids)
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(trace_ids[0] < trace_ids[1]).toBe(true);
  });

  it('returns what was sent: request/response/message as their JSON text (a string as sent), code as a string, record_time from the server', async () => {
    const request = {
      server: { name: 'wéb-1', tags: [1, 2.5, true, null, 'x'], 'a.b': {} },
      big: 12345678901234,
    };
    const sent = aTrace({
      trace_id: 'shape',
      time: env.clock() - 1000,
      request,
      response: 'plain text',
      message: ['a', { b: null }],
      code: 404,
      location_info: 'line 1',
      endpoint: 'https://console.example.com',
      resource_url: '/ecs/srv-1',
      user: { id: 'u1', name: 'alice', domain: { id: 'd1', name: 'acme' }, account_id: 'extra' },
      record_time: 5,
    });
    await env.call('POST', path, { body: { traces: [sent] } });
    const res = await env.call('GET', `${path}?trace_id=shape`, { key: env.keys.reader });
    const trace = (await res.json()).traces[0];
    expect(Object.keys(trace).sort()).toEqual(
      [
        'trace_id',
        'trace_name',
        'trace_rating',
        'trace_type',
        'request',
        'response',
        'code',
        'api_version',
        'message',
        'record_time',
        'time',
        'user',
        'service_type',
        'resource_type',
        'resource_id',
        'resource_name',
        'source_ip',
        'request_id',
        'location_info',
        'endpoint',
        'resource_url',
      ].sort(),
    );
    const { record_time: _, code: __, ...rest } = sent as Record<string, unknown>;
    // The SDK's `Traces` declares request, response and message as strings (ADR 0004).
    expect(trace).toEqual({
      ...rest,
      request: JSON.stringify(request),
      response: 'plain text',
      message: '["a",{"b":null}]',
      code: '404',
      record_time: env.clock(),
    });
    expect(JSON.parse(trace.request)).toEqual(request);
  });

  it('returns null for optional fields that were left out', async () => {
    const minimal = {
      trace_id: 'min',
      trace_name: 'login',
      trace_rating: 'normal',
      trace_type: 'SystemAction',
      service_type: 'IAM',
      resource_type: 'user',
      time: env.clock(),
    };
    await env.call('POST', path, { body: { traces: [minimal] } });
    const trace = (await (await env.call('GET', `${path}?trace_id=min`)).json()).traces[0];
    for (const field of [
      'request',
      'response',
      'message',
      'code',
      'api_version',
      'user',
      'resource_id',
      'resource_name',
      'source_ip',
      'request_id',
      'location_info',
      'endpoint',
      'resource_url',
    ]) {
      expect(trace[field], field).toBeNull();
    }
  });
});
