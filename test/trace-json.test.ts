import { asc, eq } from 'drizzle-orm';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toApiTrace } from '../src/domain/traces/query';
import { recordTraces } from '../src/domain/traces/record';
import { ReportedTraceSchema } from '../src/domain/traces/schema';
import type { Db } from '../src/store/db';
import { traces } from '../src/store/schema/traces';
import { traceJson } from '../src/store/trace-json';
import { traceJsonReader } from '../src/store/transfer-queries';
import { aTrace, manualClock, openTestDb } from './helpers/app';

// The transfer writes traces serialized by SQLite (`traceJson`); the API serves `toApiTrace`.
// Archived files must hold exactly what the API shows.

let db: Db;
beforeAll(async () => {
  db = await openTestDb();
});
afterAll(() => db.$client.close());

async function both(projectId: string) {
  const rows = await db
    .select({ row: traces, json: traceJson })
    .from(traces)
    .where(eq(traces.projectId, projectId))
    .orderBy(asc(traces.seq));
  return rows.map(({ row, json }) => ({ api: toApiTrace(row), json }));
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: the API refuses control characters in these fields
const text = fc.string({ unit: 'binary', maxLength: 40 }).filter((s) => !/[\u0000-\u001f\u007f]/.test(s));

describe('trace JSON built by SQLite', () => {
  it('is byte for byte JSON.stringify(toApiTrace(row)) for a typical trace and all-null fields', async () => {
    const clock = manualClock();
    await recordTraces({ db, clock }, 'typical', [
      ReportedTraceSchema.parse(aTrace({ trace_id: 'a' })),
      ReportedTraceSchema.parse({
        trace_id: 'b',
        trace_name: 'login',
        trace_rating: 'normal',
        trace_type: 'SystemAction',
        service_type: 'IAM',
        resource_type: 'user',
        time: clock(),
      }),
    ]);
    for (const { api, json } of await both('typical')) expect(json).toBe(JSON.stringify(api));
  });

  it('parses to exactly the API trace for arbitrary values', async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          request: fc.option(fc.jsonValue({ maxDepth: 4 }), { nil: undefined }),
          response: fc.option(fc.jsonValue({ maxDepth: 4 }), { nil: undefined }),
          message: fc.option(fc.jsonValue({ maxDepth: 2 }), { nil: undefined }),
          resource_name: fc.option(text, { nil: null }),
          location_info: fc.option(text, { nil: undefined }),
          code: fc.oneof(fc.integer(), text),
          user: fc.option(fc.record({ name: text, domain: fc.record({ name: text }) }), { nil: null }),
        }),
        async (fields) => {
          const projectId = `p${++n}`;
          await recordTraces({ db, clock: manualClock() }, projectId, [
            ReportedTraceSchema.parse(aTrace({ trace_id: 't', ...fields })),
          ]);
          const [pair] = await both(projectId);
          expect(JSON.parse(pair!.json)).toEqual(pair!.api);
          expect(Object.keys(JSON.parse(pair!.json))).toEqual(Object.keys(pair!.api));
          // The transfer reads many traces as one newline-separated text (`traceJsonReader`).
          expect(pair!.json).not.toContain('\n');
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('transfer reader (traceJsonReader)', () => {
  it('returns each trace of a closed range once, in seq order, as exactly the API JSON', async () => {
    const clock = manualClock();
    const services = ['ECS', 'IAM', 'VPC'];
    await recordTraces(
      { db, clock },
      'reader',
      Array.from({ length: 11 }, (_, i) =>
        ReportedTraceSchema.parse(
          aTrace({
            trace_id: `r${i}`,
            service_type: services[i % 3],
            time: clock() - i * 1000,
            request: { note: `line one\nline two ${i}`, pretty: '{\n  "a": 1\n}' },
            user: { name: `Zoë 用户 ${i} 🚀`, domain: { name: 'acme' } },
          }),
        ),
      ),
    );
    await recordTraces({ db, clock }, 'reader-other', [ReportedTraceSchema.parse(aTrace({ trace_id: 'x' }))]);
    const expected = (await both('reader')).map(({ api }) => api);
    const seqs = (
      await db
        .select({ seq: traces.seq })
        .from(traces)
        .where(eq(traces.projectId, 'reader'))
        .orderBy(asc(traces.seq))
    ).map((r) => r.seq);

    // A range that leaves out the first and the last trace, read 4 at a time.
    const read = traceJsonReader(db, { projectId: 'reader', trackerName: 'system', toSeq: seqs.at(-2)! }, 4);
    const got = [];
    for (let after = seqs[0]!; ; ) {
      const chunk = await read(after);
      if (chunk.length === 0) break;
      expect(chunk.length).toBeLessThanOrEqual(4);
      got.push(...chunk);
      after = chunk.at(-1)!.seq;
    }
    expect(got.map((row) => row.seq)).toEqual(seqs.slice(1, -1));
    got.forEach((row, i) => {
      const api = expected[i + 1]!;
      expect(row.json).toBe(JSON.stringify(api));
      expect(row.serviceType).toBe(api.service_type);
      expect(row.time).toBe(api.time);
    });
  });
});
