import { parse } from 'csv-parse/sync';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { traceHistogram } from '../src/domain/traces/histogram';
import { recordTraces } from '../src/domain/traces/record';
import type { ReportedTrace } from '../src/domain/traces/schema';
import { refreshHourCounts } from '../src/store/trace-histogram';
import { aTrace, makeTestEnv, type TestEnv } from './helpers/app';
import { type ConsoleClient, signIn } from './helpers/console';

let env: TestEnv;
beforeEach(async () => {
  env = await makeTestEnv();
});
afterEach(() => env.close());

const minute = 60_000;

/**
 * Stores traces straight through the domain, without the API's validation: the console must
 * cope with whatever is in the database (e.g. control characters the API would refuse today).
 */
async function store(...overrides: Array<Record<string, unknown>>) {
  const traces = overrides.map((o) => ({ tracker_name: 'system', ...aTrace(o) }) as ReportedTrace);
  await recordTraces(env.deps, env.projectId, traces);
}

describe('Trace List', () => {
  it('shows the last hour newest first, with a clear empty state', async () => {
    // Signed in more than an hour ago: the sign-in's own record (issue 13) is not in the last hour.
    env.clock.advance(-61 * minute);
    const reader = await signIn(env, env.keys.reader);
    env.clock.advance(61 * minute);
    const empty = await (await reader.get('/console/traces')).text();
    expect(empty).toContain('No traces in the last 1 hour — widen the range.');
    expect(empty).toContain('href="/console/traces?range=7d"');

    const now = env.clock();
    await store(
      { trace_id: 'old', time: now - 2 * 60 * minute },
      { trace_id: 'newer', time: now - 5 * minute, trace_name: 'deleteServer' },
      { trace_id: 'older', time: now - 30 * minute },
    );
    const html = await (await reader.get('/console/traces')).text();
    const shown = [...html.matchAll(/href="\/console\/traces\/([^"?]+)/g)].map((m) => m[1]);
    expect(shown).toEqual(['newer', 'older']);
    expect(html).toContain('<table class="traces">');
    expect(html).not.toContain('No traces');
    const week = await (await reader.get('/console/traces?range=7d')).text();
    const weekIds = [...week.matchAll(/href="\/console\/traces\/([^"?]+)/g)].map((m) => m[1]);
    expect(weekIds).toEqual(['newer', 'older', expect.any(String), 'old']); // the sign-in, 61 min ago
    expect(week).toContain('login');
  });

  it('filters by service, operator, status, search field and trace id, and keeps them in the links', async () => {
    const now = env.clock();
    await store(
      { trace_id: 'a', time: now - minute, service_type: 'ECS', user: { name: 'alice' } },
      {
        trace_id: 'b',
        time: now - 2 * minute,
        service_type: 'EVS',
        user: { name: 'alice' },
        resource_type: 'evs',
      },
      {
        trace_id: 'c',
        time: now - 3 * minute,
        service_type: 'ECS',
        user: { name: 'bob' },
        trace_rating: 'warning',
      },
      {
        trace_id: 'd',
        time: now - 4 * minute,
        resource_name: 'db-1',
        resource_id: 'r-9',
        user: { name: 'carol' },
      },
    );
    const client = await signIn(env, env.keys.reader);
    const ids = async (query: string) => {
      const html = await (await client.get(`/console/traces?${query}`)).text();
      return [...html.matchAll(/href="\/console\/traces\/([^"?]+)/g)].map((m) => m[1]);
    };
    expect(await ids('service_type=ECS&user=alice')).toEqual(['a']);
    expect(await ids('service_type=ECS')).toEqual(['a', 'c', 'd']);
    expect(await ids('trace_rating=warning')).toEqual(['c']);
    expect(await ids('resource_type=evs')).toEqual(['b']);
    expect(await ids('search_by=resource_name&search=db-1')).toEqual(['d']);
    expect(await ids('search_by=resource_id&search=r-9')).toEqual(['d']);
    expect(await ids('search_by=trace_name&search=createServer&user=bob')).toEqual(['c']);
    // trace_id overrides every other criterion, as in the API.
    expect(await ids('trace_id=b&service_type=ECS')).toEqual(['b']);

    const html = await (await client.get('/console/traces?service_type=ECS&user=alice&range=1d')).text();
    expect(html).toContain('name="service_type" value="ECS"');
    expect(html).toContain('name="user" value="alice"');
    expect(html).toContain('<option value="1d" selected="">');
    // View Trace links back to the same filters.
    expect(html).toContain(
      `href="/console/traces/a?back=${encodeURIComponent('service_type=ECS&user=alice&range=1d')}"`,
    );
    // The export form carries the filters (not the page markers).
    expect(html).toMatch(/<input type="hidden" name="service_type" value="ECS"\/>/);
  });

  it('filters by source IP, several operators, code, request ID, tracker and trace type, combined', async () => {
    const now = env.clock();
    await store(
      { trace_id: 'a', time: now - minute, source_ip: '203.0.113.9', user: { name: 'alice' }, code: '403' },
      {
        trace_id: 'b',
        time: now - 2 * minute,
        source_ip: '203.0.113.9',
        user: { name: 'bob' },
        request_id: 'rq-1',
      },
      { trace_id: 'c', time: now - 3 * minute, source_ip: '198.51.100.7', user: { name: 'carol' } },
      { trace_id: 'd', time: now - 4 * minute, user: { name: 'bob' }, tracker_name: 'data-1' },
    );
    // Signed in two hours ago: the sign-in's own record (issue 13) stays out of the last hour.
    env.clock.advance(-120 * minute);
    const client = await signIn(env, env.keys.reader);
    env.clock.advance(120 * minute);
    const ids = async (query: string) => {
      const res = await client.get(`/console/traces?${query}`);
      expect(res.status).toBe(200);
      return [...(await res.text()).matchAll(/href="\/console\/traces\/([^"?]+)/g)].map((m) => m[1]);
    };
    expect(await ids('source_ip=203.0.113.9')).toEqual(['a', 'b']);
    expect(await ids('user=alice,%20carol')).toEqual(['a', 'c']);
    expect(await ids('user=bob&source_ip=203.0.113.9')).toEqual(['b']);
    expect(await ids('code=403')).toEqual(['a']);
    expect(await ids('request_id=rq-1')).toEqual(['b']);
    expect(await ids('tracker_name=data-1')).toEqual(['d']);
    // (The sign-in itself is a trace of tracker system since issue 13: only the stored ones are compared.)
    const stored = (list: Array<string | undefined>) =>
      list.filter((id) => ['a', 'b', 'c', 'd'].includes(id!));
    expect(stored(await ids('trace_type=system'))).toEqual(['a', 'b', 'c']);
    expect(await ids('user=bob&trace_type=system')).toEqual(['b']);

    // Source IP is a column, and operator, IP and resource ID link to everything they did.
    const html = await (await client.get('/console/traces?range=1d')).text();
    expect(html).toContain('<th scope="col" class="c-ip">Source IP</th>');
    expect(html).toContain('href="/console/traces?source_ip=203.0.113.9&amp;range=1d"');
    expect(html).toContain('href="/console/traces?user=bob&amp;range=1d"');
    expect(await ids('user=a,b,c,d,e,f,g,h,i,j')).toEqual([]);
    const tooMany = await client.get('/console/traces?user=a,b,c,d,e,f,g,h,i,j,k');
    expect(tooMany.status).toBe(400);
    expect(await tooMany.text()).toContain('Invalid filter user: at most 10 operators');
  });

  it('keeps only the set fields in the URL: a submitted form is redirected without its empty fields', async () => {
    const client = await signIn(env, env.keys.reader);
    const form =
      'service_type=ECS&resource_type=&search_by=resource_id&match=exact&search=&user=+alice+,bob&trace_rating=&range=1h&source_ip=&code=&request_id=&tracker_name=&trace_type=&trace_id=&from=&to=&limit=20';
    const res = await client.get(`/console/traces?${form}`);
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/console/traces?service_type=ECS&user=alice%2Cbob');
    // Already canonical, or not parseable: no redirect (a bad value is shown in the page).
    expect((await client.get('/console/traces?service_type=ECS&user=alice%2Cbob')).status).toBe(200);
    expect((await client.get('/console/traces?trace_rating=fatal&code=')).status).toBe(400);
  });

  it('says what an exact search looked for and offers a prefix search for resource IDs and names', async () => {
    const now = env.clock();
    await store(
      { trace_id: 'p1', time: now - minute, resource_id: 'srv-prod-db-01' },
      { trace_id: 'p2', time: now - 2 * minute, resource_id: 'srv-prod-db-02' },
      { trace_id: 'p3', time: now - 3 * minute, resource_id: 'srv-test-db-01' },
    );
    const client = await signIn(env, env.keys.reader);
    const empty = await (await client.get('/console/traces?search_by=resource_id&search=srv-prod')).text();
    expect(empty).toContain('No traces in the last 1 hour where Resource ID is exactly “srv-prod”.');
    expect(empty).toContain('Search is exact and case-sensitive.');
    const prefixHref = '/console/traces?search_by=resource_id&amp;search=srv-prod&amp;match=prefix';
    expect(empty).toContain(`href="${prefixHref}"`);
    const found = await (await client.get(prefixHref.replaceAll('&amp;', '&'))).text();
    expect([...found.matchAll(/href="\/console\/traces\/([^"?]+)/g)].map((m) => m[1])).toEqual(['p1', 'p2']);
    // Trace names are exact only: the hint says so and offers no prefix link.
    const names = await (await client.get('/console/traces?search_by=trace_name&search=create')).text();
    expect(names).toContain('Only resource IDs and names can be searched by prefix.');
    expect(names).not.toContain('match=prefix');
    // A prefix asked for a field that has none is read as exact (and dropped from the URL).
    const ignored = await client.get('/console/traces?search_by=trace_name&search=create&match=prefix');
    expect(ignored.headers.get('location')).toBe('/console/traces?search_by=trace_name&search=create');
  });

  it('pages forward with the keyset markers and back through the marker stack', async () => {
    const now = env.clock();
    await store(
      ...Array.from({ length: 25 }, (_, i) => ({
        trace_id: `t${String(i).padStart(2, '0')}`,
        time: now - (i + 1) * 1000,
      })),
    );
    const client = await signIn(env, env.keys.reader);
    const read = async (path: string) => {
      const html = await (await client.get(path)).text();
      const ids = [...html.matchAll(/href="\/console\/traces\/([^"?]+)/g)].map((m) => m[1]);
      const link = (rel: string) =>
        html.match(new RegExp(`rel="${rel}" href="([^"]+)"`))?.[1]?.replaceAll('&amp;', '&');
      return { ids, next: link('next'), prev: link('prev'), html };
    };
    const first = await read('/console/traces?limit=10&user=alice');
    expect(first.ids).toEqual(Array.from({ length: 10 }, (_, i) => `t${String(i).padStart(2, '0')}`));
    expect(first.prev).toBeUndefined();
    expect(first.next).toBe('/console/traces?user=alice&limit=10&m=t09');
    const second = await read(first.next!);
    expect(second.ids[0]).toBe('t10');
    expect(second.prev).toBe('/console/traces?user=alice&limit=10');
    expect(second.next).toBe('/console/traces?user=alice&limit=10&m=t09&m=t19');
    const third = await read(second.next!);
    expect(third.ids).toEqual(['t20', 't21', 't22', 't23', 't24']);
    expect(third.next).toBeUndefined();
    expect(third.prev).toBe('/console/traces?user=alice&limit=10&m=t09');
    expect((await read(third.prev!)).ids).toEqual(second.ids);
    expect(third.html).toContain('Page 3');
  });

  it('shows a bad filter or a stale marker as a message in the page, not an error', async () => {
    const client = await signIn(env, env.keys.reader);
    const inverted = await client.get(
      '/console/traces?range=custom&from=2026-11-24T11:00&to=2026-11-24T10:00',
    );
    expect(inverted.status).toBe(400);
    expect(await inverted.text()).toContain('Invalid from: must not be later than to');
    const stale = await client.get('/console/traces?m=gone');
    expect(stale.status).toBe(400);
    expect(await stale.text()).toContain('names no trace of this project');
    const badId = await client.get('/console/traces?trace_id=%3Cx%3E');
    expect(badId.status).toBe(400);
    const text = await badId.text();
    expect(text).toContain('Invalid filter trace_id');
    expect(text).toContain('name="trace_id" value="&lt;x&gt;"');
  });

  it('reads a custom range as UTC and says so', async () => {
    await store({ trace_id: 'x', time: Date.UTC(2026, 10, 24, 9, 15) });
    const client = await signIn(env, env.keys.reader);
    const html = await (
      await client.get('/console/traces?range=custom&from=2026-11-24T09:00&to=2026-11-24T09:30')
    ).text();
    expect(html).toContain('2026-11-24 09:00:00 – 2026-11-24 09:30:00 UTC');
    expect(html).toContain('href="/console/traces/x?');
  });
});

