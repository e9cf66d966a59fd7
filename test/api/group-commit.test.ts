import { sql } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createProject } from '../../src/domain/projects/projects';
import { recordTraces, toTraceRow } from '../../src/domain/traces/record';
import { ReportedTraceSchema } from '../../src/domain/traces/schema';
import { isBusyError } from '../../src/store/db';
import { countTraces, insertTraces } from '../../src/store/trace-queries';
import { coalesceWrites, QUEUE_WAIT_LIMIT_MS, QueueWaitError, runWrite } from '../../src/store/write-queue';
import { aTrace, makeTestEnv, type TestEnv } from '../helpers/app';

// Group commit (src/store/write-queue.ts), as the Node runtime enables it: concurrent reports
// share a transaction, each keeps its own result, and one failing write does not fail the others.

/** The calls of `db.batch` that wrote traces (the notification rules load through it too). */
const traceBatches = (spy: { mock: { calls: unknown[][] } }) =>
  spy.mock.calls.filter(([items]) =>
    (items as Array<{ getQuery?: () => { sql: string } }>).some((item) =>
      item.getQuery?.().sql.startsWith('insert into traces'),
    ),
  ).length;

/** The statements the client executed alone (outside `batch`) that inserted traces. */
const traceInserts = (spy: { mock: { calls: unknown[][] } }) =>
  spy.mock.calls.filter(([statement]) =>
    (typeof statement === 'string' ? statement : (statement as { sql: string }).sql).startsWith(
      'insert into traces',
    ),
  ).length;

const traces = (...ids: string[]) => ids.map((id) => ReportedTraceSchema.parse(aTrace({ trace_id: id })));

