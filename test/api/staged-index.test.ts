import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from '@libsql/client';
import { sql } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it, onTestFinished, vi } from 'vitest';
import { toTraceRow } from '../../src/domain/traces/record';
import { ReportedTraceSchema } from '../../src/domain/traces/schema';
import { migrateDb } from '../../src/runtime/node-db';
import { createDb, type Db } from '../../src/store/db';
import {
  INDEX_BATCH,
  indexedFlag,
  indexStaged,
  MAX_STAGE_MS,
  MAX_STAGED,
  STAGE_BELOW,
} from '../../src/store/staged-index';
import { insertTraces } from '../../src/store/trace-queries';
import { FILTERS, type FilterName, selectTraces, type TraceFilter } from '../../src/store/trace-search';
import { aTrace, openTestDb } from '../helpers/app';

// Staged index entries (store/staged-index.ts, ADR 0001 §12): small writes skip the slotted
// indexes until an index pass; every query must find their rows all the same, once each.

const PROJECT = 'p1';
const NOW = Date.UTC(2026, 10, 24, 12, 0, 0);
const HOUR = 3_600_000;
const WEEK = 7 * 24 * HOUR;

/** A stored row of `aTrace(overrides)`, validated as a report would be. */
const row = (overrides: Record<string, unknown>) =>
  toTraceRow(PROJECT, ReportedTraceSchema.parse(aTrace(overrides)), NOW);

const stagedCount = async (db: Db) =>
  (await db.get<{ n: number }>(sql`select count(*) as n from traces where indexed = 0`))!.n;

/** Each slotted filter, with the value `aTrace` stores for it. */
const SLOTTED: Partial<Record<FilterName, string>> = {
  request_id: 'req-1',
  access_key_id: 'AK-1',
  resource_id: 'srv-1',
  resource_name: 'web-1',
  source_ip: '198.51.100.7',
  user: 'alice',
  enterprise_project_id: 'ep-1',
  trace_name: 'createServer',
};