describe('View Trace and escaping', () => {
  const payload = '<script>alert("xss")</script>';

  it('renders a stored script payload as text on the list and the trace page', async () => {
    await store({
      trace_id: 'evil',
      time: env.clock() - minute,
      resource_name: payload,
      resource_id: `"><img src=x onerror=alert(1)>`,
      user: { name: payload, domain: { name: payload } },
      request: { body: payload },
      location_info: payload,
    });
    const client = await signIn(env, env.keys.reader);
    const list = await (await client.get('/console/traces')).text();
    const view = await (await client.get('/console/traces/evil')).text();
    for (const page of [list, view]) {
      // The console's own script (from 'self', in the head) is the only one.
      const html = page.replace(
        /<script src="\/console\/assets\/console\.js\?v=[0-9a-f]+" defer=""><\/script>/,
        '',
      );
      expect(html).not.toBe(page);
      expect(html).not.toContain('<script');
      expect(html).not.toContain('<img');
      expect(html).toContain('&lt;script&gt;');
    }
    expect(list).toContain('&lt;script&gt;alert(&quot;xss&quot;)&lt;/script&gt;');
  });

  it('shows the full trace as formatted JSON, and a clear page for an unknown id', async () => {
    await store({ trace_id: 'one', time: env.clock() - minute });
    const client = await signIn(env, env.keys.reader);
    const res = await client.get('/console/traces/one?back=user%3Dalice%26range%3D1d');
    expect(res.status).toBe(200);
    const html = await res.text();
    const json = (html.match(/<pre class="json"[^>]*>([\s\S]*?)<\/pre>/)?.[1] ?? '').replace(/<\/?bdi>/g, '');
    const trace = JSON.parse(json.replaceAll('&quot;', '"').replaceAll('&amp;', '&'));
    expect(Object.keys(trace)).toHaveLength(21);
    // The API returns request as the JSON text that was reported (ADR 0004); the page shows it
    // parsed, and says so. The downloaded file is the API's shape.
    expect(trace).toMatchObject({ trace_id: 'one', request: { server: { name: 'web-1' } }, code: '200' });
    expect(html).toContain('The API returns request, response as JSON text; shown here parsed.');
    const file = JSON.parse(await (await client.get('/console/traces/one/json')).text());
    expect(file.request).toBe('{"server":{"name":"web-1"}}');
    expect(json).toContain('\n  &quot;trace_id&quot;: &quot;one&quot;,\n');
    expect(html).toContain('<bdi>trace_id</bdi>&quot;: &quot;<bdi>one</bdi>&quot;');
    expect(html).toContain('href="/console/traces?user=alice&amp;range=1d"');
    const missing = await client.get('/console/traces/nope');
    expect(missing.status).toBe(404);
    expect(await missing.text()).toContain('There is no trace with ID nope');
  });
});

