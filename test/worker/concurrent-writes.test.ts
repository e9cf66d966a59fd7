/**
 * Many requests writing at once in the built Worker (workerd) against a real libSQL server: the
 * isolate's writes go to `sqld` one group at a time (store/write-queue.ts). Sixteen concurrent
 * writers once made `sqld` stop answering all of them, and the Worker with them (ADR 0005).
 * An HTTP proxy between the Worker and `sqld` counts the trace inserts in flight.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from '@libsql/client';
import type { Miniflare } from 'miniflare';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { aTrace } from '../helpers/app';
import { type SqldServer, startSqld } from '../helpers/sqld';
import { buildWorker, runCli, startWorkers } from '../helpers/worker';

const PROJECT = '5e0c0de0000000000000000000000c16';
const TOKEN = 'worker-writers-admin-token-0123456789';
const CLIENTS = 16;
const REPORTS = 20;
/** A report unanswered after this long counts as hung (the Worker used to hang for good). */
const ANSWER_MS = 15_000;

let outdir: string;
let sqld: SqldServer;
let proxy: CountingProxy;
let mf: Miniflare;

interface CountingProxy {
  url: string;
  /** Trace inserts forwarded, and the most of them in flight at once. */
  inserts: number;
  mostInFlight: number;
  /** Holds the next trace insert until `release` is called; `held` resolves once it has arrived. */
  holdNextInsert(): { held: Promise<void>; release(): void };
  close(): Promise<void>;
}

/** Forwards every request to `target` (Hrana over HTTP), counting the ones that insert traces. */
async function startCountingProxy(target: string): Promise<CountingProxy> {
  let inFlight = 0;
  let hold: { arrived(): void; released: Promise<void> } | undefined;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', async () => {
      const body = Buffer.concat(chunks);
      const insert = /insert into traces/i.test(body.toString());
      if (insert) {
        counting.inserts++;
        counting.mostInFlight = Math.max(counting.mostInFlight, ++inFlight);
      }
      try {
        if (insert && hold) {
          const { arrived, released } = hold;
          hold = undefined;
          arrived();
          await released;
        }
        const answer = await fetch(`${target}${req.url}`, {
          method: req.method,
          headers: { 'content-type': req.headers['content-type'] ?? 'application/json' },
          body: body.length > 0 ? body : undefined,
        });
        const text = Buffer.from(await answer.arrayBuffer());
        res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'text/plain' });
        res.end(text);
      } catch {
        res.writeHead(502).end();
      } finally {
        if (insert) inFlight--;
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const counting: CountingProxy = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    inserts: 0,
    mostInFlight: 0,
    holdNextInsert() {
      let arrived = () => {};
      let release = () => {};
      const held = new Promise<void>((resolve) => {
        arrived = resolve;
      });
      hold = { arrived, released: new Promise<void>((resolve) => (release = resolve)) };
      return { held, release };
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return counting;
}

beforeAll(async () => {
  outdir = mkdtempSync(join(tmpdir(), 'cts-worker-writers-'));
  let bundle: string;
  [bundle, sqld] = await Promise.all([buildWorker(outdir), startSqld()]);
  await runCli(['migrate'], { CTS_DATABASE_URL: sqld.url });
  proxy = await startCountingProxy(sqld.url);
  mf = startWorkers(
    bundle,
    { cts: { CTS_DATABASE_URL: proxy.url, CTS_ADMIN_TOKEN: TOKEN, CTS_PROJECT_ID: PROJECT } },
    () => {},
  );
  await mf.ready;
}, 120_000);

afterAll(async () => {
  await mf?.dispose();
  await Promise.all([proxy?.close(), sqld?.stop()]);
  rmSync(outdir, { recursive: true, force: true });
});

/** The trace ids stored for the project that are `like` the pattern, in order. */
async function storedIds(like: string): Promise<string[]> {
  const client = createClient({ url: sqld.url });
  try {
    const stored = await client.execute({
      sql: 'select trace_id from traces where project_id = ? and trace_id like ? order by trace_id',
      args: [PROJECT, like],
    });
    return stored.rows.map((row) => String(row.trace_id));
  } finally {
    client.close();
  }
}

/** One single-trace report's status, or 'no answer' after ANSWER_MS. */
async function report(traceId: string): Promise<number | 'no answer'> {
  const worker = await mf.getWorker('cts');
  let timer: ReturnType<typeof setTimeout> | undefined;
  const silent = new Promise<'no answer'>((resolve) => {
    timer = setTimeout(() => resolve('no answer'), ANSWER_MS);
  });
  const answered = worker
    .fetch(`http://cts.test/v3/${PROJECT}/traces`, {
      method: 'POST',
      headers: { 'X-Auth-Token': TOKEN, 'Content-Type': 'application/json' },
      body: JSON.stringify({ traces: [aTrace({ trace_id: traceId })] }),
    })
    .then(async (res) => {
      await res.arrayBuffer();
      return res.status;
    });
  try {
    return await Promise.race([answered, silent]);
  } finally {
    clearTimeout(timer);
  }
}

it('answers 16 clients reporting one trace a call, and sends sqld one trace insert at a time', async () => {
  const ids = Array.from({ length: CLIENTS }, (_, c) =>
    Array.from(
      { length: REPORTS },
      (_, i) => `writer-${String(c).padStart(2, '0')}-${String(i).padStart(2, '0')}`,
    ),
  );
  // Each client reports its traces one after the other, all clients at once.
  const statuses = await Promise.all(
    ids.map(async (own) => {
      const seen: Array<number | 'no answer'> = [];
      for (const id of own) seen.push(await report(id));
      return seen;
    }),
  );
  expect(statuses.flat().filter((status) => status !== 201)).toEqual([]);

  expect(await storedIds('writer-%')).toEqual(ids.flat().sort());
  expect(proxy.mostInFlight).toBe(1);
  // Reports that arrived while a group was being written went together in the next one.
  expect(proxy.inserts).toBeLessThan(CLIENTS * REPORTS);
}, 120_000);

it('stores and answers the writes queued behind a request whose client went away', async () => {
  const { held, release } = proxy.holdNextInsert();
  // Over a real connection to workerd, which the client then closes.
  const abort = new AbortController();
  const leader = fetch(`${await mf.ready}v3/${PROJECT}/traces`, {
    method: 'POST',
    headers: { 'X-Auth-Token': TOKEN, 'Content-Type': 'application/json' },
    body: JSON.stringify({ traces: [aTrace({ trace_id: 'gone-leader' })] }),
    signal: abort.signal,
  }).then(
    (res) => res.status,
    () => 'aborted',
  );
  await held; // its group is at sqld, held there
  const followers = ['gone-f1', 'gone-f2', 'gone-f3'].map((id) => report(id));
  await new Promise((resolve) => setTimeout(resolve, 300)); // they are queued behind it
  abort.abort(); // the leader's client goes away
  await new Promise((resolve) => setTimeout(resolve, 300));
  release();
  expect(await Promise.all(followers)).toEqual([201, 201, 201]);
  expect(await leader).toBe('aborted');
  // Its group went on: the leader's trace is stored too. (Local workerd did not cancel the request
  // when its client went away, with or without the queue's waitUntil; Cloudflare documents that it
  // does, except for work under waitUntil — hence the queue's.)
  expect(await storedIds('gone-%')).toEqual(['gone-f1', 'gone-f2', 'gone-f3', 'gone-leader']);
}, 60_000);
