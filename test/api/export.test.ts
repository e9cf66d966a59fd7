import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportTraces } from '../../src/domain/traces/export';
import { type RunningServer, startNodeServer } from '../../src/runtime/node';
import type { Db } from '../../src/store/db';
import { aTrace, makeTestEnv, silentLogger, type TestEnv } from '../helpers/app';

// GET /v3/{project_id}/traces as a streamed export for SIEMs: every match, one JSON object a line.

const T = Date.UTC(2026, 10, 24, 11, 0, 0);
const COUNT = 6_100; // more than a page (200) and more than the console's CSV cap (5,000)
let env: TestEnv;

beforeAll(async () => {
  env = await makeTestEnv();
  for (let start = 0; start < COUNT; start += 1000) {
    const traces = Array.from({ length: Math.min(1000, COUNT - start) }, (_, j) => {
      const i = start + j;
      return aTrace({
        time: T + i * 500,
        request_id: `r-${i}`,
        service_type: i % 3 === 0 ? 'EVS' : 'ECS',
        user: i % 2 === 0 ? { id: 'u1', name: 'alice' } : null,
        source_ip: i % 5 === 0 ? null : '198.51.100.7',
      });
    });
    const res = await env.call('POST', `/v3/${env.projectId}/traces`, {
      key: env.keys.reporter,
      body: { traces },
    });
    expect(res.status).toBe(201);
  }
});
afterAll(() => env?.close());

const window = `from=${T - 1}&to=${T + COUNT * 500}`;

async function lines(res: Response): Promise<Array<Record<string, unknown>>> {
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toBe('application/x-ndjson');
  const text = await res.text();
  expect(text.endsWith('\n')).toBe(true);
  return text
    .slice(0, -1)
    .split('\n')
    .map((line) => JSON.parse(line));
}

describe('streaming export', () => {
  it('streams every match of the window with Accept: application/x-ndjson, newest first, in the API shape', async () => {
    const res = await env.call('GET', `/v3/${env.projectId}/traces?${window}&limit=5`, {
      key: env.keys.reader,
      headers: { Accept: 'application/x-ndjson' },
    });
    const traces = await lines(res);
    expect(traces).toHaveLength(COUNT);
    expect(new Set(traces.map((t) => t.trace_id)).size).toBe(COUNT);
    const times = traces.map((t) => t.time as number);
    expect(times).toEqual([...times].sort((a, b) => b - a));
    // The same objects as the paged API returns.
    const page = await (
      await env.call('GET', `/v3/${env.projectId}/traces?${window}&limit=200`, { key: env.keys.reader })
    ).json();
    expect(traces.slice(0, 200)).toEqual(page.traces);
  });

  it('applies the filters, and format=ndjson needs no header', async () => {
    const res = await env.call(
      'GET',
      `/v3/${env.projectId}/traces?${window}&format=ndjson&service_type=EVS&user=alice`,
      {
        key: env.keys.reader,
      },
    );
    const traces = await lines(res);
    const expected = Array.from({ length: COUNT }, (_, i) => i).filter((i) => i % 3 === 0 && i % 2 === 0);
    expect(traces.map((t) => t.request_id).sort()).toEqual(expected.map((i) => `r-${i}`).sort());
  });

  it('streams OCSF API Activity events with format=ocsf, valid against the class schema', async () => {
    const schema = JSON.parse(
      readFileSync(join(import.meta.dirname, '../ocsf/api-activity.schema.json'), 'utf8'),
    );
    const ajv = new Ajv({ allErrors: true, strict: true, strictRequired: false });
    addFormats.default(ajv);
    const validate = ajv.compile(schema);
    const res = await env.call('GET', `/v3/${env.projectId}/traces?${window}&format=ocsf&service_type=EVS`, {
      key: env.keys.reader,
    });
    const events = await lines(res);
    expect(events).toHaveLength(Math.ceil(COUNT / 3));
    for (const event of events) expect(validate(event), JSON.stringify(validate.errors)).toBe(true);
    expect(events[0]).toMatchObject({
      class_uid: 6003,
      api: { operation: 'createServer', service: { name: 'EVS' } },
    });
  });

  it('answers a bad query with a CTS error, not a broken stream', async () => {
    const res = await env.call('GET', `/v3/${env.projectId}/traces?from=${T + 10}&to=${T}`, {
      key: env.keys.reader,
      headers: { Accept: 'application/x-ndjson' },
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error_code: expect.stringMatching(/^CTS\./) });
    const format = await env.call('GET', `/v3/${env.projectId}/traces?format=xml`, { key: env.keys.reader });
    expect(format.status).toBe(400);
    expect((await format.json()).error_msg).toMatch(/format/);
    const denied = await env.call('GET', `/v3/${env.projectId}/traces?format=ndjson`, {
      key: env.keys.reporter,
    });
    expect(denied.status).toBe(403);
  });

  it('reads one database page at a time, as the reader takes them', async () => {
    let reads = 0;
    const counting = new Proxy(env.deps.db, {
      get(target, name, receiver) {
        const value = Reflect.get(target, name, receiver);
        if (name !== 'all') return typeof value === 'function' ? value.bind(target) : value;
        return (...args: unknown[]) => {
          reads++;
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    }) as Db;
    const stream = await exportTraces(
      { ...env.deps, db: counting },
      env.projectId,
      {
        from: T - 1,
        to: T + COUNT * 500,
        limit: 10,
      },
      'ndjson',
    );
    const reader = stream.getReader();
    const first = await reader.read();
    expect(new TextDecoder().decode(first.value).split('\n')).toHaveLength(501);
    expect(reads).toBeLessThanOrEqual(2);
    await reader.cancel();
    expect(reads).toBeLessThanOrEqual(2);
  });

  it('is declared in /openapi.json', async () => {
    const doc = await (await env.call('GET', '/openapi.json', { key: null })).json();
    const get = doc.paths['/v3/{project_id}/traces'].get;
    expect(Object.keys(get.responses['200'].content)).toEqual(['application/json', 'application/x-ndjson']);
    const format = get.parameters.find((p: { name: string }) => p.name === 'format');
    expect(format.schema.enum).toEqual(['json', 'ndjson', 'ocsf']);
  });
});

describe('streaming export from the Node server', () => {
  let server: RunningServer;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cts-export-'));
    server = await startNodeServer(
      {
        CTS_DATA_DIR: dir,
        CTS_ADMIN_TOKEN: 'bootstrap-token-0123456789',
        CTS_PROJECT_ID: 'abcdefabcdefabcdefabcdefabcdefab',
        PORT: '0',
        HOST: '127.0.0.1',
      },
      { logger: silentLogger },
    );
  });
  afterAll(async () => {
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('streams over HTTP', async () => {
    const base = server.url;
    const headers = { 'X-Auth-Token': 'bootstrap-token-0123456789', 'Content-Type': 'application/json' };
    const now = Date.now();
    const traces = Array.from({ length: 700 }, (_, i) =>
      aTrace({ time: now - 60_000 - i, request_id: `h-${i}` }),
    );
    const posted = await fetch(`${base}/v3/abcdefabcdefabcdefabcdefabcdefab/traces`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ traces }),
    });
    expect(posted.status).toBe(201);
    const res = await fetch(`${base}/v3/abcdefabcdefabcdefabcdefabcdefab/traces?from=${now - 3_600_000}`, {
      headers: { ...headers, Accept: 'application/x-ndjson' },
    });
    const got = await lines(res);
    expect(got.filter((t) => String(t.request_id).startsWith('h-'))).toHaveLength(700);
  });
});