describe('histogram', () => {
  it('counts the matching traces of the window per bucket and rating, with bars that narrow the range', async () => {
    const now = env.clock();
    const base = Math.floor(now / 60_000) * 60_000;
    await store(
      { trace_id: 'h1', time: base - 10 * minute + 5_000 },
      { trace_id: 'h2', time: base - 10 * minute + 9_000, trace_rating: 'warning' },
      { trace_id: 'h3', time: base - 10 * minute + 30_000, trace_rating: 'incident' },
      { trace_id: 'h4', time: base - 30 * minute + 1_000 },
      { trace_id: 'h5', time: base - 30 * minute + 2_000, service_type: 'EVS' },
      { trace_id: 'h6', time: base - 2 * 60 * minute },
    );
    const client = await signIn(env, env.keys.reader);
    const html = await (await client.get('/console/traces?service_type=ECS')).text();
    expect(html).toContain('Traces per 1 min: 2 normal, 1 warning, 1 incident.');
    const bars = [...html.matchAll(/<a href="([^"]+)" aria-label="([^"]+)"/g)].map((m) => ({
      href: m[1]!.replaceAll('&amp;', '&'),
      label: m[2]!,
    }));
    expect(bars).toHaveLength(2);
    const at = (ms: number) => new Date(ms).toISOString().replace('T', ' ').slice(0, 19);
    const start = base - 10 * minute;
    expect(bars[1]!.label).toBe(`${at(start)} to ${at(start + minute)} UTC: 1 normal, 1 warning, 1 incident`);
    expect(bars[0]!.label).toBe(
      `${at(base - 30 * minute)} to ${at(base - 29 * minute)} UTC: 1 normal, 0 warning, 0 incident`,
    );
    const from = encodeURIComponent(new Date(start).toISOString().slice(0, 16));
    const to = encodeURIComponent(new Date(start + minute).toISOString().slice(0, 16));
    expect(bars[1]!.href).toBe(`/console/traces?service_type=ECS&range=custom&from=${from}&to=${to}`);
    const narrowed = await (await client.get(bars[1]!.href)).text();
    expect([...narrowed.matchAll(/href="\/console\/traces\/([^"?]+)/g)].map((m) => m[1])).toEqual([
      'h3',
      'h2',
      'h1',
    ]);
    // No chart for an empty result, nor for a trace ID.
    expect(await (await client.get('/console/traces?service_type=DNS')).text()).not.toContain('class="chart');
    expect(await (await client.get('/console/traces?trace_id=h1')).text()).not.toContain('class="chart');
  });

  it('counts only the newest traces up to its cap, and says from when', async () => {
    const now = env.clock();
    await store(
      ...Array.from({ length: 6 }, (_, i) => ({ trace_id: `c${i}`, time: now - (i + 1) * 5 * minute })),
    );
    const caps = { rows: 4, perRating: 5 };
    const histogram = await traceHistogram(env.deps, env.projectId, { limit: 10, users: ['alice'] }, caps);
    expect(histogram.countedFrom).toBe(now - 20 * minute);
    expect(histogram.totals).toEqual({ normal: 4, warning: 0, incident: 0 });
    // Unfiltered, each rating is counted in the rating index, up to its own cap.
    const byRating = await traceHistogram(env.deps, env.projectId, { limit: 10 }, caps);
    expect(byRating.countedFrom).toBe(now - 25 * minute);
    expect(byRating.totals).toEqual({ normal: 5, warning: 0, incident: 0 });
    const under = await traceHistogram(env.deps, env.projectId, { limit: 10, trace_rating: 'normal' });
    expect(under.countedFrom).toBeUndefined();
    expect(under.totals).toEqual({ normal: 6, warning: 0, incident: 0 });
    const all = await traceHistogram(env.deps, env.projectId, {
      limit: 10,
      prefixes: { resource_id: 'srv' },
    });
    expect(all.countedFrom).toBeUndefined();
    expect(all.totals.normal).toBe(6);
    expect(all.width).toBe(minute);
    expect(all.bars.length).toBeGreaterThanOrEqual(60);
  });
});

