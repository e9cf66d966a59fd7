/**
 * The Key Event Notifications page in headless Chromium against the real single-process server:
 * create a rule through the form (no script: the CSP allows none), see a matching trace delivered
 * to a real receiver by the server's own delivery loop, then disable and delete it — at desktop
 * and phone widths.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type RunningServer, startNodeServer } from '../src/runtime/node';
import { aTrace, silentLogger } from './helpers/app';
import { launchChromium } from './helpers/browser';
import { signatureIsValid, startWebhookReceiver, type WebhookReceiver } from './helpers/webhook-receiver';

const SCREENSHOTS = resolve('test-artifacts/screenshots');
const PROJECT = 'e2e0c0115e00000000000000000000b7';
const ADMIN_TOKEN = 'cts_e2e-ken-admin-token-0123456789abcdef';

let server: RunningServer;
let receiver: WebhookReceiver;
let browser: Browser;
let dataDir: string;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'cts-e2e-ken-'));
  mkdirSync(SCREENSHOTS, { recursive: true });
  receiver = await startWebhookReceiver();
  server = await startNodeServer(
    {
      PORT: '0',
      HOST: '127.0.0.1',
      CTS_DATA_DIR: dataDir,
      CTS_ADMIN_TOKEN: ADMIN_TOKEN,
      CTS_PROJECT_ID: PROJECT,
    },
    { logger: silentLogger },
  );
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await receiver?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

async function signedIn(width: number, height: number): Promise<Page> {
  const page = await (await browser.newContext({ viewport: { width, height } })).newPage();
  await page.goto(`${server.url}/console`);
  await page.getByLabel('API key').fill(ADMIN_TOKEN);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(/\/console\/traces/);
  return page;
}

const overflows = (page: Page) =>
  page.evaluate(() => document.documentElement.scrollWidth > document.documentElement.clientWidth);

it('creates a rule in the browser, shows its delivery, then disables and deletes it', async () => {
  const page = await signedIn(1280, 900);
  await page.getByRole('link', { name: 'Key Event Notifications' }).click();
  await page.getByRole('link', { name: 'Create Key Event Notification' }).click();
  await page.getByLabel('Name', { exact: true }).fill('server_deletes');
  await page.getByLabel(/^Operations/).fill('ECS ecs deleteServer\nEVS evs deleteVolume');
  await page.getByLabel(/^Users/).fill('ops: alice');
  await page.getByLabel('Advanced filter').check();
  await page.getByLabel(/^Filter conditions/).fill('code = 200');
  await page.getByLabel(/^Topic/).fill(receiver.url);
  await page.getByRole('button', { name: 'Create' }).click();
  await page.getByText('shown only this once').waitFor();
  const secret = (await page.locator('code.secret').textContent()) ?? '';
  expect(secret).toMatch(/^ctsn_[0-9a-f]{64}$/);
  await page.screenshot({ path: join(SCREENSHOTS, 'notification-created-1280.png'), fullPage: true });

  const res = await fetch(`${server.url}/v3/${PROJECT}/traces`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'X-Auth-Token': ADMIN_TOKEN },
    body: JSON.stringify({
      traces: [aTrace({ trace_id: 'b1', trace_name: 'deleteServer', time: Date.now() })],
    }),
  });
  expect(res.status).toBe(201);
  await receiver.waitForRequests(1);
  expect(signatureIsValid(secret, receiver.requests[0]!)).toBe(true);

  await page.getByRole('link', { name: 'Back to Key Event Notifications' }).click();
  // The loop records the outcome right after the POST returns; reload until the page shows it.
  const row = page.locator('tr', { hasText: 'server_deletes' });
  while (!(await row.locator('.badge', { hasText: 'delivered' }).count())) await page.reload();
  expect(await row.getByText('2 operations of ECS, EVS').count()).toBe(1);
  await page.screenshot({ path: join(SCREENSHOTS, 'notifications-1280.png'), fullPage: true });

  const phone = await signedIn(390, 844);
  await phone.goto(`${server.url}/console/notifications`);
  await phone.locator('tr', { hasText: 'server_deletes' }).getByText('View').click();
  expect(await overflows(phone)).toBe(false);
  await phone.screenshot({ path: join(SCREENSHOTS, 'notifications-390.png'), fullPage: true });
  await phone.getByRole('link', { name: 'Modify' }).click();
  expect(await overflows(phone)).toBe(false);
  await phone.screenshot({ path: join(SCREENSHOTS, 'notification-form-390.png'), fullPage: true });

  await row.getByRole('link', { name: 'Disable' }).click();
  await page.getByRole('button', { name: 'Disable' }).click();
  await page.getByText('Notification server_deletes disabled').waitFor();
  expect(await row.locator('.badge', { hasText: 'disabled' }).count()).toBe(1);

  await row.getByRole('link', { name: 'Delete' }).click();
  await page.getByRole('button', { name: 'Delete' }).click();
  await page.getByText('Notification server_deletes deleted').waitFor();
  expect(await page.getByText('No key event notification yet').count()).toBe(1);
});
