/**
 * Key event notifications in the built Worker (workerd), against a real libSQL server and a real
 * webhook receiver on 127.0.0.1: the first attempt runs under `waitUntil` right after the ingest,
 * retries run in the cron.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Miniflare } from 'miniflare';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { aTrace } from '../helpers/app';
import { type SqldServer, startSqld } from '../helpers/sqld';
import { signatureIsValid, startWebhookReceiver, type WebhookReceiver } from '../helpers/webhook-receiver';
import { buildWorker, runCli, startWorkers } from '../helpers/worker';

const PROJECT = '7d1a0c0de0000000000000000000000b';
const TOKEN = 'worker-ken-admin-token-0123456789';

let outdir: string;
let sqld: SqldServer;
let receiver: WebhookReceiver;
let mf: Miniflare;

beforeAll(async () => {
  outdir = mkdtempSync(join(tmpdir(), 'cts-worker-ken-'));
  let bundle: string;
  [bundle, sqld, receiver] = await Promise.all([buildWorker(outdir), startSqld(), startWebhookReceiver()]);
  await runCli(['migrate'], { CTS_DATABASE_URL: sqld.url });
  mf = startWorkers(
    bundle,
    { cts: { CTS_DATABASE_URL: sqld.url, CTS_ADMIN_TOKEN: TOKEN, CTS_PROJECT_ID: PROJECT } },
    () => {},
  );
  await mf.ready;
}, 120_000);

afterAll(async () => {
  await mf?.dispose();
  await Promise.all([sqld?.stop(), receiver?.close()]);
  rmSync(outdir, { recursive: true, force: true });
});

async function call(method: string, path: string, body?: unknown) {
  const worker = await mf.getWorker('cts');
  return worker.fetch(`http://cts.test/v3/${PROJECT}${path}`, {
    method,
    headers: { 'X-Auth-Token': TOKEN, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

it('delivers right after the ingest under waitUntil, and retries from the cron', async () => {
  const res = await call('POST', '/notifications', {
    notification_name: 'servers',
    operation_type: 'customized',
    operations: [{ service_type: 'ECS', resource_type: 'ecs', trace_names: ['createServer'] }],
    topic_id: receiver.url,
  });
  expect(res.status).toBe(201);
  const { secret } = (await res.json()) as { secret: string };

  expect(
    (await call('POST', '/traces', { traces: [aTrace({ trace_id: 'w1', time: Date.now() })] })).status,
  ).toBe(201);
  await receiver.waitForRequests(1);
  expect(receiver.requests[0]!.event.id).toBe('w1');
  expect(signatureIsValid(secret, receiver.requests[0]!)).toBe(true);

  receiver.answer = (_, i) => (i === 1 ? 500 : 200);
  expect(
    (await call('POST', '/traces', { traces: [aTrace({ trace_id: 'w2', time: Date.now() })] })).status,
  ).toBe(201);
  await receiver.waitForRequests(2);
  const worker = await mf.getWorker('cts');
  await worker.scheduled({ cron: '*/5 * * * *', scheduledTime: new Date(Date.now() + 3_600_000) });
  await receiver.waitForRequests(3);
  expect([...receiver.events.values()].map((event) => event.id).sort()).toEqual(['w1', 'w2']);
});
