import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { aTrace, makeTestEnv, type TestEnv } from './helpers/app';

let env: TestEnv;
beforeEach(async () => {
  env = await makeTestEnv();
});
afterEach(() => env.close());

describe('report and query traces', () => {
  it('records a batch and returns it in the CTS shape', async () => {
    const report = await env.call('POST', `/v3/${env.projectId}/traces`, {
      key: env.keys.reporter,
      body: { traces: [aTrace({ trace_id: 't-1' })] },
    });
    expect(report.status).toBe(201);
    expect(await report.json()).toEqual({ trace_ids: ['t-1'], recorded: 1, duplicates: 0 });

    const list = await env.call('GET', `/v3/${env.projectId}/traces`, { key: env.keys.reader });
    expect(list.status).toBe(200);
    const body = await list.json();
    expect(body.meta_data).toEqual({ count: 1, marker: null });
    expect(Object.keys(body.traces[0]).sort()).toHaveLength(21);
    expect(body.traces[0]).toMatchObject({
      trace_id: 't-1',
      code: '200',
      request: { server: { name: 'web-1' } },
      record_time: env.clock(),
      user: { name: 'alice', domain: { name: 'acme' } },
    });
  });

  it('treats a re-reported trace_id as a duplicate', async () => {
    const body = { traces: [aTrace({ trace_id: 'dup' }), aTrace({ trace_id: 'dup' })] };
    const first = await env.call('POST', `/v3/${env.projectId}/traces`, { body });
    expect(await first.json()).toMatchObject({ recorded: 1, duplicates: 1 });
    const again = await env.call('POST', `/v3/${env.projectId}/traces`, { body });
    expect(await again.json()).toMatchObject({ recorded: 0, duplicates: 2 });
  });

  it('rejects the whole batch naming each bad trace and field', async () => {
    const res = await env.call('POST', `/v3/${env.projectId}/traces`, {
      body: { traces: [aTrace(), aTrace({ trace_name: '9lives', service_type: 'ecs' })] },
    });
    expect(res.status).toBe(400);
    const body = await res.json();
    expect(body.error_code).toBe('CTS.0003');
    expect(body.details.map((d: { field: string }) => d.field).sort()).toEqual([
      'traces[1].service_type',
      'traces[1].trace_name',
    ]);
    const list = await env.call('GET', `/v3/${env.projectId}/traces`);
    expect((await list.json()).traces).toHaveLength(0);
  });

  it('serves the OpenAPI document', async () => {
    const res = await env.call('GET', '/openapi.json', { key: null });
    expect(res.status).toBe(200);
    const doc = await res.json();
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toContain('/v3/{project_id}/traces');
  });
});
