/**
 * /openapi.json and the server agree (issue 13): a third-party linter (Redocly CLI, recommended
 * rules) finds nothing; every operation has a unique operationId (the CTS SDK's names where one
 * exists), a declared security requirement (empty for the public ones) and only examples and
 * defaults that fit their schemas (checked with ajv); a wrong method on a real path is a 405 with
 * `Allow`; `GET /v3/` answers like `GET /v3`; an early 413 on the Node server says
 * `Connection: close` and ends the connection cleanly. The corpus half (every hostile request's
 * answer against the declared status and schema) runs in bad-input.test.ts.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { makeTestEnv } from '../helpers/app';
import { contractOf } from './helpers/contract';
import type { OpenApiDocument } from './helpers/endpoints';
import { PROVE_ADMIN_TOKEN, PROVE_PROJECT_ID, REPO_ROOT, startServerProcess } from './helpers/server-process';

const env = await makeTestEnv();
const dir = mkdtempSync(join(tmpdir(), 'cts-contract-'));
afterAll(() => {
  env.close();
  rmSync(dir, { recursive: true, force: true });
});
// Fetched as a client of a deployment would (the document names it in `servers`).
const ORIGIN = 'https://cts.test';
const doc = (await (await env.app.request(`${ORIGIN}/openapi.json`)).json()) as OpenApiDocument & {
  servers: Array<{ url: string }>;
};
const contract = contractOf(doc);
const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'];
type Operation = { operationId?: string; security?: unknown[]; responses: Record<string, unknown> };
const operations = Object.entries(doc.paths).flatMap(([path, item]) =>
  Object.entries(item as Record<string, Operation>)
    .filter(([method]) => METHODS.includes(method))
    .map(([method, op]) => ({ key: `${method.toUpperCase()} ${path}`, op })),
);

describe('the OpenAPI document', () => {
  it('passes Redocly CLI lint with the recommended rules: no error, no warning', async () => {
    const file = join(dir, 'openapi.json');
    writeFileSync(file, JSON.stringify(doc));
    const redocly = join(REPO_ROOT, 'node_modules/@redocly/cli/bin/cli.js');
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [redocly, 'lint', '--extends', 'recommended', '--format', 'json', file],
      { env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' } },
    ).catch((error: { stdout: string }) => error); // a finding exits 1; the JSON report says which
    const report = JSON.parse(stdout) as {
      totals: Record<string, number>;
      problems: Array<{ ruleId: string; message: string }>;
    };
    expect(report.problems.map((p) => `${p.ruleId}: ${p.message}`)).toEqual([]);
    expect(report.totals).toMatchObject({ errors: 0, warnings: 0 });
  }, 120_000);

  it('names the deployment in servers', () => {
    expect(doc.servers).toEqual([{ url: ORIGIN, description: expect.any(String) }]);
  });

  it('gives every operation a unique operationId, the CTS SDK names where they exist', () => {
    const ids = operations.map((o) => o.op.operationId);
    expect(ids.every((id) => typeof id === 'string' && /^[A-Z][A-Za-z]+$/.test(id))).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    const byKey = Object.fromEntries(operations.map((o) => [o.key, o.op.operationId]));
    expect(byKey).toMatchObject({
      'GET /v3/{project_id}/traces': 'ListTraces',
      'POST /v3/{project_id}/tracker': 'CreateTracker',
      'PUT /v3/{project_id}/tracker': 'UpdateTracker',
      'GET /v3/{project_id}/trackers': 'ListTrackers',
      'DELETE /v3/{project_id}/trackers': 'DeleteTracker',
      'POST /v3/{project_id}/notifications': 'CreateNotification',
      'PUT /v3/{project_id}/notifications': 'UpdateNotification',
      'GET /v3/{project_id}/notifications/{notification_type}': 'ListNotifications',
      'DELETE /v3/{project_id}/notifications': 'DeleteNotification',
      'GET /v3/{project_id}/quotas': 'ListQuotas',
    });
  });

  it('declares security on every operation: empty on the public ones, a key elsewhere', async () => {
    for (const { key, op } of operations) {
      expect(op.security, key).toBeDefined();
      const isPublic = op.security?.length === 0;
      // Public means it answers without a key; the others refuse one missing.
      const path = key
        .split(' ')[1]!
        .replace('{project_id}', env.projectId)
        .replace(/\{[^}]+\}/g, 'v3');
      const res = await env.app.request(path, { method: key.split(' ')[0] });
      expect(res.status === 401, `${key} answered ${res.status} without a key`).toBe(!isPublic);
    }
    const publicOps = operations.filter((o) => o.op.security?.length === 0).map((o) => o.key);
    expect(publicOps.sort()).toEqual(['GET /', 'GET /health', 'GET /{version}']);
  });

  it('has only defaults and examples that fit their own schemas', () => {
    const found: string[] = [];
    const walk = (node: unknown, where: string) => {
      if (node === null || typeof node !== 'object') return;
      const schema = node as Record<string, unknown>;
      if ('type' in schema || '$ref' in schema || 'anyOf' in schema || 'enum' in schema) {
        for (const keyword of ['default', 'example'] as const) {
          if (!(keyword in schema)) continue;
          const { default: _d, example: _e, ...rest } = schema;
          const problem = contract.valueProblem(rest, schema[keyword]);
          found.push(`${where}.${keyword}${problem ? `: ${problem}` : ''}`);
        }
        // Parameter examples sit beside the schema in OpenAPI; checked by the parameter walk below.
      }
      for (const [k, v] of Object.entries(schema)) walk(v, `${where}.${k}`);
    };
    walk(doc, '#');
    for (const { key, op } of operations) {
      for (const p of (op as { parameters?: Array<{ name: string; schema: unknown; example?: unknown }> })
        .parameters ?? []) {
        if (p.example !== undefined) {
          const problem = contract.valueProblem(p.schema, p.example);
          found.push(`${key} ${p.name}.example${problem ? `: ${problem}` : ''}`);
        }
      }
    }
    expect(found.length).toBeGreaterThan(5); // the walk does see them
    expect(found.filter((f) => f.includes(': '))).toEqual([]);
    expect(found.some((f) => /traces\.get\.parameters\.\d+\.schema\.default$/.test(f))).toBe(true); // limit
  });

  it('the ajv check itself refuses an undeclared status and a body off its schema', () => {
    const ok = JSON.stringify({ error_code: 'CTS.0003', error_msg: 'x' });
    expect(contract.responseProblem('POST', `/v3/p/traces`, 400, ok)).toBeUndefined();
    expect(contract.responseProblem('POST', `/v3/p/traces`, 418, ok)).toMatch(/not declared/);
    expect(contract.responseProblem('POST', `/v3/p/traces`, 400, '{"error_code":3,"error_msg":"x"}')).toMatch(
      /error_code/,
    );
    expect(contract.responseProblem('GET', '/no/where', 200, '{}')).toMatch(/no operation/);
  });
});

describe('the server keeps to it', () => {
  it('answers a wrong method on a real path with 405 and Allow; an unknown path stays 404', async () => {
    const cases: Array<[string, string, string]> = [
      ['PATCH', `/v3/${env.projectId}/traces`, 'GET, HEAD, POST'],
      ['POST', `/v3/${env.projectId}/trackers`, 'DELETE, GET, HEAD'],
      ['DELETE', '/health', 'GET, HEAD'],
      ['GET', `/v3/${env.projectId}/tracker`, 'POST, PUT'],
    ];
    for (const [method, path, allow] of cases) {
      const res = await env.app.request(path, { method });
      expect(res.status, `${method} ${path}`).toBe(405);
      expect(res.headers.get('allow')).toBe(allow);
      expect(await res.json()).toMatchObject({ error_code: 'CTS.0100', request_id: expect.any(String) });
    }
    expect((await env.app.request('/v3/x/nothing-here', { method: 'POST' })).status).toBe(404);
  });

  it('answers GET /v3/ (the advertised self link) like GET /v3', async () => {
    const plain = await env.app.request(`${ORIGIN}/v3`);
    const slash = await env.app.request(`${ORIGIN}/v3/`);
    expect(slash.status).toBe(200);
    const body = await slash.json();
    expect(body).toEqual(await plain.json());
    expect(body.version.links[0].href).toBe(`${ORIGIN}/v3/`);
  });

  it('on Node, an early 413 says Connection: close and ends the kept-alive connection cleanly', async () => {
    const server = await startServerProcess({
      env: {
        CTS_DATA_DIR: join(dir, 'server'),
        CTS_PROJECT_ID: PROVE_PROJECT_ID,
        CTS_ADMIN_TOKEN: PROVE_ADMIN_TOKEN,
      },
    });
    try {
      const total = 8 * 1024 * 1024;
      const socket = connect(server.port, '127.0.0.1');
      let received = '';
      const outcome = new Promise<string>((resolve) => {
        socket.on('data', (chunk) => {
          received += chunk.toString('latin1');
        });
        socket.on('error', (error) => resolve(`error ${error.message}`));
        socket.on('end', () => resolve('end'));
      });
      socket.write(
        `POST /v3/${PROVE_PROJECT_ID}/traces HTTP/1.1\r\nHost: cts\r\nX-Auth-Token: ${PROVE_ADMIN_TOKEN}\r\n` +
          `Content-Type: application/json\r\nContent-Length: ${total}\r\nConnection: keep-alive\r\n\r\n`,
      );
      // Keeps sending as a careless client does, for a while after the answer came.
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      for (let sent = 0; sent < total && !socket.destroyed; sent += chunk.length) {
        if (!socket.write(chunk)) await new Promise((r) => socket.once('drain', r).once('close', r));
        if (received.includes('\r\n\r\n')) break;
      }
      expect(await outcome).toBe('end'); // a FIN, not a reset
      const head = received.split('\r\n\r\n')[0]!.toLowerCase();
      expect(head).toMatch(/^http\/1\.1 413 /);
      expect(head).toContain('connection: close');
      expect(head).not.toContain('keep-alive');
      socket.destroy();
    } finally {
      await server.stop();
    }
  });
});
