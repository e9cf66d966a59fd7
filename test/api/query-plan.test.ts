import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/store/db';
import { SLOT_MS } from '../../src/store/schema/traces';
import {
  FILTERS,
  type FilterName,
  prefixBound,
  selectTracesSql,
  slotSteps,
  type TraceFilter,
} from '../../src/store/trace-search';
import { openTestDb } from '../helpers/app';

// The plans behind docs/adr/0001-trace-storage.md: every query walks the index it names, in
// query order, and never sorts the window — only, for slotted filters, the page it picked.

const NOW = Date.UTC(2026, 10, 24, 12, 0, 0);
const WEEK = 7 * 24 * 3_600_000;
let db: Db;
beforeAll(async () => {
  db = await openTestDb();
});
afterAll(() => db.$client.close());

async function plan(equals: Partial<Record<FilterName, string>>, after?: { time: number; seq: number }) {
  const query = selectTracesSql({ projectId: 'p', from: NOW - WEEK, to: NOW, after, equals }, 201)!;
  const rows = await db.all<{ detail: string }>(sql`explain query plan ${query}`);
  return rows.map((row) => row.detail);
}

describe('trace query plans', () => {
  it('walks (project_id, time) without a sort when there is no filter', async () => {
    for (const after of [undefined, { time: NOW - 1000, seq: 5 }]) {
      expect(await plan({}, after)).toEqual([
        'SEARCH traces USING INDEX traces_project_time (project_id=? AND time>? AND time<?)',
      ]);
    }
  });

  it.each(Object.entries(FILTERS))('walks the index of %s in query order', async (name, spec) => {
    const detail = await plan({ [name]: 'v' });
    if (!spec.slotted) {
      expect(detail).toEqual([
        `SEARCH traces USING INDEX ${spec.index} (project_id=? AND ${spec.column.name}=? AND time>? AND time<?)`,
      ]);
      return;
    }
    // Per slot step: a covering index search (no table rows read) and the project's staged rows
    // (store/staged-index.ts), sorting only what they found; then the page's rows by seq, and a
    // sort of the page.
    const searches = detail.filter((d) => d.startsWith('SEARCH traces USING'));
    expect(searches[0]).toBe('SEARCH traces USING INTEGER PRIMARY KEY (rowid=?)');
    expect(searches.slice(1)).toEqual(
      Array.from({ length: 4 }, () => [
        `SEARCH traces USING COVERING INDEX ${spec.index} (project_id=? AND <expr>=? AND ${spec.column.name}=? AND time>? AND time<?)`,
        'SEARCH traces USING INDEX traces_unindexed (project_id=? AND time>? AND time<?)',
      ]).flat(),
    );
    expect(detail.filter((d) => d.startsWith('SCAN traces'))).toEqual([]);
  });

  it('checks the other filters of a combination on the rows the first one yields', async () => {
    expect(await plan({ trace_rating: 'incident', service_type: 'ECS', code: '500' })).toEqual([
      'SEARCH traces USING INDEX traces_code_time (project_id=? AND code=? AND time>? AND time<?)',
    ]);
    const slotted = await plan({ user: 'alice', trace_rating: 'incident' });
    expect(slotted).toContain(
      'SEARCH traces USING INDEX traces_user_slot (project_id=? AND <expr>=? AND user_name=? AND time>? AND time<?)',
    );
  });
});

describe('console criteria: several values, prefixes', () => {
  const planOf = async (filter: Pick<TraceFilter, 'equals' | 'prefixes'>) => {
    const query = selectTracesSql({ projectId: 'p', from: NOW - WEEK, to: NOW, ...filter }, 201)!;
    return (await db.all<{ detail: string }>(sql`explain query plan ${query}`)).map((row) => row.detail);
  };

  it('walks the slotted index for several users and for a resource ID or name prefix, never scanning', async () => {
    const users = await planOf({ equals: { user: ['alice', 'bob'] } });
    expect(users).toContain(
      'SEARCH traces USING COVERING INDEX traces_user_slot (project_id=? AND <expr>=? AND user_name=? AND time>? AND time<?)',
    );
    for (const name of ['resource_id', 'resource_name'] as const) {
      const detail = await planOf({ equals: {}, prefixes: { [name]: 'srv-' } });
      expect(detail).toContain(
        `SEARCH traces USING COVERING INDEX traces_${name}_slot (project_id=? AND <expr>=? AND ${name}>? AND ${name}<?)`,
      );
      expect(detail.filter((d) => d.startsWith('SCAN traces'))).toEqual([]);
    }
  });

  it('bounds a prefix by the next code point, skipping surrogates', () => {
    expect(prefixBound('srv-')).toBe('srv.');
    expect(prefixBound('a\u{10FFFF}')).toBe('b');
    expect(prefixBound('x\ud7ff')).toBe('x\ue000');
    expect(prefixBound('\u{1F600}')).toBe('\u{1F601}');
    expect(prefixBound('\u{10FFFF}')).toBeUndefined();
  });

  it('finds exactly the values that start with the prefix', async () => {
    const values = ['srv', 'srv-', 'srv-1', 'srv-\u{10FFFF}x', 'srv.', 'srv,', 'srw', 'Srv-1'];
    const rows = await db.all<{ v: string }>(
      sql`select value as v from json_each(${JSON.stringify(values)}) where value >= ${'srv-'} and value < ${prefixBound('srv-')}`,
    );
    expect(rows.map((row) => row.v).sort()).toEqual(['srv-', 'srv-1', 'srv-\u{10FFFF}x']);
  });
});

describe('slotSteps', () => {
  it('cuts a window into newest-first steps of 2 h, 6 h, 1 day and the rest', () => {
    const to = 1000 * SLOT_MS + 5;
    const steps = slotSteps(to - WEEK, to);
    expect(steps.map((s) => s.length)).toEqual([2, 6, 24, 7 * 24 + 1 - 32]);
    const all = steps.flat();
    expect(all[0]).toBe(1000);
    expect(all.at(-1)).toBe(Math.floor((to - WEEK) / SLOT_MS));
    expect(all.every((slot, i) => i === 0 || slot === all[i - 1]! - 1)).toBe(true);
  });

  it('gives one step for a window inside one slot', () => {
    expect(slotSteps(10 * SLOT_MS + 1, 10 * SLOT_MS + 2)).toEqual([[10]]);
  });
});