describe('histogram from hourly counts', () => {
  const hour = 3_600_000;
  const week = async (query: Parameters<typeof traceHistogram>[2]) =>
    traceHistogram(env.deps, env.projectId, query);

  it('draws a wide unfiltered window from hourly counts it keeps up to date, never counting a trace twice', async () => {
    const now = env.clock();
    await store(
      { trace_id: 'w1', time: now - 30 * hour },
      { trace_id: 'w2', time: now - 30 * hour + 1000, trace_rating: 'incident' },
      { trace_id: 'w3', time: now - 2 * hour },
    );
    const first = await week({ limit: 10, from: now - 3 * 24 * hour });
    expect(first.width).toBe(hour);
    expect(first.countedFrom).toBeUndefined();
    expect(first.totals).toEqual({ normal: 2, warning: 0, incident: 1 });
    const bar = first.bars.find((b) => b.start <= now - 30 * hour && now - 30 * hour < b.end)!;
    expect(bar).toMatchObject({ normal: 1, incident: 1 });

    // Traces stored since are added once, even by concurrent refreshes (their own and the page's).
    await store(
      { trace_id: 'w4', time: now - 50 * hour, trace_rating: 'warning' },
      { trace_id: 'w5', time: now - hour },
    );
    await Promise.all([
      refreshHourCounts(env.deps.db, env.projectId, 100),
      refreshHourCounts(env.deps.db, env.projectId, 100),
    ]);
    const second = await week({ limit: 10, from: now - 3 * 24 * hour });
    expect(second.totals).toEqual({ normal: 3, warning: 1, incident: 1 });
    expect((await week({ limit: 10, from: now - 3 * 24 * hour, trace_rating: 'warning' })).totals).toEqual({
      normal: 0,
      warning: 1,
      incident: 0,
    });
    // A batch smaller than what is new catches up over several requests.
    await store(...Array.from({ length: 5 }, (_, i) => ({ trace_id: `b${i}`, time: now - 20 * hour - i })));
    expect(await refreshHourCounts(env.deps.db, env.projectId, 2)).toBe(false);
    expect((await week({ limit: 10, from: now - 3 * 24 * hour })).totals.normal).toBe(8);
    // Filtered, the window is counted over the indexes instead.
    const filtered = await week({ limit: 10, from: now - 3 * 24 * hour, users: ['alice'] });
    expect(filtered.width).toBe(hour);
    expect(filtered.totals).toEqual({ normal: 8, warning: 1, incident: 1 });
  });
});

