import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type RunningServer, startNodeServer } from '../src/runtime/node';
import { aTrace, manualClock, silentLogger } from './helpers/app';
import { startWebhookReceiver, type WebhookReceiver } from './helpers/webhook-receiver';

const PROJECT = '0e7e5a000000000000000000000000aa';
const ADMIN_TOKEN = 'cts_restart-admin-token-0123456789abcdef';
const HOUR = 3_600_000;

let receiver: WebhookReceiver;
let dataDir: string;
const clock = manualClock();
const servers: RunningServer[] = [];

beforeAll(async () => {
  receiver = await startWebhookReceiver();
  dataDir = mkdtempSync(join(tmpdir(), 'cts-ken-restart-'));
});
afterAll(async () => {
  for (const server of servers.splice(0)) await server.close().catch(() => {});
  await receiver.close();
});

/** The single-process server on a `file:` database in `dataDir` (the same one every time). */
async function start(): Promise<RunningServer> {
  const server = await startNodeServer(
    {
      PORT: '0',
      HOST: '127.0.0.1',
      CTS_DATA_DIR: dataDir,
      CTS_ADMIN_TOKEN: ADMIN_TOKEN,
      CTS_PROJECT_ID: PROJECT,
      CTS_WEBHOOK_TIMEOUT_MS: '2000',
    },
    { logger: silentLogger, clock },
  );
  servers.push(server);
  return server;
}

async function stop(server: RunningServer) {
  servers.splice(servers.indexOf(server), 1);
  await server.close();
}

async function call(server: RunningServer, method: string, path: string, body?: unknown) {
  return fetch(`${server.url}/v3/${PROJECT}${path}`, {
    method,
    headers: { 'Content-Type': 'application/json', 'X-Auth-Token': ADMIN_TOKEN },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

/** Polls until `check` passes: the Node scheduler works in the background, on its own time. */
async function eventually(check: () => Promise<boolean>) {
  while (!(await check())) await new Promise((r) => setTimeout(r, 20));
}

it('drains right after an ingest on Node, and loses nothing across a restart', async () => {
  const first = await start();
  const rule = await call(first, 'POST', '/notifications', {
    notification_name: 'servers',
    operation_type: 'customized',
    operations: [{ service_type: 'ECS', resource_type: 'ecs', trace_names: ['createServer'] }],
    topic_id: receiver.url,
  });
  expect(rule.status).toBe(201);

  receiver.answer = () => 503;
  const traces = ['r1', 'r2', 'r3'].map((trace_id) => aTrace({ trace_id }));
  expect((await call(first, 'POST', '/traces', { traces })).status).toBe(201);
  // No job was run by hand: the ingest woke the server's delivery loop.
  await receiver.waitForRequests(3);
  await stop(first); // waits for the drain in progress to record its outcome

  receiver.answer = () => 200;
  clock.advance(HOUR);
  const second = await start();
  await receiver.waitForRequests(6);
  expect([...receiver.events.values()].map((e) => e.id).sort()).toEqual(['r1', 'r2', 'r3']);
  await eventually(async () => {
    const res = await call(second, 'GET', '/notification-deliveries?status=delivered');
    return (await res.json()).deliveries.length === 3;
  });
  const pending = await call(second, 'GET', '/notification-deliveries?status=pending');
  expect((await pending.json()).deliveries).toEqual([]);
  await stop(second);
});
