/**
 * Child process of `bench/traces.bench.ts`: the HTTP clients, in their own process so that the
 * server's single thread is what is measured.
 *
 *   batch  URL PROJECT KEY COUNT CLIENTS     report COUNT traces, 1,000 per call, CLIENTS at a time
 *   single URL PROJECT KEY SECONDS CLIENTS   report one trace per call for SECONDS
 *   health URL SECONDS CLIENTS               GET /health for SECONDS (the HTTP ceiling)
 *   query  URL PROJECT KEY SAMPLES.json      query latency per filter; writes the samples it used
 *
 * Prints one JSON line with the result.
 */
import { writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import type { Trace } from '../../src/domain/traces/schema';
import { traceStream } from './trace-data';
import { percentile, type QuerySample } from './traces-common';

const [mode = '', url = '', ...rest] = process.argv.slice(2);
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** How long a request may wait in silence before the client gives up on it (and counts it). */
const ANSWER_TIMEOUT_MS = 30_000;

/**
 * One keep-alive connection pool for every mode, so that health and reports cost the client the
 * same. `fetch` (undici) cost the client 3–5× the server's CPU per request, and more for a POST
 * than for a GET: measured on 2 cores, it was the client, not the server, that set the ratio.
 */
const agent = new Agent({ keepAlive: true });

interface Answer {
  status: number;
  text: string;
}

/** A request's full answer; undefined when it stayed silent for ANSWER_TIMEOUT_MS. */
function send(method: string, path: string, key?: string, body?: string): Promise<Answer | undefined> {
  const headers: Record<string, string | number> = {};
  if (key) headers['X-Auth-Token'] = key;
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    headers['Content-Length'] = Buffer.byteLength(body);
  }
  return new Promise((resolve, reject) => {
    const req = request(`${url}${path}`, { method, headers, agent, timeout: ANSWER_TIMEOUT_MS }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.on('timeout', () => {
      req.destroy();
      resolve(undefined);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** The number of traces a report stored; undefined when it got no answer (the caller counts it). */
async function report(projectId: string, key: string, body: string): Promise<number | undefined> {
  const path = `/v3/${projectId}/traces`;
  const answer = await send('POST', path, key, body);
  if (!answer) return undefined;
  if (answer.status !== 201) throw new Error(`POST ${path}: ${answer.status} ${answer.text}`);
  return (JSON.parse(answer.text) as { recorded: number }).recorded;
}

async function batch(projectId: string, key: string, count: number, clients: number) {
  // Steps are random (mean `stepMs`): a margin of hours keeps a small run's last traces in the past.
  const stream = traceStream(11, Date.now() - 7 * DAY + HOUR, Math.floor((7 * DAY - 5 * HOUR) / count));
  // The bodies are made before the clock starts, as the raw insert's rows are (and the single-trace
  // client's bodies): generating realistic traces is the client's work, not the server's, and on a
  // 2-core machine it took CPU from the server in the middle of the measurement.
  const bodies: Array<{ body: string; traces: number }> = [];
  for (let made = 0; made < count; made += 1000) {
    const n = Math.min(1000, count - made);
    bodies.push({ body: JSON.stringify({ traces: stream.take(n) }), traces: n });
  }
  let next = 0;
  let recorded = 0;
  // Traces of reports that got no answer: the server may or may not have stored them.
  let unanswered = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (next < bodies.length) {
        const { body, traces: n } = bodies[next++]!;
        // Awaited first, then added: adding the awaited value in one expression would read
        // `recorded` before the await and overwrite what concurrent clients added meanwhile.
        const stored = await report(projectId, key, body);
        if (stored === undefined) unanswered += n;
        else recorded += stored;
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  return { tracesPerSecond: Math.round(recorded / seconds), recorded, seconds, unanswered };
}

/** Runs `call` from `clients` loops for `seconds`; returns completed calls per second. */
async function forSeconds(seconds: number, clients: number, call: () => Promise<void>) {
  let calls = 0;
  const started = performance.now();
  const end = started + seconds * 1000;
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (performance.now() < end) {
        await call();
        calls++;
      }
    }),
  );
  return { perSecond: Math.round(calls / ((performance.now() - started) / 1000)) };
}

/** Distinct single-trace bodies, made before the clock starts and used in turn (the server ids them). */
const SINGLE_BODIES = 20_000;

async function single(projectId: string, key: string, seconds: number, clients: number) {
  // Generating a realistic trace costs the client more than the server's whole HTTP layer costs per
  // request: made in the loop, it was the client, not the server, that set the rate.
  const stream = traceStream(12, Date.now() - 60_000, 0);
  const bodies = Array.from({ length: SINGLE_BODIES }, () => JSON.stringify({ traces: stream.take(1) }));
  let next = 0;
  let recorded = 0;
  let unanswered = 0;
  const rate = await forSeconds(seconds, clients, async () => {
    const stored = await report(projectId, key, bodies[next++ % SINGLE_BODIES]!);
    if (stored === undefined) unanswered++;
    else recorded += stored;
  });
  return { ...rate, recorded, unanswered };
}

async function health(seconds: number, clients: number) {
  return forSeconds(seconds, clients, async () => {
    await get('/health');
  });
}

/** A GET whose body has fully arrived (not parsed: the latency is the server's, not ours). */
async function get(path: string, key?: string): Promise<string> {
  const answer = await send('GET', path, key);
  if (answer?.status !== 200)
    throw new Error(`GET ${path}: ${answer?.status ?? 'no answer'} ${answer?.text}`);
  return answer.text;
}

/** Filter values of a trace, by query parameter name. */
function valuesOf(trace: Trace): Record<string, string | null> {
  return {
    tracker_name: 'system',
    service_type: trace.service_type,
    user: trace.user?.name ?? null,
    resource_id: trace.resource_id,
    resource_name: trace.resource_name,
    resource_type: trace.resource_type,
    trace_name: trace.trace_name,
    trace_rating: trace.trace_rating,
    source_ip: trace.source_ip,
    code: trace.code,
    request_id: trace.request_id,
  };
}

const SPECS: string[][] = [
  [],
  ...Object.keys(valuesOf({} as Trace)).map((name) => [name]),
  ['service_type', 'trace_rating'],
  ['resource_type', 'code'],
  ['user', 'service_type'],
];
const ABSENT: Record<string, string> = { trace_rating: 'incident' };
const SAMPLES = 200;
const ABSENT_SAMPLES = 20;
const LIMIT = 200;

async function query(projectId: string, key: string, samplesFile: string) {
  // Stored traces picked at random instants of the 7 days: their values are as frequent in the
  // samples as in the data (a busy user is queried more often, as in real use).
  const now = Date.now();
  const picked: Trace[] = [];
  while (picked.length < SAMPLES) {
    const at = Math.floor(now - 7 * DAY + HOUR + Math.random() * (7 * DAY - 2 * HOUR));
    const page = JSON.parse(await get(`/v3/${projectId}/traces?from=${at}&to=${at + 60_000}&limit=1`, key));
    if (page.traces[0]) picked.push(page.traces[0] as Trace);
  }
  const samples: QuerySample[] = [];
  const times = new Map<string, number[]>();
  for (const spec of SPECS) {
    const name = spec.length === 0 ? '(none)' : spec.join('+');
    const cases: Array<{ equals: Record<string, string>; absent: boolean }> = [];
    for (const trace of picked) {
      const values = valuesOf(trace);
      if (spec.some((f) => values[f] === null)) continue;
      cases.push({ equals: Object.fromEntries(spec.map((f) => [f, values[f]!])), absent: false });
    }
    if (spec.length === 1) {
      for (let i = 0; i < ABSENT_SAMPLES; i++) {
        cases.push({
          equals: { [spec[0]!]: ABSENT[spec[0]!] ?? `absent-${i}` },
          absent: spec[0] !== 'trace_rating',
        });
      }
    }
    for (const window of ['7 days', 'last hour'] as const) {
      for (const { equals, absent } of cases) {
        const to = Date.now();
        const from = window === '7 days' ? to - 7 * DAY : to - HOUR;
        const params = new URLSearchParams({ ...equals, limit: String(LIMIT) });
        if (window === '7 days') {
          params.set('from', String(from));
          params.set('to', String(to));
        }
        const started = performance.now();
        await get(`/v3/${projectId}/traces?${params}`, key);
        const ms = performance.now() - started;
        const bucket = `${name}|${window}|${absent ? 'absent' : 'present'}`;
        times.set(bucket, [...(times.get(bucket) ?? []), ms]);
        samples.push({ name, window, absent, from, to, limit: LIMIT, equals });
      }
    }
  }
  writeFileSync(samplesFile, JSON.stringify({ projectId, samples }));
  return Object.fromEntries(
    [...times].map(([bucket, ms]) => [
      bucket,
      { p50: percentile(ms, 50), p95: percentile(ms, 95), n: ms.length },
    ]),
  );
}

const [a = '', b = '', c = '', d = ''] = rest;
const result =
  mode === 'batch'
    ? await batch(a, b, Number(c), Number(d))
    : mode === 'single'
      ? await single(a, b, Number(c), Number(d))
      : mode === 'health'
        ? await health(Number(a), Number(b))
        : mode === 'query'
          ? await query(a, b, c)
          : undefined;
agent.destroy();
if (!result) throw new Error(`unknown mode ${mode}`);
console.log(JSON.stringify(result));
