import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { createFsBucketStore } from '../src/runtime/fs-bucket';
import { type RunningServer, startNodeServer } from '../src/runtime/node';
import { aTrace, silentLogger } from './helpers/app';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const PROJECT = 'ab'.repeat(16);
const TOKEN = 'cts_jobs-node-test-admin-token';

let dir: string;
let server: RunningServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
  rmSync(dir, { recursive: true, force: true });
});

function settings(extra: Record<string, string> = {}) {
  dir = mkdtempSync(join(tmpdir(), 'cts-jobs-node-'));
  return {
    CTS_DATA_DIR: dir,
    PORT: '0',
    CTS_REGION: 'eu-test-1',
    CTS_PROJECT_ID: PROJECT,
    CTS_ADMIN_TOKEN: TOKEN,
    CTS_JOBS_INTERVAL_SECONDS: '3600',
    ...extra,
  };
}

async function api(method: string, path: string, body?: unknown) {
  const res = await fetch(`${server!.url}${path}`, {
    method,
    headers: { 'X-Auth-Token': TOKEN, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  expect(res.status, `${method} ${path}: ${await res.clone().text()}`).toBeLessThan(300);
  return res;
}

async function configureAndReport(bucket: string, count: number) {
  await api('PUT', `/v3/${PROJECT}/tracker`, {
    tracker_type: 'system',
    tracker_name: 'system',
    obs_info: { bucket_name: bucket, is_obs_created: true },
  });
  const traces = Array.from({ length: count }, (_, i) =>
    aTrace({ trace_id: `n-${i}`, time: Date.now() - 1000 }),
  );
  await api('POST', `/v3/${PROJECT}/traces`, { traces });
}

async function archivedKeys(bucket: string) {
  const keys: string[] = [];
  for await (const { key } of createFsBucketStore(join(dir, 'buckets')).bucket(bucket).list('CloudTraces/')) {
    keys.push(key);
  }
  return keys;
}

function cts(args: string[], env: Record<string, string>) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((done, fail) => {
    const child = spawn(process.execPath, [join(ROOT, 'bin/cts.mjs'), ...args], {
      cwd: ROOT,
      env: { ...process.env, ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    child.on('error', fail);
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}

describe('cts jobs run', () => {
  it('runs the jobs once as of --now against the running server’s database, and prints the summary', async () => {
    const env = settings();
    server = await startNodeServer(env, { logger: silentLogger });
    await configureAndReport('cli-bkt', 5);

    const run = await cts(['jobs', 'run', '--now', '2026-01-05T03:04:05Z'], env);
    expect(run.code, run.stderr).toBe(0);
    const summary = JSON.parse(run.stdout);
    expect(summary).toMatchObject({ now: '2026-01-05T03:04:05.000Z', ok: true });
    const transfer = summary.steps.find((s: { name: string }) => s.name === 'transfer');
    expect(transfer.summary).toMatchObject({ traces: 6, backlog: 0 });

    const keys = await archivedKeys('cli-bkt');
    expect(keys.length).toBe(transfer.summary.files);
    for (const key of keys)
      expect(key).toMatch(/^CloudTraces\/eu-test-1\/2026\/1\/5\/system\/(ECS|CTS)\/CloudTrace_/);
    // The server goes on working on the same database.
    const trackers = await (await api('GET', `/v3/${PROJECT}/trackers`)).json();
    expect(trackers.trackers[0].status).toBe('enabled');

    const bad = await cts(['jobs', 'run', '--now', 'yesterday'], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--now');
  });
});

describe('the Node scheduler', () => {
  it('runs the jobs every CTS_JOBS_INTERVAL_SECONDS and stops on close', async () => {
    server = await startNodeServer(settings({ CTS_JOBS_INTERVAL_SECONDS: '1' }), { logger: silentLogger });
    await configureAndReport('timer-bkt', 3);
    // Wait for the scheduler (an event, not a timing assertion).
    for (let i = 0; i < 100 && (await archivedKeys('timer-bkt')).length === 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect((await archivedKeys('timer-bkt')).length).toBeGreaterThan(0);
    await server.close();
    server = undefined;
  });
});
