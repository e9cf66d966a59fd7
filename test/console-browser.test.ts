/**
 * The console in a real browser (Debian's chromium through playwright-core) against the real Node
 * server: sign in, filter, page, view, export, trackers, and a stored XSS payload that must stay text.
 * Screenshots of the Trace List and Tracker List at 1280 px and 390 px go to
 * `test-artifacts/screenshots/` (git-ignored) for a human to look at.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse } from 'csv-parse/sync';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../src/domain/projects/projects';
import { listTrackers } from '../src/domain/trackers';
import { type RunningServer, startNodeServer } from '../src/runtime/node';
import { aTrace, silentLogger } from './helpers/app';
import { launchChromium } from './helpers/browser';

const SCREENSHOTS = resolve('test-artifacts/screenshots');
const PROJECT = 'e2e0c0115e0000000000000000000001';
const ADMIN_TOKEN = 'cts_e2e-admin-token-0123456789abcdef';
const XSS = '<script>alert("xss")</script><img src=x onerror=alert(2)>';

let server: RunningServer;
let browser: Browser;
let dataDir: string;
const dialogs: string[] = [];

async function report(traces: unknown[]) {
  const reporter = await createApiKey(server.deps, { projectId: PROJECT, role: 'reporter' });
  const res = await fetch(`${server.url}/v3/${PROJECT}/traces`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'X-Auth-Token': reporter.token },
    body: JSON.stringify({ traces }),
  });
  expect(res.status).toBe(201);
}

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'cts-e2e-'));
  mkdirSync(SCREENSHOTS, { recursive: true });
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
  const at = (minutesAgo: number) => now - minutesAgo * 60_000;
  await report([
    ...Array.from({ length: 24 }, (_, i) =>
      aTrace({
        trace_id: `ecs-alice-${String(i).padStart(2, '0')}`,
        time: at(2 + i),
        resource_id: `srv-${i}`,
      }),
    ),
    ...Array.from({ length: 6 }, (_, i) =>
      aTrace({ trace_id: `ecs-bob-${i}`, time: at(3 + i), user: { name: 'bob' }, trace_rating: 'warning' }),
    ),
    ...Array.from({ length: 5 }, (_, i) =>
      aTrace({
        trace_id: `evs-alice-${i}`,
        time: at(4 + i),
        service_type: 'EVS',
        resource_type: 'evs',
        trace_name: 'createVolume',
      }),
    ),
    aTrace({
      trace_id: 'ecs-alice-formula',
      time: at(40),
      resource_name: '=HYPERLINK("http://evil.example","x")',
    }),
    aTrace({
      trace_id: 'xss',
      time: at(1),
      service_type: 'IAM',
      resource_type: 'user',
      resource_name: XSS,
      user: { name: XSS },
      request: { html: XSS },
    }),
  ]);
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

async function newPage(width: number, height: number): Promise<Page> {
  const context = await browser.newContext({ viewport: { width, height }, acceptDownloads: true });
  const page = await context.newPage();
  page.on('dialog', (dialog) => {
    dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  return page;
}

async function signIn(page: Page, key: string) {
  await page.goto(`${server.url}/console`);
  expect(new URL(page.url()).pathname).toBe('/console/sign-in');
  await page.getByLabel('API key').fill(key);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(/\/console\/traces/);
}

const rowIds = (page: Page) =>
  page
    .locator('table.traces a', { hasText: 'View Trace' })
    .evaluateAll((links) =>
      links.map((a) =>
        decodeURIComponent(new URL((a as HTMLAnchorElement).href).pathname.split('/').pop() ?? ''),
      ),
    );

/** Whether the page is wider than the viewport (a layout that does not fit a phone). */
const overflows = (page: Page) =>
  page.evaluate(() => document.documentElement.scrollWidth > document.documentElement.clientWidth);