describe('group commit of trace writes', () => {
  let env: TestEnv;
  beforeEach(async () => {
    env = await makeTestEnv();
    coalesceWrites(env.deps.db);
  });
  afterEach(() => env.close());

  it('puts reports that arrive together in one insert statement, each with its own counts', async () => {
    const batch = vi.spyOn(env.deps.db, 'batch');
    const execute = vi.spyOn(env.deps.db.$client, 'execute');
    const results = await Promise.all([
      recordTraces(env.deps, env.projectId, traces('a', 'b')),
      recordTraces(env.deps, env.projectId, traces('b', 'c')),
      recordTraces(env.deps, env.projectId, traces('c', 'c', 'd')),
      recordTraces(env.deps, env.projectId, traces('e')),
    ]);
    expect(traceBatches(batch)).toBe(0);
    expect(traceInserts(execute)).toBe(1);
    expect(results.map((r) => [r.recorded, r.duplicates])).toEqual([
      [2, 0],
      [1, 1],
      [1, 2],
      [1, 0],
    ]);
    expect(await countTraces(env.deps.db, env.projectId)).toBe(5);
  });

  it('counts re-reports of stored traces and traces of other projects apart in a merged insert', async () => {
    const other = await createProject(env.deps);
    await recordTraces(env.deps, env.projectId, traces('old'));
    const execute = vi.spyOn(env.deps.db.$client, 'execute');
    const results = await Promise.all([
      recordTraces(env.deps, env.projectId, traces('old', 'new')),
      recordTraces(env.deps, other.id, traces('old', 'new')),
      recordTraces(env.deps, env.projectId, traces('new')),
    ]);
    expect(traceInserts(execute)).toBe(1);
    expect(results.map((r) => [r.recorded, r.duplicates])).toEqual([
      [1, 1],
      [2, 0],
      [0, 1],
    ]);
    expect(await countTraces(env.deps.db, env.projectId)).toBe(2);
    expect(await countTraces(env.deps.db, other.id)).toBe(2);
  });

  it('keeps a report with notifications in the same transaction as merged ones', async () => {
    const batch = vi.spyOn(env.deps.db, 'batch');
    const plain = traces('p1');
    const results = await Promise.all([
      recordTraces(env.deps, env.projectId, plain),
      insertTraces(
        env.deps.db,
        traces('n1').map((trace) => toTraceRow(env.projectId, trace, env.clock())),
        [env.deps.db.run(sql`select 1`)],
      ),
      recordTraces(env.deps, env.projectId, traces('p2', 'n1')),
    ]);
    expect(traceBatches(batch)).toBe(1);
    expect(results[0]).toMatchObject({ recorded: 1, duplicates: 0 });
    // n1 is in two reports: whichever ran first stored it, the other counted it as a duplicate.
    const n1 = results[2] as { recorded: number; duplicates: number };
    expect([results[1], n1.recorded, n1.duplicates]).toSatisfy(
      ([alone, recorded, duplicates]) =>
        (alone === 1 && recorded === 1 && duplicates === 1) ||
        (alone === 0 && recorded === 2 && duplicates === 0),
    );
    expect(await countTraces(env.deps.db, env.projectId)).toBe(3);
  });

  it('runs a lone write at once, without a transaction around it', async () => {
    const batch = vi.spyOn(env.deps.db, 'batch');
    expect((await recordTraces(env.deps, env.projectId, traces('solo'))).recorded).toBe(1);
    expect(traceBatches(batch)).toBe(0);
  });

  it('fails only the write that fails, and keeps the others atomic', async () => {
    const { db } = env.deps;
    const insert = (id: string) =>
      db.run(sql`insert into projects (id, domain_id, name, created_at) values (${id}, ${id}, 'x', 0)`);
    const [ok1, bad, ok2] = await Promise.allSettled([
      runWrite(db, [insert('p1'), insert('p2')]),
      runWrite(db, [insert('p3'), insert('p3')]), // the second violates the primary key
      runWrite(db, [insert('p4')]),
    ]);
    expect(ok1.status).toBe('fulfilled');
    expect(bad.status).toBe('rejected');
    expect(ok2.status).toBe('fulfilled');
    const rows = await db.all<{ id: string }>(sql`select id from projects where id like 'p_' order by id`);
    expect(rows.map((r) => r.id)).toEqual(['p1', 'p2', 'p4']);
  });

  it('starts a new group for writes that arrive while one commits', async () => {
    const first = recordTraces(env.deps, env.projectId, traces('x1'));
    await first;
    const later = await Promise.all([
      recordTraces(env.deps, env.projectId, traces('x2')),
      recordTraces(env.deps, env.projectId, traces('x1', 'x3')),
    ]);
    expect(later.map((r) => r.recorded)).toEqual([1, 1]);
    expect(await countTraces(env.deps.db, env.projectId)).toBe(3);
  });

  it('gives a group at most 1,000 traces: large reports each commit alone, and are answered in turn', async () => {
    const batch = vi.spyOn(env.deps.db, 'batch');
    const execute = vi.spyOn(env.deps.db.$client, 'execute');
    const ids = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${i}`);
    const results = await Promise.all([
      recordTraces(env.deps, env.projectId, traces(...ids('a', 600))),
      recordTraces(env.deps, env.projectId, traces(...ids('b', 600))),
      recordTraces(env.deps, env.projectId, traces(...ids('c', 300), 'a0')),
    ]);
    expect(results.map((r) => [r.recorded, r.duplicates])).toEqual([
      [600, 0],
      [600, 0],
      [300, 1],
    ]);
    // a, then b with c merged (901 traces): two statements, no transaction holding all three.
    expect(traceBatches(batch)).toBe(0);
    expect(traceInserts(execute)).toBe(2);
    expect(await countTraces(env.deps.db, env.projectId)).toBe(1500);
  });

  it('retries a write the database refused as busy (a libSQL server under concurrent writers)', async () => {
    let attempts = 0;
    const busyOnce = {
      // biome-ignore lint/suspicious/noThenProperty: a drizzle statement is a thenable run when awaited
      then(resolve: (value: unknown) => void, reject: (error: unknown) => void) {
        attempts++;
        if (attempts === 1) reject(new Error('Failed query', { cause: { code: 'SQLITE_BUSY' } }));
        else resolve({ rowsAffected: 1 });
      },
    } as unknown as Parameters<typeof runWrite>[1][number];
    expect(await runWrite(env.deps.db, [busyOnce])).toEqual([{ rowsAffected: 1 }]);
    expect(attempts).toBe(2);
    const failing = {
      // biome-ignore lint/suspicious/noThenProperty: as above
      then(_: unknown, reject: (error: unknown) => void) {
        reject(new Error('constraint', { cause: { code: 'SQLITE_CONSTRAINT' } }));
      },
    } as unknown as Parameters<typeof runWrite>[1][number];
    await expect(runWrite(env.deps.db, [failing])).rejects.toThrow('constraint');
  });
});

// The Worker's queue (coalesceWrites with `requestScoped`): each waiting write keeps a timer of its
// own request's, and a write still queued behind a group that does not finish is refused as busy.
describe('a request-scoped write queue (Workers)', () => {
  let env: TestEnv;
  beforeEach(async () => {
    env = await makeTestEnv();
    coalesceWrites(env.deps.db, { requestScoped: true });
  });
  afterEach(async () => {
    vi.useRealTimers();
    await env.close();
  });

  it('refuses a write still queued after the wait limit as busy; one being written waits for its answer', async () => {
    const kept: Promise<unknown>[] = [];
    const keepAlive = (work: Promise<unknown>) => void kept.push(work);
    const neverAnswered = new Promise(() => {}) as unknown as Parameters<typeof runWrite>[1][number];
    const stuck = runWrite(env.deps.db, [neverAnswered], keepAlive).then(
      () => 'answered',
      () => 'refused',
    );
    await new Promise((resolve) => setImmediate(resolve)); // its group has started
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const queued = runWrite(env.deps.db, [env.deps.db.run(sql`select 1`)], keepAlive).catch((error) => error);
    expect(kept).toHaveLength(2); // each write's wait, to the request's waitUntil

    await vi.advanceTimersByTimeAsync(QUEUE_WAIT_LIMIT_MS - 100);
    expect(await Promise.race([queued, 'waiting'])).toBe('waiting');
    await vi.advanceTimersByTimeAsync(200);
    const error = await queued;
    expect(error).toBeInstanceOf(QueueWaitError);
    expect(isBusyError(error)).toBe(true); // answered 503 CTS.0004 with Retry-After

    await vi.advanceTimersByTimeAsync(3 * QUEUE_WAIT_LIMIT_MS);
    expect(await Promise.race([stuck, 'waiting'])).toBe('waiting');
  });

  it('stores the writes that arrive while a group is written together, in the next group', async () => {
    const execute = vi.spyOn(env.deps.db.$client, 'execute');
    const first = recordTraces(env.deps, env.projectId, traces('r1'));
    const later = [
      recordTraces(env.deps, env.projectId, traces('r2')),
      recordTraces(env.deps, env.projectId, traces('r3', 'r1')),
    ];
    expect((await first).recorded).toBe(1);
    expect((await Promise.all(later)).map((r) => [r.recorded, r.duplicates])).toEqual([
      [1, 0],
      [1, 1],
    ]);
    expect(traceInserts(execute)).toBeLessThanOrEqual(2);
    expect(await countTraces(env.deps.db, env.projectId)).toBe(3);
  });
});