describe('View Trace: times, download, JSON text, time zone', () => {
  it('shows human times next to epoch ms, and downloads the trace as a JSON file', async () => {
    const time = Date.UTC(2026, 10, 24, 11, 59, 30);
    await store({ trace_id: 'one', time, resource_name: 'a\u202Egnp.exe' });
    const client = await signIn(env, env.keys.reader);
    const html = await (await client.get('/console/traces/one')).text();
    expect(html).toContain(`2026-11-24 11:59:30</time> UTC <span class="mono sub-inline">(${time})</span>`);
    expect(html).toContain('<bdi>a\u202Egnp.exe</bdi>');
    expect(html).toContain('href="/console/traces/one/json" download=""');
    const file = await client.get('/console/traces/one/json');
    expect(file.status).toBe(200);
    expect(file.headers.get('content-disposition')).toBe('attachment; filename="trace-one.json"');
    expect(JSON.parse(await file.text())).toMatchObject({ trace_id: 'one', time });
    expect((await client.get('/console/traces/nope/json')).status).toBe(404);
  });

  it('pretty-prints request, response and message sent as JSON text', async () => {
    await store({
      trace_id: 'txt',
      time: env.clock() - minute,
      request: '{"server":{"name":"web-2"}}',
      response: 'plain text, not JSON',
    });
    const client = await signIn(env, env.keys.reader);
    const html = await (await client.get('/console/traces/txt')).text();
    expect(html).toContain('The API returns request as JSON text; shown here parsed.');
    const json = (html.match(/<pre class="json"[^>]*>([\s\S]*?)<\/pre>/)?.[1] ?? '').replace(/<\/?bdi>/g, '');
    const shown = JSON.parse(json.replaceAll('&quot;', '"').replaceAll('&amp;', '&'));
    expect(shown.request).toEqual({ server: { name: 'web-2' } });
    expect(shown.response).toBe('plain text, not JSON');
  });

  it('switches to the browser time zone for the session, and back to UTC', async () => {
    const time = Date.UTC(2026, 10, 24, 11, 30, 0);
    await store({ trace_id: 'tz', time });
    const client = await signIn(env, env.keys.reader);
    const res = await client.get('/console/time?show=local&back=%2Fconsole%2Ftraces%2Ftz');
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/console/traces/tz');
    const choice = res.headers.get('set-cookie')?.split(';')[0] ?? '';
    expect(choice).toBe('cts_time=local');
    expect(res.headers.get('set-cookie')).not.toMatch(/expires|max-age/i);
    const withZone = (zone: string) =>
      env.app.request(`http://localhost/console/traces/tz`, {
        headers: { Cookie: `${client.cookie}; ${choice}; cts_tz=${encodeURIComponent(zone)}` },
      });
    const tokyo = await (await withZone('Asia/Tokyo')).text();
    expect(tokyo).toContain('2026-11-24 20:30:00</time> Asia/Tokyo');
    expect(tokyo).toContain('Times in Asia/Tokyo');
    expect(tokyo).toContain('href="/console/time?show=utc&amp;back=%2Fconsole%2Ftraces%2Ftz"');
    // An unknown zone, or none (no script), stays in UTC and says why.
    const unknown = await (await withZone('Mars/Olympus')).text();
    expect(unknown).toContain('2026-11-24 11:30:00</time> UTC');
    const none = await (
      await env.app.request('http://localhost/console/traces/tz', {
        headers: { Cookie: `${client.cookie}; ${choice}` },
      })
    ).text();
    expect(none).toContain('scripts are off');
    // Only console paths are destinations.
    const away = await client.get('/console/time?show=utc&back=https%3A%2F%2Fevil.example');
    expect(away.headers.get('location')).toBe('/console/traces');
  });

  it('serves a favicon and the enhancing script under a CSP that allows only them', async () => {
    const client = await signIn(env, env.keys.reader);
    const page = await client.get('/console/traces');
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("default-src 'none'");
    const html = await page.text();
    expect(html).toContain('<link rel="icon" href="/console/assets/favicon.svg" type="image/svg+xml"/>');
    const icon = await env.app.request('http://localhost/console/assets/favicon.svg');
    expect(icon.status).toBe(200);
    expect(icon.headers.get('content-type')).toBe('image/svg+xml');
    const script = html.match(/<script src="(\/console\/assets\/console\.js\?v=[0-9a-f]+)"/)?.[1];
    const js = await env.app.request(`http://localhost${script}`);
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
  });
});