describe('console in a real browser', () => {
  it('signs in, filters, pages, views a trace, exports CSV and keeps a stored XSS payload as text', async () => {
    const page = await newPage(1280, 900);
    await signIn(page, ADMIN_TOKEN);
    await expect.poll(() => rowIds(page), { timeout: 5000 }).toContain('xss');
    // The stored payload is shown as text, and nothing ran.
    expect(
      await page.locator('table.traces tr', { hasText: 'IAM' }).locator('td.c-rname').textContent(),
    ).toBe(XSS);
    expect(await page.locator('main script, main img').count()).toBe(0);

    // Filter by service and operator (a GET form: the filters land in the URL).
    await page.getByLabel('Trace source').fill('ECS');
    await page.getByLabel('Operator').fill('alice');
    await page.getByText('More filters').click();
    await page.getByLabel('Rows per page').selectOption('10');
    await page.getByRole('button', { name: 'Query' }).click();
    await page.waitForURL(/service_type=ECS/);
    const url = new URL(page.url());
    expect(url.searchParams.get('user')).toBe('alice');
    const first = await rowIds(page);
    expect(first).toEqual(Array.from({ length: 10 }, (_, i) => `ecs-alice-${String(i).padStart(2, '0')}`));

    // Forward through the keyset markers, back with Previous and with the browser's back button.
    await page.getByRole('link', { name: 'Next ›' }).click();
    await page.waitForURL(/m=ecs-alice-09/);
    const second = await rowIds(page);
    expect(second[0]).toBe('ecs-alice-10');
    await page.getByRole('link', { name: 'Next ›' }).click();
    await page.waitForURL(/m=ecs-alice-19/);
    const third = ['ecs-alice-20', 'ecs-alice-21', 'ecs-alice-22', 'ecs-alice-23', 'ecs-alice-formula'];
    expect(await rowIds(page)).toEqual(third);
    expect(await page.locator('.pager .disabled', { hasText: 'Next' }).isVisible()).toBe(true);
    await page.getByRole('link', { name: '‹ Previous' }).click();
    expect(await rowIds(page)).toEqual(second);
    await page.goBack();
    expect(await rowIds(page)).toEqual(third);
    await page.goBack();
    await page.goBack();
    expect(await rowIds(page)).toEqual(first);

    // Expand a row (no script: <details>), then View Trace.
    const row = page.locator('table.traces tbody tr').first();
    await row.locator('summary').click();
    expect(await row.locator('dl.fields').isVisible()).toBe(true);
    expect(await row.locator('dl.fields').textContent()).toContain('198.51.100.7');
    await row.getByRole('link', { name: 'View Trace' }).click();
    await page.waitForURL(/\/console\/traces\/ecs-alice-00/);
    const shown = JSON.parse((await page.locator('pre.json').textContent()) ?? '');
    expect(shown).toMatchObject({ trace_id: 'ecs-alice-00', service_type: 'ECS', user: { name: 'alice' } });
    await page.getByRole('link', { name: '‹ Back to Trace List' }).click();
    await page.waitForURL(/service_type=ECS/);

    // Export the current result (all 25 rows, not just the page), formulas neutralised.
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Export CSV' }).click(),
    ]);
    const rows = parse(readFileSync((await download.path()) as string), {
      bom: true,
      columns: true,
    }) as Array<Record<string, string>>;
    expect(rows).toHaveLength(25);
    expect(new Set(rows.map((r) => r.service_type))).toEqual(new Set(['ECS']));
    expect(rows.find((r) => r.trace_id === 'ecs-alice-formula')?.resource_name).toBe(
      `'=HYPERLINK("http://evil.example","x")`,
    );

    // The XSS trace's own page: payload as text in the JSON, no dialog.
    await page.goto(`${server.url}/console/traces/xss`);
    expect(await page.locator('pre.json').textContent()).toContain(XSS.replaceAll('"', '\\"'));
    expect(await page.locator('main script, main img').count()).toBe(0);
    expect(dialogs).toEqual([]);
    await page.context().close();
  });

  it('configures, disables and enables the tracker', async () => {
    const page = await newPage(1280, 900);
    await signIn(page, ADMIN_TOKEN);
    await page.getByRole('link', { name: 'Tracker List' }).click();
    await page.getByRole('link', { name: 'Configure' }).click();
    await page.getByLabel('Transfer traces to a bucket').check();
    await page.getByLabel('Bucket name').fill('e2e-archive');
    await page.getByLabel('Create this bucket').check();
    await page.getByLabel('File prefix').fill('acme');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.waitForURL(/done=configured/);
    expect(await page.locator('.notice').textContent()).toContain('Tracker system saved.');
    expect(await page.locator('table.list').textContent()).toContain('e2e-archive');
    expect(await page.locator('table.list').textContent()).toContain('Prefix: acme');

    await page.getByRole('link', { name: 'Disable' }).click();
    await page.waitForURL(/status\?to=disabled/);
    expect(await page.locator('h1').textContent()).toBe('Disable tracker system');
    await page.getByRole('button', { name: 'Disable' }).click();
    await page.waitForURL(/done=disabled/);
    expect(await page.locator('.notice').textContent()).toContain('Tracker system disabled');
    expect(await page.locator('table.list .badge').textContent()).toBe('disabled');
    expect((await listTrackers(server.deps, PROJECT))[0]?.status).toBe('disabled');

    await page.getByRole('link', { name: 'Enable' }).click();
    await page.waitForURL(/status\?to=enabled/);
    await page.getByRole('button', { name: 'Enable' }).click();
    await page.waitForURL(/done=enabled/);
    expect(await page.locator('table.list .badge').textContent()).toBe('enabled');
    expect((await listTrackers(server.deps, PROJECT))[0]).toMatchObject({
      status: 'enabled',
      obs_info: { bucket_name: 'e2e-archive', file_prefix_name: 'acme' },
    });
    expect(dialogs).toEqual([]);
    await page.context().close();
  });

  it('fits a 390 px phone screen', async () => {
    const page = await newPage(390, 844);
    await signIn(page, ADMIN_TOKEN);
    await page.goto(`${server.url}/console/traces?limit=10`);
    expect(await rowIds(page)).toContain('xss');
    await page.screenshot({ path: join(SCREENSHOTS, 'trace-list-xss-390.png'), fullPage: true });
    expect(await overflows(page)).toBe(false);
    await page.getByRole('link', { name: 'Tracker List' }).click();
    await page.waitForURL(/\/console\/trackers$/);
    expect(await overflows(page)).toBe(false);
    await page.context().close();
  });
});
