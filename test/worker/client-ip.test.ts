/**
 * The client IP in the self-audit on Workers (issue 13), the built bundle in workerd: the
 * address Cloudflare puts in CF-Connecting-IP, never X-Forwarded-For / X-Real-IP a client sends,
 * unless CF-Connecting-IP itself is a trusted proxy (CTS_TRUSTED_PROXIES).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Miniflare } from 'miniflare';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SqldServer, startSqld } from '../helpers/sqld';
import { buildWorker, runCli, startWorkers } from '../helpers/worker';

const PROJECT = '0a1b2c3d4e5f60718293a4b5c6d7e8f9';
const TOKEN = 'worker-client-ip-token-0123456789';

let outdir: string;
let sqld: SqldServer;
let mf: Miniflare;

beforeAll(async () => {
  outdir = mkdtempSync(join(tmpdir(), 'cts-worker-ip-'));
  let bundle: string;
  [bundle, sqld] = await Promise.all([buildWorker(outdir), startSqld()]);
  await runCli(['migrate'], { CTS_DATABASE_URL: sqld.url });
  const bindings = { CTS_DATABASE_URL: sqld.url, CTS_ADMIN_TOKEN: TOKEN, CTS_PROJECT_ID: PROJECT };
  mf = startWorkers(bundle, {
    cts: bindings,
    behindProxy: { ...bindings, CTS_TRUSTED_PROXIES: '203.0.113.0/24' },
  });
  await mf.ready;
}, 120_000);

afterAll(async () => {
  await Promise.allSettled([mf?.dispose(), sqld?.stop()]);
  rmSync(outdir, { recursive: true, force: true });
});

/** An audited management call through `worker` with `headers`; the source_ip recorded for it. */
async function auditedSourceIp(headers: Record<string, string>, worker = 'cts'): Promise<unknown> {
  const w = await mf.getWorker(worker);
  const put = await w.fetch(`http://cts.test/v3/${PROJECT}/tracker`, {
    method: 'PUT',
    headers: { 'X-Auth-Token': TOKEN, 'Content-Type': 'application/json', ...headers },
    body: JSON.stringify({ tracker_type: 'system', tracker_name: 'system', status: 'enabled' }),
  });
  expect(put.status).toBe(200);
  const requestId = put.headers.get('x-request-id');
  const res = await w.fetch(`http://cts.test/v3/${PROJECT}/traces?service_type=CTS&request_id=${requestId}`, {
    headers: { 'X-Auth-Token': TOKEN },
  });
  const { traces } = (await res.json()) as { traces: Array<{ source_ip: unknown }> };
  expect(traces).toHaveLength(1);
  return traces[0]?.source_ip;
}

describe('client IP in workerd', () => {
  it('is CF-Connecting-IP; spoofed X-Forwarded-For / X-Real-IP are ignored', async () => {
    const spoofed = { 'X-Forwarded-For': '8.8.8.8', 'X-Real-IP': '8.8.4.4' };
    expect(await auditedSourceIp({ 'CF-Connecting-IP': '198.51.100.20', ...spoofed })).toBe('198.51.100.20');
    expect(await auditedSourceIp({ 'CF-Connecting-IP': '2001:db8::20', ...spoofed })).toBe('2001:db8::20');
    expect(await auditedSourceIp({ 'CF-Connecting-IP': '::ffff:198.51.100.21' })).toBe('198.51.100.21');
  });

  it('without CF-Connecting-IP (not behind Cloudflare) no address is claimed for the client', async () => {
    expect(await auditedSourceIp({ 'X-Forwarded-For': '8.8.8.8' })).toBeNull();
  });

  it('a trusted proxy as CF-Connecting-IP: its X-Forwarded-For hop', async () => {
    const headers = { 'CF-Connecting-IP': '203.0.113.1', 'X-Forwarded-For': '6.6.6.6, 198.51.100.30' };
    expect(await auditedSourceIp(headers, 'behindProxy')).toBe('198.51.100.30');
    expect(await auditedSourceIp({ ...headers, 'CF-Connecting-IP': '192.0.2.1' }, 'behindProxy')).toBe(
      '192.0.2.1',
    );
  });
});