describe('CSV export', () => {
  const exportCsv = async (client: ConsoleClient, fields: Record<string, string>) => {
    const res = await client.post('/console/traces/export', fields);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(res.headers.get('content-disposition')).toMatch(
      /^attachment; filename="traces-[0-9a-f]{32}-.*Z\.csv"$/,
    );
    const text = await res.text();
    return parse(text, { bom: true, columns: true }) as Array<Record<string, string>>;
  };

  it('exports every field of the current result and neutralises formulas', async () => {
    const now = env.clock();
    await store(
      {
        trace_id: 'f1',
        time: now - minute,
        resource_name: '=HYPERLINK("http://evil","x")',
        user: { name: '+1' },
      },
      {
        trace_id: 'f2',
        time: now - 2 * minute,
        resource_name: '@SUM(A1)',
        resource_id: '-2+3',
        location_info: '\tcmd',
      },
      { trace_id: 'f3', time: now - 3 * minute, resource_name: '\r=1', request_id: 'plain, "quoted"\nline' },
      { trace_id: 'other', time: now - 4 * minute, service_type: 'EVS' },
    );
    const client = await signIn(env, env.keys.reader);
    const rows = await exportCsv(client, { service_type: 'ECS', range: '1h' });
    expect(rows.map((r) => r.trace_id)).toEqual(['f1', 'f2', 'f3']);
    const page = await (await client.get('/console/traces?service_type=ECS')).text();
    expect(page).toContain('Export CSV holds all 3 traces of this result.');
    expect(Object.keys(rows[0]!)).toHaveLength(23);
    expect(rows[0]).toMatchObject({ 'user.name': "'+1", 'user.id': '' });
    expect(rows[1]).toMatchObject({ 'user.name': 'alice', 'user.id': 'u1' });
    expect(rows[0]).toMatchObject({
      resource_name: `'=HYPERLINK("http://evil","x")`,
      service_type: 'ECS',
      time: new Date(now - minute).toISOString(),
      code: '200',
      request: '{"server":{"name":"web-1"}}',
    });
    expect(JSON.parse(rows[0]!.user!)).toMatchObject({ name: '+1' });
    expect(rows[1]).toMatchObject({
      resource_name: "'@SUM(A1)",
      resource_id: "'-2+3",
      location_info: "'\tcmd",
    });
    expect(rows[2]).toMatchObject({ resource_name: "'\r=1", request_id: 'plain, "quoted"\nline' });
    for (const row of rows) {
      for (const value of Object.values(row)) expect(value).not.toMatch(/^[=+\-@\t\r]/);
    }
  });

  it('exports at most 5,000 rows from the first, whatever page is on screen, and records the export', async () => {
    const now = env.clock();
    const batch = Array.from({ length: 5003 }, (_, i) => ({ trace_id: `n${i}`, time: now - 1000 - i }));
    await store(...batch);
    env.clock.advance(-10 * minute); // the sign-in record (issue 13) is older than the batch
    const client = await signIn(env, env.keys.reader);
    env.clock.advance(10 * minute);
    const page = await (await client.get('/console/traces')).text();
    expect(page).toContain('This result has 5,004 traces: Export CSV holds the newest 5,000');
    expect(page).toContain('Accept: application/x-ndjson');
    expect(page).toMatch(new RegExp(`/v3/${env.projectId}/traces\\?from=\\d+&amp;to=\\d+&#39;`));
    const res = await client.post('/console/traces/export', { m: 'n100' });
    expect(res.headers.get('content-disposition')).toMatch(
      /filename="traces-[0-9a-f]{32}-newest-5000-.*Z\.csv"/,
    );
    expect(res.headers.get('x-cts-export')).toBe('rows=5000; truncated=true');
    const rows = parse(await res.text(), { bom: true, columns: true }) as Array<Record<string, string>>;
    expect(rows).toHaveLength(5000);
    expect(rows[0]!.trace_id).toBe('n0');
    expect(rows.at(-1)!.trace_id).toBe('n4999');

    const audit = await env.call('GET', `/v3/${env.projectId}/traces?service_type=CTS&resource_type=trace`);
    const traces = (await audit.json()).traces;
    expect(traces).toHaveLength(1);
    expect(traces[0]).toMatchObject({
      trace_name: 'getTrace',
      service_type: 'CTS',
      resource_type: 'trace',
      trace_rating: 'normal',
      user: { name: 'reader-key' },
      response: '{"rows":5000,"truncated":true}',
    });
  });

  it('shows a bad filter in the Trace List page instead of a file', async () => {
    const client = await signIn(env, env.keys.reader);
    const res = await client.post('/console/traces/export', { trace_rating: 'fatal' });
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('Invalid filter trace_rating');
    const inverted = await client.post('/console/traces/export', {
      range: 'custom',
      from: '2026-11-24T11:00',
      to: '2026-11-24T10:00',
    });
    expect(inverted.status).toBe(400);
    expect(await inverted.text()).toContain('Invalid from: must not be later than to');
  });
});
