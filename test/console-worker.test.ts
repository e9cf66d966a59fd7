/**
 * The console is served by the same app on Workers: the built bundle in workerd, against a real
 * libSQL server — sign in, the Trace List, a CSRF-protected CSV export, and the console's headers.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Miniflare } from 'miniflare';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aTrace } from './helpers/app';
import { csrfOf, formBody } from './helpers/console';
import { type SqldServer, startSqld } from './helpers/sqld';
import { buildWorker, runCli, startWorkers } from './helpers/worker';

const PROJECT = '0c0501e0000000000000000000000abc';
const TOKEN = 'console-worker-admin-token-0123456789';
const ORIGIN = 'https://cts.example';

let outdir: string;
let sqld: SqldServer;
let mf: Miniflare;

beforeAll(async () => {
  outdir = mkdtempSync(join(tmpdir(), 'cts-console-worker-'));
  let bundle: string;
  [bundle, sqld] = await Promise.all([buildWorker(outdir), startSqld()]);
  await runCli(['migrate'], { CTS_DATABASE_URL: sqld.url });
  mf = startWorkers(bundle, {
    cts: { CTS_DATABASE_URL: sqld.url, CTS_ADMIN_TOKEN: TOKEN, CTS_PROJECT_ID: PROJECT },
  });
  await mf.ready;
}, 120_000);

afterAll(async () => {
  await Promise.allSettled([mf?.dispose(), sqld?.stop()]);
  rmSync(outdir, { recursive: true, force: true });
});

const fetchWorker = async (path: string, init: RequestInit = {}) => {
  const worker = await mf.getWorker('cts');
  // biome-ignore lint/suspicious/noExplicitAny: miniflare's RequestInit is its own (undici) type.
  return worker.fetch(`${ORIGIN}${path}`, { redirect: 'manual', ...init } as any);
};

describe('console on Workers', () => {
  it('signs in over https, lists traces as text and exports CSV', async () => {
    const report = await fetchWorker(`/v3/${PROJECT}/traces`, {
      method: 'POST',
      headers: { 'X-Auth-Token': TOKEN, 'Content-Type': 'application/json' },
      body: JSON.stringify({
        traces: [aTrace({ trace_id: 'w1', time: Date.now() - 60_000, resource_name: '<b>bold</b>' })],
      }),
    });
    expect(report.status).toBe(201);

    const signIn = await fetchWorker('/console/sign-in', {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'Sec-Fetch-Site': 'same-origin' },
      body: formBody({ key: TOKEN }).toString(),
    });
    expect(signIn.status).toBe(303);
    const setCookie = signIn.headers.get('set-cookie') ?? '';
    expect(setCookie).toContain('HttpOnly');
    expect(setCookie).toContain('Secure');
    const cookie = setCookie.split(';')[0]!;

    const list = await fetchWorker('/console/traces', { headers: { Cookie: cookie } });
    expect(list.status).toBe(200);
    expect(list.headers.get('content-security-policy')).toContain("default-src 'none'");
    const html = await list.text();
    expect(html).toContain('href="/console/traces/w1"');
    expect(html).toContain('&lt;b&gt;bold&lt;/b&gt;');

    const exported = await fetchWorker('/console/traces/export', {
      method: 'POST',
      // (Miniflare's own entry refuses any Origin header; a browser sends Sec-Fetch-Site too.)
      headers: {
        'Content-Type': 'application/x-www-form-urlencoded',
        Cookie: cookie,
        'Sec-Fetch-Site': 'same-origin',
      },
      body: formBody({ _csrf: csrfOf(html) }).toString(),
    });
    expect(exported.status, await exported.clone().text()).toBe(200);
    const csv = await exported.text();
    // Newest first: the sign-in just now (a `login` trace of service CTS) comes before w1.
    const lines = csv.split('\n');
    expect(lines[1]).toMatch(/,login,normal,ConsoleAction,CTS,/);
    expect(lines.find((line) => line.startsWith('w1,'))).toMatch(/^w1,createServer,normal,/);
  });
});
