/**
 * The client IP in the self-audit is known, not claimed (issue 13), on the real Node server
 * (`npm start`'s bundle, a child process): the TCP peer, forwarding headers only from a peer in
 * CTS_TRUSTED_PROXIES, IPv6 and IPv4-mapped peers; a bad CTS_TRUSTED_PROXIES stops the server.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { NODE_SERVER } from '../../scripts/build-node';
import {
  PROVE_PROJECT_ID as PROJECT,
  REPO_ROOT,
  type ServerProcess,
  startServerProcess,
  PROVE_ADMIN_TOKEN as TOKEN,
} from '../prove/helpers/server-process';

const dirs: string[] = [];
const servers: ServerProcess[] = [];
afterAll(async () => {
  await Promise.allSettled(servers.map((s) => s.stop()));
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

async function start(env: Record<string, string> = {}): Promise<ServerProcess> {
  const dataDir = mkdtempSync(join(tmpdir(), 'cts-client-ip-'));
  dirs.push(dataDir);
  const server = await startServerProcess({
    env: {
      CTS_DATA_DIR: dataDir,
      CTS_PROJECT_ID: PROJECT,
      CTS_ADMIN_TOKEN: TOKEN,
      CTS_JOBS_INTERVAL_SECONDS: '86400',
      ...env,
    },
  });
  servers.push(server);
  return server;
}

/** An audited management call from `base` with `headers`; returns the source_ip it was recorded with. */
async function auditedSourceIp(base: string, headers: Record<string, string> = {}): Promise<unknown> {
  const put = await fetch(`${base}/v3/${PROJECT}/tracker`, {
    method: 'PUT',
    headers: { 'X-Auth-Token': TOKEN, 'Content-Type': 'application/json', ...headers },
    body: JSON.stringify({ tracker_type: 'system', tracker_name: 'system', status: 'enabled' }),
  });
  expect(put.status).toBe(200);
  const requestId = put.headers.get('x-request-id');
  const res = await fetch(`${base}/v3/${PROJECT}/traces?service_type=CTS&request_id=${requestId}`, {
    headers: { 'X-Auth-Token': TOKEN },
  });
  const [trace] = (await res.json()).traces;
  expect(trace.trace_name).toBe('updateTracker');
  return trace.source_ip;
}

const SPOOFED = { 'X-Forwarded-For': '8.8.8.8', 'X-Real-IP': '8.8.4.4', 'CF-Connecting-IP': '1.1.1.1' };

describe('client IP on the Node server', () => {
  it('no trusted proxy: the TCP peer, with or without (spoofed) forwarding headers', async () => {
    const server = await start();
    expect(await auditedSourceIp(server.url)).toBe('127.0.0.1');
    expect(await auditedSourceIp(server.url, SPOOFED)).toBe('127.0.0.1');
  });

  it('a trusted peer: the right-most untrusted X-Forwarded-For hop, else X-Real-IP', async () => {
    const server = await start({ CTS_TRUSTED_PROXIES: '127.0.0.0/8,10.0.0.0/8' });
    expect(await auditedSourceIp(server.url)).toBe('127.0.0.1');
    const chain = { 'X-Forwarded-For': '6.6.6.6, 198.51.100.7, 10.1.2.3' };
    expect(await auditedSourceIp(server.url, chain)).toBe('198.51.100.7');
    expect(await auditedSourceIp(server.url, { 'X-Forwarded-For': '2001:db8::7' })).toBe('2001:db8::7');
    expect(await auditedSourceIp(server.url, { 'X-Real-IP': '192.0.2.44' })).toBe('192.0.2.44');
  });

  it('a proxy trusted for another range does not make this peer trusted', async () => {
    const server = await start({ CTS_TRUSTED_PROXIES: '10.0.0.0/8,fd00::/8' });
    expect(await auditedSourceIp(server.url, SPOOFED)).toBe('127.0.0.1');
  });

  it('IPv6: the ::1 peer as is, an IPv4-mapped peer (::ffff:127.0.0.1) as 127.0.0.1', async () => {
    const server = await start({ HOST: '::' });
    expect(await auditedSourceIp(`http://[::1]:${server.port}`, SPOOFED)).toBe('::1');
    expect(await auditedSourceIp(`http://127.0.0.1:${server.port}`)).toBe('127.0.0.1');
    const trusting = await start({ HOST: '::', CTS_TRUSTED_PROXIES: '::1' });
    const via = await auditedSourceIp(`http://[::1]:${trusting.port}`, { 'X-Forwarded-For': '203.0.113.8' });
    expect(via).toBe('203.0.113.8');
  });

  it('a bad CTS_TRUSTED_PROXIES stops the server with exit status 2, naming the setting', async () => {
    const child = spawn(process.execPath, [NODE_SERVER], {
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH ?? '', CTS_TRUSTED_PROXIES: '10.0.0.0/33', CTS_DATA_DIR: tmpdir() },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stderr.on('data', (chunk) => {
      output += chunk;
    });
    const code = await new Promise((resolve) => child.once('exit', resolve));
    expect(code).toBe(2);
    expect(output).toContain('CTS_TRUSTED_PROXIES');
  });
});
