/**
 * The same app on Deno, on Bun, and as the single executable `npm run build:binary` makes:
 * each is started as its own process (as a user would), answers a report and a query over
 * HTTP, and stops cleanly on SIGTERM.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runtimeBinary } from '../../scripts/runtimes';
import { aTrace } from '../helpers/app';
import { ROOT } from '../helpers/worker';

const PROJECT = '5e1f0c2a9b8d4e6f7a3b1c0d2e4f6a8b';
const TOKEN = 'runtime-admin-token-0123456789';
const scratch = mkdtempSync(join(tmpdir(), 'cts-runtimes-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

interface Server {
  url: string;
  /** SIGTERM; resolves with the exit code. */
  stop(): Promise<number | null>;
}

/** Starts a server process with a fresh (or the given) data directory; resolves once it listens. */
async function startServer(command: string, args: string[], dataDir: string, cwd = ROOT): Promise<Server> {
  const child: ChildProcess = spawn(command, args, {
    cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      CTS_DATA_DIR: dataDir,
      HOST: '127.0.0.1',
      PORT: '0',
      CTS_ADMIN_TOKEN: TOKEN,
      CTS_PROJECT_ID: PROJECT,
    },
  });
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  let output = '';
  const url = await new Promise<string>((ready, fail) => {
    const timer = setTimeout(() => fail(new Error(`${command} did not start:\n${output}`)), 60_000);
    const read = (chunk: Buffer) => {
      output += chunk.toString();
      const match = output.match(/"message":"Cloud Trace Service listening","url":"([^"]+)"/);
      if (match?.[1]) {
        clearTimeout(timer);
        ready(match[1]);
      }
    };
    child.stdout?.on('data', read);
    child.stderr?.on('data', read);
    void exited.then((code) => {
      clearTimeout(timer);
      fail(new Error(`${command} exited with ${code}:\n${output}`));
    });
  });
  let stopped: Promise<number | null> | undefined;
  return {
    url,
    stop() {
      if (!stopped) {
        child.kill('SIGTERM');
        stopped = exited;
      }
      return stopped;
    },
  };
}

const call = (url: string, path: string, init: RequestInit = {}) =>
  fetch(`${url}${path}`, {
    ...init,
    headers: { 'X-Auth-Token': TOKEN, 'Content-Type': 'application/json', ...init.headers },
  });

/** Reports two traces and finds one of them by a filter. */
async function reportAndQuery(url: string): Promise<void> {
  const now = Date.now();
  const report = await call(url, `/v3/${PROJECT}/traces`, {
    method: 'POST',
    body: JSON.stringify({
      traces: [
        aTrace({ trace_id: 'rt-1', resource_id: 'srv-a', time: now - 2000 }),
        aTrace({ trace_id: 'rt-2', resource_id: 'srv-b', time: now - 1000 }),
      ],
    }),
  });
  expect(report.status).toBe(201);
  expect(await report.json()).toEqual({ trace_ids: ['rt-1', 'rt-2'], recorded: 2, duplicates: 0 });

  const query = await call(url, `/v3/${PROJECT}/traces?resource_id=srv-b`);
  expect(query.status).toBe(200);
  const body = await query.json();
  expect(body.traces.map((t: { trace_id: string }) => t.trace_id)).toEqual(['rt-2']);
  expect(body.traces[0]).toMatchObject({ resource_id: 'srv-b', code: '200', user: { name: 'alice' } });
}

/** The self-audit names the TCP peer (issue 13), not what X-Forwarded-For claims. */
async function expectPeerAddress(url: string): Promise<void> {
  const put = await call(url, `/v3/${PROJECT}/tracker`, {
    method: 'PUT',
    headers: { 'X-Forwarded-For': '8.8.8.8' },
    body: JSON.stringify({ tracker_type: 'system', tracker_name: 'system', status: 'enabled' }),
  });
  expect(put.status).toBe(200);
  const requestId = put.headers.get('x-request-id');
  const audit = await call(url, `/v3/${PROJECT}/traces?service_type=CTS&request_id=${requestId}`);
  expect((await audit.json()).traces).toMatchObject([
    { trace_name: 'updateTracker', source_ip: '127.0.0.1' },
  ]);
}

/** The console (hono/jsx pages) renders: `/console` leads to the sign-in page. */
async function expectConsole(url: string): Promise<void> {
  const page = await fetch(`${url}/console`);
  expect(page.status).toBe(200);
  expect(page.headers.get('content-type')).toContain('text/html');
  expect(await page.text()).toMatch(/^<!doctype html>.*<form/is);
}

describe.each([
  {
    runtime: 'Deno',
    command: () => runtimeBinary('deno'),
    args: [
      'run',
      '--allow-net',
      '--allow-env',
      '--allow-read',
      '--allow-write',
      '--allow-ffi',
      '--allow-sys',
      '--sloppy-imports',
      'src/runtime/deno.ts',
    ],
  },
  { runtime: 'Bun', command: () => runtimeBinary('bun'), args: ['run', 'src/runtime/bun.ts'] },
])('on $runtime', ({ runtime, command, args }) => {
  let server: Server;
  beforeAll(async () => {
    server = await startServer(command(), args, join(scratch, runtime));
  });
  afterAll(() => server?.stop());

  it('answers a report and a query, and stops on SIGTERM', async () => {
    await reportAndQuery(server.url);
    await expectPeerAddress(server.url);
    const doc = await call(server.url, '/openapi.json');
    expect((await doc.json()).openapi).toBe('3.1.0');
    await expectConsole(server.url);
    expect(await server.stop()).toBe(0);
  });
});

describe('the single binary (npm run build:binary)', () => {
  const binary = join(scratch, 'bin', 'cts');
  const elsewhere = mkdtempSync(join(tmpdir(), 'cts-binary-cwd-'));
  beforeAll(async () => {
    await promisify(execFile)(runtimeBinary('bun'), ['scripts/build-binary.ts', binary], { cwd: ROOT });
  }, 120_000);
  afterAll(() => rmSync(elsewhere, { recursive: true, force: true }));

  it('serves the app with an embedded database that outlives a restart', async () => {
    // Run away from the repository: nothing may come from its node_modules or drizzle/.
    const data = join(elsewhere, 'data');
    const first = await startServer(binary, [], data, elsewhere);
    try {
      await reportAndQuery(first.url);
      await expectConsole(first.url);
    } finally {
      expect(await first.stop()).toBe(0);
    }
    const second = await startServer(binary, [], data, elsewhere);
    try {
      const query = await call(second.url, `/v3/${PROJECT}/traces?trace_id=rt-1`);
      expect((await query.json()).traces.map((t: { trace_id: string }) => t.trace_id)).toEqual(['rt-1']);
    } finally {
      expect(await second.stop()).toBe(0);
    }
  });
});
