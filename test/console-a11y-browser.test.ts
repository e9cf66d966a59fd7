/**
 * Every console page in headless Chromium at 1280 px and 390 px against the real Node server:
 * axe-core (from npm, evaluated in the page) finds no serious or critical violation, nothing is
 * wider than the viewport, and each page is photographed into `test-artifacts/screenshots/`
 * (`<page>-<width>.png`, git-ignored) for a human to look at. Also: the keyboard reaches the
 * Trace List's rows and links with a visible focus ring, and a phone row is compact.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import axe from 'axe-core';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../src/domain/projects/projects';
import { type RunningServer, startNodeServer } from '../src/runtime/node';
import { aTrace, silentLogger } from './helpers/app';
import { launchChromium } from './helpers/browser';
import { startWebhookReceiver, type WebhookReceiver } from './helpers/webhook-receiver';

const SCREENSHOTS = resolve('test-artifacts/screenshots');
const PROJECT = 'e2e0c0115e00000000000000000000a1';
const ADMIN_TOKEN = 'cts_e2e-a11y-admin-token-0123456789abcdef';
/** A right-to-left override inside a value: shown isolated, it cannot reorder the text around it. */
const RTL = 'invoice\u202Egnp.exe';
const LONG_BUCKET = 'acme-audit-archive-eu-de-production-long-bucket-name-0123456789';
const LONG_PREFIX = 'acme-production-audit-trail-with-a-very-long-file-prefix-name-01';

let server: RunningServer;
let browser: Browser;
let receiver: WebhookReceiver;
let dataDir: string;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'cts-e2e-a11y-'));
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
  const now = Date.now();
  const reporter = await createApiKey(server.deps, { projectId: PROJECT, role: 'reporter' });
  const ratings = ['normal', 'normal', 'normal', 'warning', 'normal', 'incident'];
  const traces = Array.from({ length: 40 }, (_, i) =>
    aTrace({
      trace_id: `t-${String(i).padStart(2, '0')}`,
      time: now - (1 + i * 1.4) * 60_000,
      trace_rating: ratings[i % ratings.length],
      trace_name: i % 3 === 0 ? 'deleteServer' : 'createServer',
      resource_id: `c0a8f1e2-7d4b-4e1f-9a3c-${String(100000000000 + i)}`,
      resource_name: i === 0 ? RTL : `srv-prod-db-${String(i).padStart(2, '0')}`,
      user: { id: `u${i % 4}`, name: ['alice', 'bob', 'carol', 'dave'][i % 4], domain: { name: 'acme' } },
      source_ip: `203.0.113.${i % 7}`,
      request: { server: { name: `srv-prod-db-${i}`, flavorRef: 's3.large.2', tags: ['env=prod'] } },
    }),
  );
  const res = await fetch(`${server.url}/v3/${PROJECT}/traces`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'X-Auth-Token': reporter.token },
    body: JSON.stringify({ traces }),
  });
  expect(res.status).toBe(201);
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await receiver?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

async function signedIn(width: number): Promise<Page> {
  const context = await browser.newContext({ viewport: { width, height: width > 600 ? 900 : 844 } });
  const page = await context.newPage();
  await page.goto(`${server.url}/console/sign-in`);
  await page.getByLabel('API key').fill(ADMIN_TOKEN);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(/\/console\/traces/);
  return page;
}

interface Violation {
  id: string;
  impact: string;
  targets: string[];
}

/** axe-core's serious and critical violations on the page as it is now. */
async function axeViolations(page: Page): Promise<Violation[]> {
  // Evaluated through the DevTools protocol, so the console's CSP (no script) does not apply.
  await page.evaluate(axe.source);
  return page.evaluate(async () => {
    const run = (window as unknown as { axe: typeof axe }).axe.run;
    const result = await run(document, { resultTypes: ['violations'] });
    return result.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => ({
        id: v.id,
        impact: v.impact ?? '',
        targets: v.nodes.slice(0, 3).map((n) => String(n.target)),
      }));
  });
}

const overflowWidth = (page: Page) =>
  page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);

