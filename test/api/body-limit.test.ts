/**
 * The body limit over real HTTP (Node's server): a `Content-Length` is judged by the header alone
 * (no web stream is made of the request), a chunked body without one is counted as it streams.
 * Both ways, a body over 5 MB is 413 with a CTS body and a body under it is recorded.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningServer, startNodeServer } from '../../src/runtime/node';
import { aTrace, silentLogger } from '../helpers/app';

const TOKEN = 'body-limit-token-0123456789';
const PROJECT = 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb';
const path = `/v3/${PROJECT}/traces`;

let dir: string;
let server: RunningServer;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cts-body-limit-'));
  server = await startNodeServer(
    { HOST: '127.0.0.1', PORT: '0', CTS_DATA_DIR: dir, CTS_ADMIN_TOKEN: TOKEN, CTS_PROJECT_ID: PROJECT },
    { logger: silentLogger },
  );
});
afterAll(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A report body sent in 64 KB chunks with no Content-Length (Transfer-Encoding: chunked). */
function chunked(text: string): RequestInit {
  const bytes = new TextEncoder().encode(text);
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      for (let at = 0; at < bytes.length; at += 65_536) controller.enqueue(bytes.subarray(at, at + 65_536));
      controller.close();
    },
  });
  return { body, duplex: 'half' } as RequestInit;
}

const report = (traces: unknown[]) => JSON.stringify({ traces });
const now = () => Date.now() - 60_000;

describe.each([
  ['Content-Length', (text: string): RequestInit => ({ body: text })],
  ['chunked', chunked],
])('the report body limit (%s)', (_, send) => {
  const post = (text: string) =>
    fetch(`${server.url}${path}`, {
      method: 'POST',
      headers: { 'X-Auth-Token': TOKEN, 'Content-Type': 'application/json' },
      ...send(text),
    });

  it('answers a body over 5 MB with 413 and a CTS body', async () => {
    const res = await post(report([aTrace({ time: now(), message: 'x'.repeat(5 * 1024 * 1024) })]));
    expect(res.status).toBe(413);
    expect((await res.json()).error_code).toBe('CTS.0003');
  });

  it('records a body under the limit', async () => {
    const res = await post(report([aTrace({ time: now(), trace_id: crypto.randomUUID() })]));
    expect(res.status).toBe(201);
    expect((await res.json()).recorded).toBe(1);
  });
});
