import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { asc, eq } from 'drizzle-orm';
import { expect } from 'vitest';
import { toApiTrace } from '../../src/domain/traces/query';
import type { Trace } from '../../src/domain/traces/schema';
import type { Db } from '../../src/store/db';
import { traces, trackers, transferredFiles } from '../../src/store/schema';
import type { Bucket, BucketStore } from '../../src/transfer/bucket';
import { aTrace, type TestEnv } from './app';

let counter = 0;

/** Reports `count` traces through the API (as the reporter), in batches of 1000. */
export async function report(
  env: TestEnv,
  count: number,
  overrides: (i: number) => Record<string, unknown> = () => ({}),
) {
  const ids: string[] = [];
  for (let start = 0; start < count; start += 1000) {
    const batch = [];
    for (let i = start; i < Math.min(count, start + 1000); i++) {
      const traceId = `t-${++counter}`;
      ids.push(traceId);
      batch.push(aTrace({ trace_id: traceId, time: env.clock() - 60_000, ...overrides(i) }));
    }
    const res = await env.call('POST', `/v3/${env.projectId}/traces`, {
      key: env.keys.reporter,
      body: { traces: batch },
    });
    expect(res.status).toBe(201);
  }
  return ids;
}

/** Configures the `system` tracker through the API. */
export async function configureTracker(env: TestEnv, body: Record<string, unknown>) {
  const res = await env.call('PUT', `/v3/${env.projectId}/tracker`, {
    body: { tracker_type: 'system', tracker_name: 'system', ...body },
  });
  expect(res.status, await res.clone().text()).toBe(200);
}

export async function trackerRow(db: Db, projectId: string) {
  const [row] = await db.select().from(trackers).where(eq(trackers.projectId, projectId));
  return row!;
}

export async function fileRows(db: Db) {
  return db.select().from(transferredFiles).orderBy(asc(transferredFiles.id));
}

/** The stored traces in the API's shape, by trace_id. */
export async function storedTraces(db: Db): Promise<Map<string, Trace>> {
  const rows = await db.select().from(traces).orderBy(asc(traces.seq));
  return new Map(rows.map((row) => [row.traceId, toApiTrace(row)]));
}

export interface ArchivedObject {
  key: string;
  bytes: Uint8Array;
  contentType?: string;
  traces: Trace[];
}

/** Every object under `CloudTraces/`, decoded (gunzipped when `.json.gz`). */
export async function readArchive(bucket: Bucket): Promise<ArchivedObject[]> {
  const objects: ArchivedObject[] = [];
  for await (const { key } of bucket.list('CloudTraces/')) {
    const object = (await bucket.get(key))!;
    const json = key.endsWith('.gz') ? gunzipSync(object.body) : Buffer.from(object.body);
    objects.push({
      key,
      bytes: object.body,
      contentType: object.contentType,
      traces: JSON.parse(json.toString('utf8')),
    });
  }
  return objects;
}

/** Asserts that the archive holds exactly `expected` traces, each once, equal to what is stored. */
export function expectArchiveHolds(archive: ArchivedObject[], expected: Map<string, Trace>) {
  const seen = archive.flatMap((object) => object.traces);
  const ids = seen.map((trace) => trace.trace_id);
  expect(new Set(ids).size, 'no trace twice').toBe(ids.length);
  expect(ids.sort()).toEqual([...expected.keys()].sort());
  for (const trace of seen) expect(trace).toEqual(expected.get(trace.trace_id));
}

/** The key suffix computed independently of the code under test. */
export function expectedSuffix(projectId: string, trackerName: string, firstSeq: number, lastSeq: number) {
  return createHash('sha256')
    .update(`${projectId}\n${trackerName}\n${firstSeq}\n${lastSeq}`)
    .digest('hex')
    .slice(0, 16);
}

export const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** A database whose next `batch` calls fail, as if the process died right before committing. */
export function crashingBatches(db: Db, times = 1): Db {
  let left = times;
  return new Proxy(db, {
    get(target, prop, receiver) {
      if (prop === 'batch' && left > 0) {
        return async () => {
          left--;
          throw new Error('injected crash before the cursor commit');
        };
      }
      const value = Reflect.get(target, prop, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/** A bucket store whose uploads land and then fail (the answer is lost), `times` times. */
export function uploadsThenFails(store: BucketStore, times: number): BucketStore {
  let left = times;
  return {
    ...store,
    exists: (name) => store.exists(name),
    create: (name) => store.create(name),
    bucket(name) {
      const bucket = store.bucket(name);
      return {
        ...bucket,
        name,
        get: (key) => bucket.get(key),
        list: (prefix) => bucket.list(prefix),
        delete: (key) => bucket.delete(key),
        async put(key, body, options) {
          await bucket.put(key, body, options);
          if (left > 0) {
            left--;
            throw new Error('connection reset after the upload');
          }
        },
      };
    },
  };
}
