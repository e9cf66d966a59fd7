import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { ConfigError } from '../../src/config';
import type { Logger } from '../../src/domain/deps';
import { type RunningServer, startNodeServer } from '../../src/runtime/node';
import { aTrace as aTraceAt } from '../helpers/app';
import { type SqldServer, startSqld } from '../helpers/sqld';

// The single-process server for real: startNodeServer on 127.0.0.1:0 with its own data directory.

/** A trace of a minute ago: the server runs on the real clock. */
const aTrace = (overrides: Record<string, unknown> = {}) =>
  aTraceAt({ time: Date.now() - 60_000, ...overrides });

const dirs: string[] = [];
const servers: RunningServer[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  for (const server of servers.splice(0)) await server.close();
});
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function dataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'cts-server-'));
  dirs.push(dir);
  return dir;
}

const TOKEN = 'bootstrap-token-0123456789';
const PROJECT = 'abcdefabcdefabcdefabcdefabcdefab';

/** Settings for a server in a fresh data directory, bootstrapped with PROJECT and TOKEN. */
function bootstrapped(env: Record<string, string> = {}): Record<string, string> {
  return { CTS_DATA_DIR: dataDir(), CTS_ADMIN_TOKEN: TOKEN, CTS_PROJECT_ID: PROJECT, ...env };
}

/** Starts a server and returns what it printed (console and logger). */
async function start(env: Record<string, string>) {
  const printed: string[] = [];
  vi.spyOn(console, 'log').mockImplementation((...args) => void printed.push(args.join(' ')));
  const logger: Logger = {
    info: (message, fields) => void printed.push(`${message} ${JSON.stringify(fields)}`),
    warn: () => {},
    error: () => {},
  };
  const server = await startNodeServer({ HOST: '127.0.0.1', PORT: '0', ...env }, { logger });
  servers.push(server);
  vi.mocked(console.log).mockRestore();
  return { server, output: printed.join('\n') };
}