/** Checks a page (axe, overflow) and photographs it as `<name>-<width>.png`. */
async function check(page: Page, name: string, width: number) {
  expect({ name, width, violations: await axeViolations(page) }).toEqual({ name, width, violations: [] });
  expect({ name, width, overflow: await overflowWidth(page) }).toEqual({ name, width, overflow: 0 });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}-${width}.png`), fullPage: true });
  // The first screen alone, small enough for the README's console tour (docs/images/).
  await page.screenshot({ path: join(SCREENSHOTS, `tour-${name}-${width}.png`) });
}

describe.each([1280, 390])('every console page at %i px', (width) => {
  // Some 17 pages, each loaded, checked by axe and photographed twice: longer than the default timeout.
  it('has no serious or critical axe-core violation and no horizontal overflow', {
    timeout: 180_000,
  }, async () => {
    const signedOut = await (await browser.newContext({ viewport: { width, height: 844 } })).newPage();
    await signedOut.goto(`${server.url}/console/sign-in`);
    await check(signedOut, 'sign-in', width);
    await signedOut.context().close();

    const page = await signedIn(width);
    const visit = async (path: string, name: string) => {
      const res = await page.goto(`${server.url}${path}`);
      expect(res?.status(), path).toBeLessThan(500);
      await check(page, name, width);
    };
    await visit('/console/traces?range=1d', 'trace-list');
    // An expanded row (every field of the trace, in full).
    await page.locator('table.traces tbody tr').first().locator('summary').click();
    await check(page, 'trace-list-expanded', width);
    await visit('/console/traces?search_by=resource_id&search=srv-prod-db', 'trace-list-empty');
    await visit(
      '/console/traces?user=alice%2Cbob&source_ip=203.0.113.1&range=1d&limit=50',
      'trace-list-filtered',
    );
    await visit('/console/traces/t-00', 'trace-view');
    await visit('/console/trackers', 'tracker-list');
    await visit('/console/trackers/system/configure', 'tracker-configure');
    if (width === 1280) {
      // A long transfer path must wrap on a phone (it used to make the page 480 px wide).
      await page.getByLabel('Transfer traces to a bucket').check();
      await page.getByLabel('Bucket name').fill(LONG_BUCKET);
      await page.getByLabel('Create this bucket').check();
      await page.getByLabel('File prefix').fill(LONG_PREFIX);
      await page.getByRole('button', { name: 'Save' }).click();
      await page.waitForURL(/done=configured/);
    }
    await visit('/console/trackers/system/configure', 'tracker-configure-long-path');
    await visit('/console/trackers/system/status?to=disabled', 'tracker-disable');
    await visit('/console/trackers/system/files', 'tracker-files');
    await visit('/console/notifications', 'notifications-empty');
    await visit('/console/notifications/new', 'notification-form');
    if (width === 1280) {
      await page.getByLabel('Name', { exact: true }).fill('server_deletes');
      await page.getByLabel(/^Operations/).fill('ECS ecs deleteServer');
      await page.getByLabel(/^Topic/).fill(receiver.url);
      await page.getByRole('button', { name: 'Create' }).click();
      await page.getByText('shown only this once').waitFor();
    }
    await visit('/console/notifications', 'notifications');
    await visit('/console/no-such-page', 'not-found');
    await page.context().close();
  });
});

describe('keyboard and phone layout', () => {
  it('reaches the filters, a row and View Trace by keyboard, with a visible focus ring', async () => {
    const page = await signedIn(1280);
    const reached: string[] = [];
    for (let i = 0; i < 60 && !reached.includes('a:View Trace'); i++) {
      await page.keyboard.press('Tab');
      const focused = await page.evaluate(() => {
        const el = document.activeElement as HTMLElement;
        const style = getComputedStyle(el);
        return {
          what: `${el.tagName.toLowerCase()}:${(el.textContent ?? '').trim().slice(0, 20)}`,
          ring: style.outlineStyle !== 'none' && Number.parseFloat(style.outlineWidth) >= 2,
        };
      });
      expect(focused.ring, `focus ring on ${focused.what}`).toBe(true);
      reached.push(focused.what);
      // The chart's bars are links too: its skip link jumps over them to the table.
      if (focused.what === 'a:Skip the chart') await page.keyboard.press('Enter');
    }
    expect(reached).toContain('a:Skip the chart');
    expect(reached).toContain('button:Query');
    expect(reached.some((what) => what.startsWith('summary:'))).toBe(true);
    expect(reached).toContain('a:View Trace');
    // A bar of the chart shows its focus on its hit area.
    await page.locator('.chart svg a').first().focus();
    await page.keyboard.press('Shift+Tab');
    await page.keyboard.press('Tab');
    const stroke = await page.evaluate(() => {
      const hit = document.activeElement?.querySelector('rect.hit');
      return hit ? getComputedStyle(hit).stroke : 'none';
    });
    expect(stroke).not.toBe('none');
    // Enter on a row's summary opens it.
    await page.locator('table.traces summary').first().focus();
    await page.keyboard.press('Enter');
    expect(await page.locator('table.traces details[open] dl.fields').count()).toBe(1);
    await page.context().close();
  });

  it('shows local time in the browser zone, enables Copy with the script, and asks for nothing that is missing', async () => {
    const context = await browser.newContext({
      viewport: { width: 1280, height: 900 },
      timezoneId: 'Asia/Tokyo',
    });
    const page = await context.newPage();
    const missing: string[] = [];
    page.on('response', (res) => {
      if (res.status() >= 400) missing.push(`${res.status()} ${res.url()}`);
    });
    const errors: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(message.text());
    });
    await page.goto(`${server.url}/console/sign-in`);
    await page.getByLabel('API key').fill(ADMIN_TOKEN);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(/\/console\/traces/);
    await page.goto(`${server.url}/console/traces/t-00`);
    expect(await page.getByRole('button', { name: 'Copy JSON' }).isVisible()).toBe(true);
    await page.getByRole('link', { name: 'Show local time' }).click();
    await page.getByText('Times in Asia/Tokyo').waitFor();
    expect(new URL(page.url()).pathname).toBe('/console/traces/t-00');
    // Remembered for the session: the list shows local time too.
    await page.goto(`${server.url}/console/traces`);
    expect(await page.locator('th.c-time').textContent()).toBe('Operation time (Asia/Tokyo)');
    expect(missing).toEqual([]);
    expect(errors).toEqual([]);
    await context.close();
  });

  it('shows compact rows on a phone, and isolates a right-to-left override in a value', async () => {
    const page = await signedIn(390);
    await page.goto(`${server.url}/console/traces?range=1d&limit=20`);
    const heights = await page
      .locator('table.traces tbody tr')
      .evaluateAll((rows) => rows.map((row) => row.getBoundingClientRect().height));
    expect(heights).toHaveLength(20);
    expect(Math.max(...heights)).toBeLessThan(90);
    const cell = page.locator('table.traces tbody tr', { hasText: 'invoice' }).locator('td.c-rname bdi');
    expect(await cell.textContent()).toBe(RTL);
    await page.context().close();
  });
});
