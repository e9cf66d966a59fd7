import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { recordTraces } from '../../src/domain/traces/record';
import { ReportedTraceSchema } from '../../src/domain/traces/schema';
import { aTrace, makeTestEnv, type TestEnv } from '../helpers/app';
import { useBackends } from '../helpers/backends';

const backends = useBackends();
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const long = (n: number) => 'x'.repeat(n);

interface Page {
  traces: Array<Record<string, unknown> & { trace_id: string; time: number }>;
  meta_data: { count: number; marker: string | null };
}

/** Every query parameter rule: [query string, parameter named in details]. */
const BAD_QUERIES: Array<[string, string]> = [
  ['limit=0', 'limit'],
  ['limit=201', 'limit'],
  ['limit=-1', 'limit'],
  ['limit=1.5', 'limit'],
  ['limit=ten', 'limit'],
  ['limit=1e1', 'limit'],
  ['limit=0x10', 'limit'],
  ['limit=', 'limit'],
  ['from=', 'from'],
  ['from=abc', 'from'],
  ['from=-5', 'from'],
  ['from=1e12', 'from'],
  ['from=1.5', 'from'],
  ['to=', 'to'],
  ['to=tomorrow', 'to'],
  ['to=1795519800000.0', 'to'],
  ['from=1795519800000&to=1795519799999', 'from'],
  ['from=1795525200001', 'from'], // after now, with `to` defaulting to now
  ['next=no%20such', 'next'],
  [`next=${long(65)}`, 'next'],
  ['next=unknown-trace', 'next'],
  ['trace_type=data&tracker_name=system', 'tracker_name'],
  ['trace_type=datum', 'trace_type'],
  ['tracker=system', 'tracker'],
  ['limit=5&resource_nam=web-1', 'resource_nam'],
  ['tracker_name=', 'tracker_name'],
  ['tracker_name=sys%20tem', 'tracker_name'],
  ['service_type=', 'service_type'],
  [`service_type=${'E'.repeat(33)}`, 'service_type'],
  ['user=', 'user'],
  [`user=${long(257)}`, 'user'],
  ['user=a&user=b', 'user'],
  ['resource_id=', 'resource_id'],
  [`resource_id=${long(351)}`, 'resource_id'],
  ['resource_name=', 'resource_name'],
  [`resource_name=${long(257)}`, 'resource_name'],
  ['resource_type=', 'resource_type'],
  [`resource_type=${long(65)}`, 'resource_type'],
  ['trace_id=', 'trace_id'],
  ['trace_id=a%20b', 'trace_id'],
  ['trace_name=', 'trace_name'],
  [`trace_name=${long(65)}`, 'trace_name'],
  ['trace_rating=fatal', 'trace_rating'],
  ['trace_rating=Normal', 'trace_rating'],
  ['source_ip=', 'source_ip'],
  [`source_ip=${long(65)}`, 'source_ip'],
  ['code=', 'code'],
  [`code=${long(257)}`, 'code'],
  ['request_id=', 'request_id'],
  [`request_id=${long(129)}`, 'request_id'],
];

/** A small data set whose values collide on purpose, so that filters and their combinations bite. */
function dataset(now: number) {
  const pick = <T>(values: T[], i: number, salt: number) => values[(i * salt + (i >> 2)) % values.length]!;
  return Array.from({ length: 64 }, (_, i) =>
    aTrace({
      trace_id: `d-${String(i).padStart(2, '0')}`,
      time: now - 50 * 60_000 + i * 30_000,
      tracker_name: pick(['system', 'system', 'other'], i, 5),
      service_type: pick(['ECS', 'EVS', 'VPC'], i, 1),
      user: pick([{ name: 'alice' }, { name: 'Alice' }, { name: 'bob' }, null], i, 3),
      resource_id: pick(['srv-1', 'srv-2', 'SRV-1', null], i, 5),
      resource_name: pick(['web', 'web-1', 'Web'], i, 7),
      resource_type: pick(['ecs', 'evs'], i, 3),
      trace_name: pick(['createServer', 'deleteServer', 'createserver'], i, 11),
      trace_rating: pick(['normal', 'warning', 'incident'], i, 13),
      source_ip: pick(['198.51.100.7', '198.51.100.70', null], i, 17),
      code: pick([200, '200', 404, null], i, 19),
      request_id: pick(['req-1', 'req-2', 'req-3', 'REQ-1'], i, 23),
    }),
  );
}