async function request(server: RunningServer, method: string, path: string, key?: string, body?: unknown) {
  const headers: Record<string, string> = key ? { 'X-Auth-Token': key } : {};
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  return fetch(`${server.url}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
}

describe('startNodeServer', () => {
  it('prints the URL, the project and an admin key on the first start only', async () => {
    const dir = dataDir();
    const first = await start({ CTS_DATA_DIR: dir });
    expect(first.server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(first.output).toContain(first.server.url);
    const projectId = first.output.match(/created project ([0-9a-f]{32})/)?.[1];
    const key = first.output.match(/cts_[0-9a-f]{64}/)?.[0];
    expect(projectId).toBeDefined();
    expect(key).toBeDefined();
    const report = await request(first.server, 'POST', `/v3/${projectId}/traces`, key, {
      traces: [aTrace()],
    });
    expect(report.status).toBe(201);
    await first.server.close();
    servers.splice(0);

    const second = await start({ CTS_DATA_DIR: dir });
    expect(second.output).toContain(projectId);
    expect(second.output).not.toMatch(/cts_[0-9a-f]{64}/);
    expect(second.output).not.toContain('First start');
    const list = await request(second.server, 'GET', `/v3/${projectId}/traces?limit=200&from=0`, key);
    expect(list.status).toBe(200);
    expect((await list.json()).meta_data.count).toBe(1);
  });

  it('bootstraps CTS_PROJECT_ID with CTS_ADMIN_TOKEN as its admin key, printing no key', async () => {
    const token = 'my-admin-token-0123456789';
    const project = '0123456789abcdef0123456789abcdef';
    const { server, output } = await start({
      CTS_DATA_DIR: dataDir(),
      CTS_ADMIN_TOKEN: token,
      CTS_PROJECT_ID: project,
    });
    expect(output).not.toContain(token);
    expect(output).not.toMatch(/cts_[0-9a-f]{64}/);
    expect((await request(server, 'GET', `/v3/${project}/traces`, token)).status).toBe(200);
    expect((await request(server, 'GET', `/v3/${'1'.repeat(32)}/traces`, token)).status).toBe(403);
    expect((await request(server, 'GET', `/v3/${project}/traces`, 'other-token-0123456789')).status).toBe(
      401,
    );
  });

  it.each([
    [{ PORT: 'eighty' }, 'PORT'],
    [{ PORT: '70000' }, 'PORT'],
    [{ CTS_PROJECT_ID: 'ABC' }, 'CTS_PROJECT_ID'],
    [{ CTS_ADMIN_TOKEN: 'short' }, 'CTS_ADMIN_TOKEN'],
    [{ CTS_DATABASE_URL: 'postgres://db/cts' }, 'CTS_DATABASE_URL'],
    [{ CTS_RETENTION_DAYS: '0' }, 'CTS_RETENTION_DAYS'],
    [{ CTS_REGION: 'EU West' }, 'CTS_REGION'],
  ])('refuses the configuration %j, naming %s', async (env, setting) => {
    const started = startNodeServer({ CTS_DATA_DIR: dataDir(), ...env });
    await expect(started).rejects.toThrow(ConfigError);
    await expect(started).rejects.toThrow(new RegExp(`${setting}: `));
  });

  it('names every bad setting at once', async () => {
    const started = startNodeServer({ CTS_DATA_DIR: dataDir(), PORT: 'x', CTS_PROJECT_ID: 'y' });
    await expect(started).rejects.toThrow(/PORT: [\s\S]*CTS_PROJECT_ID: /);
  });

  it('answers over HTTP: a body over 5 MB is 413, malformed JSON 400, both CTS bodies', async () => {
    const { server } = await start(bootstrapped());
    const path = `/v3/${PROJECT}/traces`;
    const big = JSON.stringify({ traces: [aTrace({ message: 'x'.repeat(5 * 1024 * 1024) })] });
    const tooBig = await request(server, 'POST', path, TOKEN, big);
    expect(tooBig.status).toBe(413);
    expect((await tooBig.json()).error_code).toBe('CTS.0003');
    const malformed = await request(server, 'POST', path, TOKEN, '{"traces":');
    expect(malformed.status).toBe(400);
    expect((await malformed.json()).error_code).toBe('CTS.0003');
    expect((await request(server, 'GET', '/health')).status).toBe(200);
  });

  it.each([
    [' (large writes on the database thread: auto)', 'auto'],
    [' with every call on the database thread', 'all'],
    [' with no database thread', 'off'],
  ])('keeps concurrent reports apart (group commit) and counts each one%s', async (_, thread) => {
    const { server } = await start(bootstrapped({ CTS_DATABASE_THREAD: thread }));
    const path = `/v3/${PROJECT}/traces`;
    const responses = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        request(server, 'POST', path, TOKEN, {
          traces: Array.from({ length: 25 }, (_, j) => aTrace({ trace_id: `c-${(i * 25 + j) % 600}` })),
        }),
      ),
    );
    const bodies = await Promise.all(responses.map((r) => r.json()));
    expect(responses.every((r) => r.status === 201)).toBe(true);
    expect(bodies.reduce((sum, b) => sum + b.recorded, 0)).toBe(600);
    expect(bodies.reduce((sum, b) => sum + b.duplicates, 0)).toBe(400);
    expect(await countOf(server, PROJECT, TOKEN)).toBe(600);
  });
});

describe('startNodeServer on a libSQL server (sqld)', () => {
  let sqld: SqldServer;
  beforeAll(async () => {
    sqld = await startSqld();
  });
  afterAll(() => sqld.stop());

  it('migrates, bootstraps and serves with CTS_DATABASE_URL=http://…', async () => {
    const env = bootstrapped({ CTS_DATABASE_URL: sqld.url });
    const { server } = await start(env);
    const report = await request(server, 'POST', `/v3/${PROJECT}/traces`, TOKEN, {
      traces: [aTrace({ trace_id: 'remote' }), aTrace()],
    });
    expect(await report.json()).toMatchObject({ recorded: 2, duplicates: 0 });
    await server.close();
    servers.splice(0);
    // Restarted on the same database: nothing created twice, the data is there.
    const again = await start(env);
    expect(await countOf(again.server, PROJECT, TOKEN)).toBe(2);
  });
});

/** How many traces of the last 7 days a project has, paging through the API. */
async function countOf(server: RunningServer, projectId: string, key: string): Promise<number> {
  let count = 0;
  let next = '';
  do {
    const res = await request(server, 'GET', `/v3/${projectId}/traces?limit=200&from=0${next}`, key);
    const page = await res.json();
    count += page.meta_data.count;
    next = page.meta_data.marker ? `&next=${page.meta_data.marker}` : '';
  } while (next);
  return count;
}
