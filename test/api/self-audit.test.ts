/**
 * Who did it (issue 13): every operation CTS records about itself names the key (user.id, name),
 * the channel (ApiCall / ConsoleAction / SystemAction for the CLI) and the request id; console
 * sign-in and sign-out and CLI key creation/revocation are recorded; refused management calls
 * are recorded once, with their outcome code, under the key that tried.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createApp } from '../../src/app';
import { parseConfig } from '../../src/config';
import { createApiKey, listApiKeys } from '../../src/domain/projects/projects';
import { buildNodeDeps } from '../../src/runtime/node';
import { makeTestEnv, silentLogger, type TestEnv } from '../helpers/app';
import { signIn } from '../helpers/console';

type Trace = Record<string, unknown> & { user: { id: string; name: string } };

let env: TestEnv;
let base: string;
beforeEach(async () => {
  env = await makeTestEnv();
  base = `/v3/${env.projectId}`;
});
afterEach(() => env.close());

async function cts(): Promise<Trace[]> {
  const res = await env.call('GET', `${base}/traces?service_type=CTS&limit=200`, { key: env.keys.reader });
  expect(res.status).toBe(200);
  return ((await res.json()).traces as Trace[]).reverse();
}

const keyNamed = async (role: string) => {
  const key = (await listApiKeys(env.deps, env.projectId)).find((k) => k.role === role);
  return { id: key!.id, name: key!.name };
};

describe('self-audit identity', () => {
  it('an API call: the key id and name, ApiCall, the request id of the response', async () => {
    const res = await env.call('PUT', `${base}/tracker`, {
      body: { tracker_type: 'system', tracker_name: 'system', status: 'disabled' },
      headers: { 'X-Request-Id': 'req-from-client-1' },
    });
    expect(res.status).toBe(200);
    const [trace] = await cts();
    const admin = await keyNamed('admin');
    expect(trace).toMatchObject({
      trace_name: 'updateTracker',
      trace_type: 'ApiCall',
      service_type: 'CTS',
      request_id: 'req-from-client-1',
      user: { id: admin.id, name: admin.name, domain: { id: expect.any(String) } },
    });
  });

  it('console actions are ConsoleAction; sign-in and sign-out are recorded', async () => {
    const browser = await signIn(env, env.keys.admin);
    const signOut = await browser.post('/console/sign-out', {}, { csrf: true });
    expect(signOut.status).toBe(303);
    const admin = await keyNamed('admin');
    const traces = await cts();
    expect(traces.map((t) => [t.trace_name, t.trace_type, t.resource_type, t.user.id])).toEqual([
      ['login', 'ConsoleAction', 'session', admin.id],
      ['logout', 'ConsoleAction', 'session', admin.id],
    ]);
  });

  it('refused calls are recorded once, with their code, under the key that tried', async () => {
    const reader = await keyNamed('reader');
    const asReader = await env.call('PUT', `${base}/tracker`, {
      key: env.keys.reader,
      body: { tracker_type: 'system', tracker_name: 'system', status: 'disabled' },
    });
    expect(asReader.status).toBe(403);
    const invalid = await env.call('POST', `${base}/notifications`, {
      body: '{"notification_name":"a\\udc00"}',
    });
    expect(invalid.status).toBe(400);
    const tooBig = await env.call('PUT', `${base}/topics/t1`, { body: { endpoint: 'x'.repeat(1_100_000) } });
    expect(tooBig.status).toBe(413);
    const domainRefusal = await env.call('PUT', `${base}/tracker`, {
      body: { tracker_type: 'system', tracker_name: 'other' },
    });
    expect(domainRefusal.status).toBe(400);
    const missing = await env.call('DELETE', `${base}/topics/nope`);
    expect(missing.status).toBe(404);
    const unauthenticated = await env.call('DELETE', `${base}/topics/nope`, { key: 'cts_wrong' });
    expect(unauthenticated.status).toBe(401);

    const traces = await cts();
    expect(traces.map((t) => [t.trace_name, t.code, t.trace_rating, t.user.id === reader.id])).toEqual([
      ['updateTracker', '403', 'warning', true],
      ['createNotification', '400', 'warning', false],
      ['updateTopic', '413', 'warning', false],
      ['updateTracker', '400', 'warning', false], // recorded by the operation itself, not twice
      ['deleteTopic', '404', 'warning', false],
    ]);
    // `response` comes back as the JSON text recorded (ADR 0004).
    expect(JSON.parse(String(traces[0]?.response))).toEqual({
      error_code: 'CTS.0013',
      error_msg: expect.any(String),
    });
    expect(traces[4]?.resource_name).toBe('nope');
  });

  it('a key of another project refused here is recorded in its own project, not this one', async () => {
    const { createProject } = await import('../../src/domain/projects/projects');
    const other = await createProject(env.deps, { name: 'other' });
    const otherKey = await createApiKey(env.deps, { projectId: other.id, role: 'admin' });
    const res = await env.call('DELETE', `${base}/trackers`, { key: otherKey.token });
    expect(res.status).toBe(403);
    expect(await cts()).toEqual([]);
    const theirs = await env.call('GET', `/v3/${other.id}/traces?service_type=CTS`, { key: otherKey.token });
    expect((await theirs.json()).traces).toMatchObject([{ trace_name: 'deleteTracker', code: '403' }]);
  });
});

describe('CLI key commands are recorded (SystemAction)', () => {
  const BIN = fileURLToPath(new URL('../../bin/cts.mjs', import.meta.url));
  const run = promisify(execFile);

  it('keys create and keys revoke (also a refused one)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cts-cli-audit-'));
    const cli = (...args: string[]) =>
      run(process.execPath, [BIN, ...args], { env: { ...process.env, CTS_DATA_DIR: dir } }).catch((e) => e);
    try {
      const project = JSON.parse((await cli('projects', 'create', '--name', 'p')).stdout).id as string;
      const created = await cli('keys', 'create', '--project', project, '--role', 'reader', '--name', 'ci');
      const keyId = created.stdout.match(/reader key (\S+) for project/)?.[1];
      await cli('keys', 'revoke', '--project', project, '--key', keyId);
      await cli('keys', 'revoke', '--project', project, '--key', 'no-such-key');

      const deps = await buildNodeDeps(parseConfig({ CTS_DATA_DIR: dir }), { logger: silentLogger });
      try {
        const admin = await createApiKey(deps, { projectId: project, role: 'admin' });
        const res = await createApp(deps).request(`/v3/${project}/traces?service_type=CTS`, {
          headers: { 'X-Auth-Token': admin.token },
        });
        const traces = ((await res.json()).traces as Trace[]).reverse();
        expect(traces.map((t) => [t.trace_name, t.trace_type, t.resource_id, t.code, t.user.id])).toEqual([
          ['createKey', 'SystemAction', keyId, '201', 'cli'],
          ['revokeKey', 'SystemAction', keyId, '200', 'cli'],
          ['revokeKey', 'SystemAction', 'no-such-key', '404', 'cli'],
        ]);
        expect(traces[0]?.resource_name).toBe('ci');
        expect(traces[0]?.user.name).toMatch(/^cli:/);
      } finally {
        deps.db.$client.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