describe('staged index entries', () => {
  let db: Db;
  beforeEach(async () => {
    db = await openTestDb(); // stages small writes, as the Node server's embedded database does
    // Passes start when a test says so: no MAX_STAGE_MS timer fires by itself.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
  });
  afterEach(() => {
    vi.useRealTimers();
    db.$client.close();
  });

  const query = (equals: TraceFilter['equals'], after?: TraceFilter['after'], limit = 200) =>
    selectTraces(db, { projectId: PROJECT, from: NOW - WEEK, to: NOW, equals, after }, limit);

  it('covers every slotted filter', () => {
    const slotted = Object.entries(FILTERS).filter(([, spec]) => spec.slotted);
    expect(Object.keys(SLOTTED).sort()).toEqual(slotted.map(([name]) => name).sort());
  });

  it('finds a small write by every slotted filter at once, and once after the index pass', async () => {
    const user = { id: 'u1', name: 'alice', access_key_id: 'AK-1' };
    for (let i = 0; i < 3; i++)
      await insertTraces(db, [
        row({ trace_id: `t${i}`, user, enterprise_project_id: 'ep-1', time: NOW - i * HOUR }),
      ]);
    // A large write goes into every index at once.
    const large = Array.from({ length: STAGE_BELOW }, (_, i) =>
      row({ trace_id: `big${i}`, user, enterprise_project_id: 'ep-1', time: NOW - 30 * HOUR - i }),
    );
    await insertTraces(db, large);
    expect(await stagedCount(db)).toBe(3);

    const expected = ['t0', 't1', 't2', ...large.map((r) => r.traceId)];
    for (const [name, value] of Object.entries(SLOTTED)) {
      expect(
        (await query({ [name]: value })).map((r) => r.trace_id),
        name,
      ).toEqual(expected);
      expect(await query({ [name]: 'other' }), name).toEqual([]);
    }
    expect(await indexStaged(db)).toBe(3);
    expect(await stagedCount(db)).toBe(0);
    for (const [name, value] of Object.entries(SLOTTED))
      expect(
        (await query({ [name]: value })).map((r) => r.trace_id),
        name,
      ).toEqual(expected);
  });

  it('pages over staged and indexed traces newest first, each once, whatever was indexed between pages', async () => {
    // 240 traces in 12 hours, times interleaved between staged (small) and indexed (large) writes.
    const rows = Array.from({ length: 240 }, (_, i) =>
      row({
        trace_id: `t${String(i).padStart(3, '0')}`,
        time: NOW - 12 * HOUR + i * 3 * 60_000,
        user: { name: i % 3 ? 'alice' : 'bob' },
      }),
    );
    const small = rows.filter((_, i) => i % 2 === 0);
    const large = rows.filter((_, i) => i % 2 === 1);
    for (const r of small) await insertTraces(db, [r]);
    await insertTraces(db, large.slice(0, 64));
    await insertTraces(db, large.slice(64));
    const expected = rows
      .filter((r) => r.userName === 'alice')
      .sort((a, b) => b.time - a.time)
      .map((r) => r.traceId);

    const seen: string[] = [];
    let after: TraceFilter['after'];
    for (let page = 0; ; page++) {
      if (page === 3) await indexStaged(db); // the tail moves into the index mid-way
      const got = await query({ user: 'alice' }, after, 13);
      seen.push(...got.map((r) => r.trace_id));
      if (got.length < 13) break;
      const last = rows.find((r) => r.traceId === got.at(-1)!.trace_id)!;
      const key = await db.get<{ seq: number }>(sql`select seq from traces where trace_id = ${last.traceId}`);
      after = { time: last.time, seq: key!.seq };
    }
    expect(seen).toEqual(expected);
  });

  it('starts a pass once a batch is staged, and indexes a lone row after MAX_STAGE_MS', async () => {
    /** Lets a pass that has started finish (it runs through the write queue, no timers). */
    const settle = async () => {
      for (let i = 0; i < 50; i++) await new Promise((resolve) => setImmediate(resolve));
    };
    for (let i = 0; i < INDEX_BATCH - 1; i++) await insertTraces(db, [row({ trace_id: `b${i}` })]);
    await settle();
    expect(await stagedCount(db)).toBe(INDEX_BATCH - 1);
    await insertTraces(db, [row({ trace_id: 'last' })]);
    await settle();
    expect(await stagedCount(db)).toBe(0);

    await insertTraces(db, [row({ trace_id: 'lone' })]);
    vi.advanceTimersByTime(MAX_STAGE_MS - 1);
    await settle();
    expect(await stagedCount(db)).toBe(1);
    vi.advanceTimersByTime(1);
    await settle();
    expect(await stagedCount(db)).toBe(0);
    expect(await query({ user: 'alice' }, undefined, 1)).toHaveLength(1);
  });

  it('indexes at once again past MAX_STAGED rows waiting (passes failing or behind)', async () => {
    const other = await openTestDb();
    try {
      let staged = 0;
      while (indexedFlag(other, STAGE_BELOW - 1) === 0) staged += STAGE_BELOW - 1;
      expect(staged).toBeGreaterThanOrEqual(MAX_STAGED);
      expect(staged).toBeLessThan(MAX_STAGED + STAGE_BELOW);
      expect(indexedFlag(other, 1)).toBe(1);
    } finally {
      other.$client.close();
    }
    expect(indexedFlag(db, STAGE_BELOW)).toBe(1);
    expect(indexedFlag(db, 1)).toBe(0);
  });

  it('on a database the runtime did not enable (a libSQL server), writes every row indexed', async () => {
    const bare = createDb(createClient({ url: ':memory:' }));
    await migrateDb(bare);
    try {
      await insertTraces(bare, [row({ trace_id: 'x' })]);
      expect(await stagedCount(bare)).toBe(0);
      expect(indexedFlag(bare, 1)).toBe(1);
    } finally {
      bare.$client.close();
    }
  });
});

describe('staged rows across a restart', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'cts-staged-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('indexes at start-up (migrateDb) the rows a stopped process left staged', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] }); // no pass before the close
    onTestFinished(() => {
      vi.useRealTimers();
    });
    const url = `file:${join(dir, 'cts.db')}`;
    const first = await openTestDb(url);
    for (let i = 0; i < 5; i++) await insertTraces(first, [row({ trace_id: `s${i}` })]);
    expect(await stagedCount(first)).toBe(5);
    first.$client.close(); // before its pass: the rows stay staged in the file

    const second = await openTestDb(url);
    try {
      expect(await stagedCount(second)).toBe(0);
      const found = await selectTraces(
        second,
        { projectId: PROJECT, from: NOW - WEEK, to: NOW, equals: { user: 'alice' } },
        10,
      );
      expect(found.map((r) => r.trace_id).sort()).toEqual(['s0', 's1', 's2', 's3', 's4']);
    } finally {
      second.$client.close();
    }
  });
});
