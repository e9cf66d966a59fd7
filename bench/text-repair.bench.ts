/**
 * What stored-text safety (issue 13) costs, each figure next to a baseline from the same run:
 * - the write-path guard: `wellFormedJsonText` over each insert payload, against the
 *   `JSON.stringify` that builds the payload anyway (1,000 realistic traces per batch);
 * - the startup repair of text left invalid by earlier versions: its first run checks every
 *   row of a table of BENCH_ROWS traces (a few of them bad), against one plain scan of the same
 *   table; a later start checks only the rows added since, which costs next to nothing.
 * Reads are not changed by the repair approach (no sanitising SQL on the read path).
 *
 *   npm run bench text-repair            BENCH_ROWS=500000 npm run bench text-repair
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../src/config';
import { createProject } from '../src/domain/projects/projects';
import { databaseDeps } from '../src/domain/shards/router';
import { wellFormedJsonText } from '../src/domain/text';
import { toTraceRow } from '../src/domain/traces/record';
import { migrateDb, openNodeDb } from '../src/runtime/node-db';
import { repairStoredText } from '../src/store/text-repair';
import { insertTraces } from '../src/store/trace-queries';
import { traceStream } from './lib/trace-data';

const ROWS = Number(process.env.BENCH_ROWS ?? 200_000);
const BATCH = 1_000;
const ms = (from: number) => performance.now() - from;
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

const dir = mkdtempSync(join(tmpdir(), 'cts-bench-text-'));
try {
  const db = await openNodeDb(parseConfig({ CTS_DATA_DIR: dir }));
  await migrateDb(db);
  const project = await createProject({ ...databaseDeps(db), clock: Date.now });
  const stream = traceStream(13, Date.now() - 86_400_000, 400);

  // Write path: the payload as built (stringify) vs the payload as built and guarded.
  const stringify: number[] = [];
  const guarded: number[] = [];
  for (let done = 0; done < ROWS; done += BATCH) {
    const rows = stream.take(BATCH).map((trace) => toTraceRow(project.id, trace, Date.now()));
    const arrays = rows.map((row) => Object.values(row));
    let start = performance.now();
    const text = JSON.stringify(arrays);
    stringify.push(ms(start));
    start = performance.now();
    const checked = wellFormedJsonText(text);
    guarded.push(ms(start));
    if (checked.length !== text.length) throw new Error('the guard changed a clean payload');
    await insertTraces(db, rows);
  }
  const guardMs = median(guarded);
  console.log(
    `write guard, ${BATCH}-trace batch: stringify ${median(stringify).toFixed(2)} ms, ` +
      `+ guard ${guardMs.toFixed(2)} ms (${((guardMs / median(stringify)) * 100).toFixed(1)} % of stringify)`,
  );

  // Earlier-version rows: a few with the bytes of a lone surrogate, as `->>` once stored them.
  await db.$client.execute({
    sql: `update traces set resource_name = cast(x'61edb08062' as text) where seq % 10000 = 7`,
    args: [],
  });
  await db.$client.execute("delete from maintenance where task = 'traces-utf8'");

  let start = performance.now();
  await db.$client.execute('select sum(length(resource_name)) + sum(length(request)) from traces');
  const scan = ms(start);
  start = performance.now();
  const repaired = await repairStoredText(db);
  const firstRun = ms(start);
  start = performance.now();
  await repairStoredText(db);
  const laterRun = ms(start);
  console.log(
    `startup repair of ${ROWS} rows (${repaired} repaired): plain scan ${scan.toFixed(0)} ms, ` +
      `first repair ${firstRun.toFixed(0)} ms (×${(firstRun / scan).toFixed(2)} the scan), ` +
      `later starts ${laterRun.toFixed(1)} ms`,
  );
  db.$client.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
