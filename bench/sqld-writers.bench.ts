/**
 * Concurrent writers against `sqld` over HTTP, without our code: the reproduction behind the
 * Worker's stall under 16 single-trace clients (ADR 0005, "Figures"). For each statement shape,
 * 16 clients of one `@libsql/client` write for 15 s; a call unanswered after 10 s counts as
 * stalled. The first shape, the simplest write there is, is the reference for the others: in the
 * runs of issue 16 every shape stalled in some runs and not in others, that one included.
 *
 *   npm run bench sqld-writers
 */
import { createClient } from '@libsql/client';
import { startSqld } from '../test/helpers/sqld';

const CLIENTS = 16;
const SECONDS = Number(process.env.BENCH_SQLD_SECONDS ?? 15);
const STALL_MS = 10_000;

type Call = (client: ReturnType<typeof createClient>, n: number) => Promise<unknown>;

const SHAPES: Array<[string, Call]> = [
  ['execute: insert (v) values (constant)  [reference]', (c) => c.execute("insert into t (v) values ('x')")],
  [
    'execute: insert (k, v) values (?, …), k unique',
    (c, n) => c.execute({ sql: "insert into t (k, v) values (?, 'x')", args: [`k${n}`] }),
  ],
  [
    'execute: insert … select … from json_each(?) … returning',
    (c, n) =>
      c.execute({
        sql: 'insert into t (k, v) select value ->> 0, value ->> 1 from json_each(?) where true on conflict do nothing returning k',
        args: [JSON.stringify([[`k${n}`, 'x'.repeat(500)]])],
      }),
  ],
  [
    'batch (BEGIN DEFERRED … COMMIT): one insert',
    (c, n) => c.batch([{ sql: "insert into t (k, v) values (?, 'x')", args: [`k${n}`] }], 'deferred'),
  ],
];

const timeout = () =>
  new Promise<'stalled'>((resolve) => {
    setTimeout(() => resolve('stalled'), STALL_MS).unref();
  });

console.log(
  `${CLIENTS} clients writing to one sqld over HTTP for ${SECONDS} s per shape; a call unanswered after ${STALL_MS / 1000} s counts as stalled`,
);
for (const [name, call] of SHAPES) {
  const sqld = await startSqld();
  const client = createClient({ url: sqld.url });
  try {
    await client.execute('create table t (id integer primary key autoincrement, k text unique, v text)');
    let next = 0;
    const end = Date.now() + SECONDS * 1000;
    const perClient = await Promise.all(
      Array.from({ length: CLIENTS }, async () => {
        const counts = { answered: 0, refused: 0, stalled: 0 };
        while (Date.now() < end) {
          const outcome = await Promise.race([
            call(client, next++).then(
              () => 'answered' as const,
              () => 'refused' as const, // SQLITE_BUSY and the like: an answer, not a stall
            ),
            timeout(),
          ]);
          counts[outcome]++;
        }
        return counts;
      }),
    );
    // Summed once every client has finished (no shared counter across awaits).
    const total = (key: 'answered' | 'refused' | 'stalled') => perClient.reduce((sum, c) => sum + c[key], 0);
    console.log(
      `${name.padEnd(58)} ${String(total('answered')).padStart(6)} answered  ${String(total('refused')).padStart(4)} refused  ${String(total('stalled')).padStart(3)} stalled`,
    );
  } finally {
    client.close();
    await sqld.stop();
  }
}
