/**
 * The bad-input corpus (issue 8): ≥ 10,000 generated hostile requests against every endpoint
 * the OpenAPI document declares, in-process. Every one must get a 4xx CTS error body — never a
 * 5xx, an HTML page or a plain-text error — and, checked with ajv, a status and body that
 * /openapi.json declares for the operation; and the stored data must not change. Odd but valid
 * traces (unicode edge cases, injections as data, deep JSON) that are accepted must come back
 * exactly as sent. Replay with `CTS_PROVE_SEED=<seed>`; `CTS_PROVE_LONG=1` sends 100,000.
 */
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { createApiKey, createProject } from '../../src/domain/projects/projects';
import { makeTestEnv } from '../helpers/app';
import { contractOf } from './helpers/contract';
import { type CorpusContext, corpusCells, type HostileRequest } from './helpers/corpus';
import { ctsErrorProblem, excerpt, snapshotTables } from './helpers/cts';
import { type OpenApiDocument, SAMPLES } from './helpers/endpoints';
import { expectedApiTrace, oddTraces, type SentTrace } from './helpers/odd-traces';
import { proveLong, seedFromEnv } from './helpers/prng';

const TOTAL = proveLong() ? 100_000 : 12_000;
const SEED = seedFromEnv(20_261_124);

// Background work (notification deliveries) is collected so that the snapshot waits for it.
const background: Promise<unknown>[] = [];
const env = await makeTestEnv({ deps: { waitUntil: (work) => void background.push(work.catch(() => {})) } });
afterAll(() => env.close());
const now = env.clock();
const doc = (await (await env.call('GET', '/openapi.json', { key: null })).json()) as OpenApiDocument;
const contract = contractOf(doc);
const other = await createProject(env.deps, { name: 'other' });
const otherProjectKey = (await createApiKey(env.deps, { projectId: other.id, role: 'admin' })).token;

// Something in every table an endpoint can write, so that "unchanged" means something.
const seeded = await env.call('POST', `/v3/${env.projectId}/traces`, {
  body: SAMPLES['POST /v3/{project_id}/traces']!({ projectId: env.projectId, now, traceId: '' }).body,
});
const seededTraceId = ((await seeded.json()) as { trace_ids: string[] }).trace_ids[0]!;
let notificationId: string | undefined;
if (doc.paths['/v3/{project_id}/notifications']?.post) {
  const res = await env.call('POST', `/v3/${env.projectId}/notifications`, {
    body: SAMPLES['POST /v3/{project_id}/notifications']!({ projectId: env.projectId, now, traceId: '' })
      .body,
  });
  notificationId = ((await res.json()) as { notification_id?: string }).notification_id;
}

await Promise.all(background);

const ctx: CorpusContext = {
  doc,
  sample: { projectId: env.projectId, now, traceId: seededTraceId, notificationId },
  keys: env.keys,
  otherProjectKey,
};
const cells = corpusCells(ctx);
const totalWeight = cells.reduce((sum, cell) => sum + cell.weight, 0);
let sent = 0;

async function expectRejected(request: HostileRequest): Promise<void> {
  sent++;
  const init: RequestInit = { method: request.method, headers: request.headers };
  if (request.body !== undefined) init.body = request.body as BodyInit;
  let res: Response;
  try {
    res = await env.app.request(request.path, init);
  } catch (error) {
    throw new Error(`${describeRequest(request)} threw ${String(error)}`);
  }
  const text = await res.text();
  const problem =
    res.status >= 400 && res.status < 500
      ? ctsErrorProblem(res.status, res.headers.get('content-type'), text)
      : `status ${res.status}, expected 4xx`;
  // The answer must also be what /openapi.json declares for the operation (issue 13).
  const breach = problem ?? contract.responseProblem(request.method, request.path, res.status, text);
  if (breach) {
    throw new Error(`${describeRequest(request)}\n  → ${res.status} ${excerpt(text)}\n  ${breach}`);
  }
}

function describeRequest(request: HostileRequest): string {
  return (
    `[${request.category}] ${request.method} ${excerpt(request.path, 200)} ` +
    `headers ${excerpt(request.headers, 200)} body ${excerpt(request.body, 200)}`
  );
}

const before = await snapshotTables(env.deps.db.$client);

describe(`bad-input corpus (${TOTAL} requests, seed ${SEED})`, () => {
  cells.forEach((cell, index) => {
    const runs = Math.max(20, Math.ceil((TOTAL * cell.weight) / totalWeight));
    it(`${cell.name}: ${runs} requests, each a 4xx CTS error`, async () => {
      await fc.assert(fc.asyncProperty(cell.arbitrary, expectRejected), {
        numRuns: runs,
        seed: SEED + index,
        // A failure is reported with its smallest reproduction; a few hundred steps find it.
        endOnFailure: false,
        maxSkipsPerRun: 1000,
      });
    });
  });

  it('sent at least 10,000 hostile requests and changed no stored row', async () => {
    await Promise.all(background);
    expect(sent).toBeGreaterThanOrEqual(10_000);
    expect(await snapshotTables(env.deps.db.$client)).toEqual(before);
  });
});

describe('odd but valid traces round-trip exactly', () => {
  it('stores each accepted trace once and returns every field as sent', async () => {
    const countTraces = async () => {
      const result = await env.deps.db.$client.execute({
        sql: 'SELECT count(*) AS n FROM traces WHERE project_id = ?',
        args: [env.projectId],
      });
      return Number(result.rows[0]!.n);
    };
    const stored = await countTraces();
    const accepted: SentTrace[] = [];
    let oddCounter = 0;
    let rejected = 0;
    await fc.assert(
      fc.asyncProperty(oddTraces(now), async (generated) => {
        // Ids are handed out here, not generated, so that shrinking never re-sends a stored id.
        const batch = generated.map((trace) => ({ ...trace, trace_id: `odd-${++oddCounter}` }));
        const res = await env.call('POST', `/v3/${env.projectId}/traces`, {
          key: env.keys.reporter,
          body: JSON.stringify({ traces: batch }),
        });
        const text = await res.text();
        if (res.status !== 201) {
          const problem =
            res.status >= 400 && res.status < 500
              ? ctsErrorProblem(res.status, res.headers.get('content-type'), text)
              : `status ${res.status}`;
          if (problem)
            throw new Error(`batch ${excerpt(batch, 500)} → ${res.status} ${excerpt(text)}: ${problem}`);
          rejected++;
          return;
        }
        for (const trace of batch) {
          const query = await env.call('GET', `/v3/${env.projectId}/traces?trace_id=${trace.trace_id}`, {
            key: env.keys.reader,
          });
          const page = (await query.json()) as { traces: unknown[] };
          expect(page.traces, `trace ${trace.trace_id}`).toHaveLength(1);
          const { record_time, ...stored } = page.traces[0] as Record<string, unknown>;
          expect(typeof record_time).toBe('number');
          expect(stored, `trace sent as ${excerpt(trace, 2000)}`).toEqual(expectedApiTrace(trace));
          accepted.push(trace);
        }
      }),
      { numRuns: proveLong() ? 3000 : 300, seed: SEED },
    );
    // The generator makes valid traces: nearly all of them must be accepted.
    expect(accepted.length).toBeGreaterThan(rejected * 4);
    expect(await countTraces()).toBe(stored + accepted.length);
  });
});