type Sent = Record<string, unknown>;
const FILTERS: Record<string, (t: Sent) => unknown> = {
  tracker_name: (t) => t.tracker_name,
  service_type: (t) => t.service_type,
  user: (t) => (t.user as { name?: string } | null)?.name,
  resource_id: (t) => t.resource_id,
  resource_name: (t) => t.resource_name,
  resource_type: (t) => t.resource_type,
  trace_name: (t) => t.trace_name,
  trace_rating: (t) => t.trace_rating,
  source_ip: (t) => t.source_ip,
  code: (t) => (t.code === null ? null : String(t.code)),
  request_id: (t) => t.request_id,
};

const VALUES: Record<string, string[]> = {
  tracker_name: ['system', 'other'],
  service_type: ['ECS', 'VPC', 'RDS'],
  user: ['alice', 'Alice', 'ali'],
  resource_id: ['srv-1', 'SRV-1'],
  resource_name: ['web', 'Web', 'web-1'],
  resource_type: ['ecs', 'evs'],
  trace_name: ['createServer', 'createserver'],
  trace_rating: ['normal', 'incident'],
  source_ip: ['198.51.100.7', '198.51.100'],
  code: ['200', '404', '20'],
  request_id: ['req-1', 'REQ-1'],
};

describe.each(backends)('GET /v3/{project_id}/traces ($name)', (backend) => {
  let env: TestEnv;
  let path: string;
  beforeEach(async () => {
    env = await makeTestEnv({ dbUrl: backend.dbUrl() });
    path = `/v3/${env.projectId}/traces`;
  });
  afterEach(() => env.close());

  const report = async (traces: unknown[]) => {
    const res = await env.call('POST', path, { body: { traces } });
    expect(res.status).toBe(201);
  };
  const list = async (query = ''): Promise<Page> => {
    const res = await env.call('GET', `${path}?${query}`, { key: env.keys.reader });
    expect(res.status, await res.clone().text()).toBe(200);
    return res.json();
  };
  const ids = (page: Page) => page.traces.map((t) => t.trace_id);

  it.each(BAD_QUERIES)('rejects ?%s with 400 naming %s', async (query, field) => {
    await report([aTrace({ trace_id: 'one' })]);
    const res = await env.call('GET', `${path}?${query}`, { key: env.keys.reader });
    expect(res.status).toBe(400);
    const body = await res.json();
    expect(body.error_code).toBe('CTS.0003');
    expect(body.details.map((d: { field: string }) => d.field)).toContain(field);
  });

  it('pages through 1,200 traces (300 with the same time) without loss or repetition', async () => {
    const now = env.clock();
    const traces = Array.from({ length: 1200 }, (_, i) =>
      aTrace({
        trace_id: `p-${(i * 7919) % 1200}`,
        time: i < 300 ? now - 2 * DAY : now - 6 * DAY + i * 60_000,
        service_type: i % 2 ? 'ECS' : 'EVS',
      }),
    );
    for (let i = 0; i < traces.length; i += 500) await report(traces.slice(i, i + 500));
    const window = `from=${now - 7 * DAY}&to=${now}`;
    for (const [filter, expected] of [
      ['', 1200],
      ['&service_type=ECS', 600],
    ] as const) {
      const seen: Page['traces'] = [];
      let marker: string | null = null;
      let pages = 0;
      do {
        const page = await list(`${window}${filter}&limit=97${marker ? `&next=${marker}` : ''}`);
        expect(page.meta_data.count).toBe(page.traces.length);
        seen.push(...page.traces);
        marker = page.meta_data.marker;
        pages++;
      } while (marker);
      expect(seen).toHaveLength(expected);
      expect(new Set(seen.map((t) => t.trace_id)).size).toBe(expected);
      expect(pages).toBe(Math.ceil(expected / 97));
      for (let i = 1; i < seen.length; i++) expect(seen[i - 1]!.time).toBeGreaterThanOrEqual(seen[i]!.time);
    }
  });

  it('ends with a null marker on an exactly full last page', async () => {
    await report(Array.from({ length: 20 }, (_, i) => aTrace({ time: env.clock() - i * 1000 })));
    const first = await list('limit=10');
    expect(first.meta_data).toMatchObject({ count: 10, marker: first.traces[9]!.trace_id });
    const second = await list(`limit=10&next=${first.meta_data.marker}`);
    expect(second.meta_data).toEqual({ count: 10, marker: null });
  });

  it('continues after `next` within from/to (the intersection)', async () => {
    const now = env.clock();
    await report(
      Array.from({ length: 10 }, (_, i) => aTrace({ trace_id: `n-${i}`, time: now - (i + 1) * 60_000 })),
    );
    const page = await list(`from=${now - 8 * 60_000}&to=${now - 2 * 60_000}&next=n-3`);
    expect(ids(page)).toEqual(['n-4', 'n-5', 'n-6', 'n-7']);
    // A `next` outside the window still only yields what the window allows.
    expect(ids(await list(`from=${now - 8 * 60_000}&to=${now}&next=n-0`))).toEqual([
      'n-1',
      'n-2',
      'n-3',
      'n-4',
      'n-5',
      'n-6',
      'n-7',
    ]);
  });

  it('does not continue after a trace of another project', async () => {
    const other = await makeTestEnv({ dbUrl: backend.dbUrl() });
    await other.call('POST', `/v3/${other.projectId}/traces`, {
      body: { traces: [aTrace({ trace_id: 'theirs' })] },
    });
    other.close();
    const res = await env.call('GET', `${path}?next=theirs`);
    expect(res.status).toBe(400);
  });

  describe('filters', () => {
    beforeEach(async () => report(dataset(env.clock())));
    const expected = (equals: Record<string, string>) =>
      (dataset(env.clock()) as Sent[])
        .filter((t) => Object.entries(equals).every(([name, value]) => FILTERS[name]!(t) === value))
        .map((t) => t.trace_id as string)
        .reverse();

    it.each(Object.entries(VALUES).flatMap(([name, values]) => values.map((v) => [name, v])))(
      '%s=%s matches exactly and case-sensitively',
      async (name, value) => {
        const page = await list(`limit=200&${new URLSearchParams({ [name]: value })}`);
        expect(ids(page)).toEqual(expected({ [name]: value }));
      },
    );

    it('combines every pair of filters with AND', async () => {
      const names = Object.keys(VALUES);
      let nonEmpty = 0;
      for (const [i, a] of names.entries()) {
        for (const b of names.slice(i + 1)) {
          const equals = { [a]: VALUES[a]![0]!, [b]: VALUES[b]![0]! };
          const want = expected(equals);
          if (want.length > 0) nonEmpty++;
          expect(ids(await list(`limit=200&${new URLSearchParams(equals)}`)), `${a}+${b}`).toEqual(want);
        }
      }
      expect(nonEmpty).toBeGreaterThan(30);
    });

    it('takes tracker_name=system as the default of trace_type=system', async () => {
      const system = expected({ tracker_name: 'system' });
      expect(system.length).toBeLessThan(64);
      expect(ids(await list('limit=200&trace_type=system'))).toEqual(system);
      expect(ids(await list('limit=200&trace_type=system&tracker_name=other'))).toEqual(
        expected({ tracker_name: 'other' }),
      );
      expect(ids(await list('limit=200'))).toHaveLength(64);
    });

    it('combines many filters at once', async () => {
      const equals = {
        service_type: 'ECS',
        trace_rating: 'normal',
        resource_type: 'ecs',
        tracker_name: 'system',
      };
      const want = expected(equals);
      expect(want.length).toBeGreaterThan(0);
      expect(ids(await list(`limit=200&${new URLSearchParams(equals)}`))).toEqual(want);
    });

    it('lets trace_id override every other criterion', async () => {
      const page = await list(`trace_id=d-03&service_type=RDS&user=nobody&from=0&to=1&limit=1`);
      expect(ids(page)).toEqual(['d-03']);
      expect(page.meta_data).toEqual({ count: 1, marker: null });
      expect(await list('trace_id=d-99')).toEqual({ traces: [], meta_data: { count: 0, marker: null } });
      expect((await list('trace_id=D-03')).traces).toEqual([]);
    });
  });

  describe('time window', () => {
    it('defaults to the last hour and 10 traces, newest first', async () => {
      const now = env.clock();
      const minutes = [-90, -61, -59, -30, -1, 0, ...Array.from({ length: 10 }, (_, i) => -40 - i)];
      await report(minutes.map((m) => aTrace({ trace_id: `m${m}`, time: now + m * 60_000 })));
      const page = await list();
      expect(ids(page)).toEqual([
        'm0',
        'm-1',
        'm-30',
        'm-40',
        'm-41',
        'm-42',
        'm-43',
        'm-44',
        'm-45',
        'm-46',
      ]);
      const all = await list('limit=200');
      expect(ids(all)).not.toContain('m-61');
      expect(ids(all)).toHaveLength(14);
    });

    it('takes `from` as `to` − 1 h when only `to` is sent', async () => {
      const now = env.clock();
      await report([-10, -50, -70, -130].map((m) => aTrace({ trace_id: `m${m}`, time: now + m * 60_000 })));
      expect(ids(await list(`to=${now - 20 * 60_000}`))).toEqual(['m-50', 'm-70']);
    });

    it('clamps the window to the last 7 days and to now', async () => {
      const now = env.clock();
      await report([
        aTrace({ trace_id: 'future', time: now + 30 * 60_000 }),
        aTrace({ trace_id: 'six-days', time: now - 6 * DAY }),
        aTrace({ trace_id: 'eight-days', time: now - 8 * DAY }),
      ]);
      expect(ids(await list(`from=${now - 30 * DAY}&to=${now + DAY}`))).toEqual(['six-days']);
      expect(ids(await list(`from=0&to=${now - 7.5 * DAY}`))).toEqual([]);
      // Not even by id: only the last 7 days are queryable.
      expect(ids(await list('trace_id=eight-days'))).toEqual([]);
      expect(ids(await list('trace_id=six-days'))).toEqual(['six-days']);
    });

    it('includes both ends of the window', async () => {
      const now = env.clock();
      await report([
        aTrace({ trace_id: 'from', time: now - HOUR }),
        aTrace({ trace_id: 'to', time: now - 1000 }),
      ]);
      expect(ids(await list(`from=${now - HOUR}&to=${now - 1000}`))).toEqual(['to', 'from']);
    });

    it('accepts limit 1 and 200', async () => {
      await report(Array.from({ length: 250 }, () => aTrace()));
      expect((await list('limit=1')).traces).toHaveLength(1);
      expect((await list('limit=200')).meta_data.count).toBe(200);
    });
  });

  it('keeps projects apart', async () => {
    const other = await makeTestEnv({ dbUrl: backend.dbUrl() });
    await recordTraces(other.deps, other.projectId, [ReportedTraceSchema.parse(aTrace({ trace_id: 'x-1' }))]);
    other.close();
    await report([aTrace({ trace_id: 'mine' })]);
    expect(ids(await list())).toEqual(['mine']);
    expect(ids(await list('trace_id=x-1'))).toEqual([]);
  });
});
