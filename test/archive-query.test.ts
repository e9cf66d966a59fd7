import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Trace } from '../src/domain/traces/schema';
import { archiveQueryCommand } from '../src/runtime/archive-command';
import { traces as tracesTable } from '../src/store/schema';
import type { BucketStore } from '../src/transfer/bucket';
import { createS3BucketStore } from '../src/transfer/s3-bucket';
import type { TestEnv } from './helpers/app';
import { type S3rverHandle, startS3rver } from './helpers/s3rver';
import { configureTracker, report } from './helpers/transfer';
import {
  type Archive,
  archiveEnv,
  at,
  digestKeyAt,
  iso,
  restoreBucket,
  runJobs,
  saveKeys,
  snapshotBucket,
} from './helpers/verify';

const run = promisify(execFile);
const DAY = 24 * 3_600_000;
const NOW = at(6, 30);
const OLD = at(-72); // three days before the archive starts

let s3: S3rverHandle;
beforeAll(async () => {
  s3 = await startS3rver();
});
afterAll(async () => {
  await s3?.stop();
});

interface Query {
  code: number;
  stdout: string;
  lines: string[];
  stderr: string[];
  traces: Trace[];
}

/** `cts archive query` in-process (the CLI's own command function), collecting stdout and stderr. */
async function archiveQuery(archive: Archive, flags: Record<string, string | boolean>): Promise<Query> {
  let stdout = '';
  const stderr: string[] = [];
  const code = await archiveQueryCommand(
    { project: archive.env.projectId, 'public-key': archive.keysFile, now: iso(NOW), ...flags },
    {
      out: () => undefined,
      err: (line) => stderr.push(line),
      records: {
        write: (text) => {
          stdout += text;
        },
      },
    },
    archive.settings,
  );
  const lines = stdout.split('\n').filter((line) => line !== '');
  const traces =
    flags.format === undefined || flags.format === 'ndjson' ? lines.map((l) => JSON.parse(l)) : [];
  return { code, stdout, lines, stderr, traces };
}

/** Every trace the live API returns for a query (all pages), by trace_id. */
async function apiTraces(env: TestEnv, query: Record<string, string>): Promise<Map<string, Trace>> {
  const found = new Map<string, Trace>();
  let next: string | undefined;
  do {
    const params = new URLSearchParams({ limit: '200', ...query, ...(next ? { next } : {}) });
    const res = await env.call('GET', `/v3/${env.projectId}/traces?${params}`, { key: env.keys.reader });
    expect(res.status).toBe(200);
    const page = await res.json();
    for (const trace of page.traces) found.set(trace.trace_id, trace);
    next = page.meta_data.marker ?? undefined;
  } while (next);
  return found;
}

/**
 * An archive made by the jobs: each hour from 12 to 17, three traces of the moment (alice creates
 * a server, bob is refused deleting a volume, a resource named like a spreadsheet formula) and one
 * that happened three days earlier and is reported only now.
 */
async function buildQueryArchive(options: {
  buckets?: BucketStore;
  s3Settings?: Record<string, string>;
  bucket: string;
}) {
  const { env, settings, dir } = await archiveEnv(options);
  env.clock.set(at(0));
  await configureTracker(env, {
    obs_info: { bucket_name: options.bucket, is_obs_created: true, file_prefix_name: 'acme' },
    is_support_validate: true,
  });
  await runJobs(env, at(0, 5));
  for (let hour = 0; hour < 6; hour++) {
    env.clock.set(at(hour, 10));
    await report(
      env,
      3,
      (i) =>
        [
          { time: at(hour, 9), request_id: `req-${hour}-a` },
          {
            time: at(hour, 8),
            trace_name: 'deleteVolume',
            service_type: 'EVS',
            resource_type: 'evs',
            resource_id: `vol-${hour}`,
            trace_rating: 'warning',
            code: 403,
            source_ip: '2001:db8::1',
            user: { id: 'u2', name: 'bob' },
            request_id: `req-${hour}-b`,
          },
          {
            time: at(hour, 7),
            resource_name: '=HYPERLINK("http://x")',
            request_id: `req-${hour}-c`,
            user: null,
            // A nested object that looks like the start of a trace: the file cannot be cut there.
            request: [{ a: 1 }, { trace_id: 'nested', text: '},{"trace_id":"x"}' }],
          },
        ][i]!,
    );
    await runJobs(env, at(hour, 10));
    env.clock.set(at(hour, 40));
    await report(env, 1, () => ({
      time: OLD + hour * 3_600_000,
      trace_name: 'stopServer',
      request_id: `old-${hour}`,
    }));
    await runJobs(env, at(hour, 40));
  }
  await runJobs(env, at(6, 10));
  env.clock.set(NOW);
  return { env, bucket: options.bucket, settings, keysFile: await saveKeys(env, dir) } satisfies Archive;
}

describe.each([
  ['filesystem', () => ({})],
  [
    's3rver',
    () => ({ buckets: createS3BucketStore({ ...s3, forcePathStyle: true }), s3Settings: s3.config }),
  ],
] as Array<[string, () => { buckets?: BucketStore; s3Settings?: Record<string, string> }]>)(
  'cts archive query on a %s archive',
  (kind, storeOf) => {
    let archive: Archive;
    const range = { from: iso(OLD - DAY), to: iso(NOW) };
    beforeAll(async () => {
      archive = await buildQueryArchive({ ...storeOf(), bucket: `query-${kind === 's3rver' ? 's3' : 'fs'}` });
    });
    afterAll(() => archive?.env.close());

    it('answers like the live API, in its shape, and proves the answer complete', async () => {
      const result = await archiveQuery(archive, { bucket: archive.bucket, ...range });
      const expected = await apiTraces(archive.env, { from: String(OLD - DAY), to: String(NOW) });
      expect(expected.size).toBeGreaterThanOrEqual(24);
      expect(result.traces.map((t) => t.trace_id).sort()).toEqual([...expected.keys()].sort());
      for (const trace of result.traces) expect(trace).toEqual(expected.get(trace.trace_id));
      expect(result.stderr.at(-1)).toMatch(/^\d+ traces matched \(.*\): proven complete$/);
      expect(result.code).toBe(0);
    });

    it.each([
      [{ 'service-type': 'EVS' }, { service_type: 'EVS' }],
      [{ user: 'bob' }, { user: 'bob' }],
      [
        { code: '403', 'source-ip': '2001:db8::1' },
        { code: '403', source_ip: '2001:db8::1' },
      ],
      [
        { 'trace-rating': 'warning', 'resource-type': 'evs' },
        { trace_rating: 'warning', resource_type: 'evs' },
      ],
      [
        { 'trace-name': 'stopServer', 'resource-id': 'srv-1' },
        { trace_name: 'stopServer', resource_id: 'srv-1' },
      ],
      [{ 'resource-name': '=HYPERLINK("http://x")' }, { resource_name: '=HYPERLINK("http://x")' }],
      [{ 'request-id': 'req-3-b' }, { request_id: 'req-3-b' }],
    ])('filters exactly like the API: %o', async (flags, query) => {
      const result = await archiveQuery(archive, { bucket: archive.bucket, ...range, ...flags });
      const expected = await apiTraces(archive.env, { from: String(OLD - DAY), to: String(NOW), ...query });
      expect(expected.size).toBeGreaterThan(0);
      expect(result.traces.map((t) => t.trace_id).sort()).toEqual([...expected.keys()].sort());
    });

    it('filters by trace id', async () => {
      const [one] = (
        await archiveQuery(archive, { bucket: archive.bucket, ...range, 'request-id': 'req-2-a' })
      ).traces;
      const result = await archiveQuery(archive, {
        bucket: archive.bucket,
        ...range,
        'trace-id': one!.trace_id,
      });
      expect(result.traces).toEqual([one]);
    });

    it('finds traces archived days after they happened, reading only the files that can hold them', async () => {
      const result = await archiveQuery(archive, {
        bucket: archive.bucket,
        from: iso(OLD - 60_000),
        to: iso(OLD + 6 * 3_600_000),
      });
      expect(result.traces.map((t) => t.request_id).sort()).toEqual(
        [0, 1, 2, 3, 4, 5].map((h) => `old-${h}`),
      );
      // 6 files hold them (one per :40 transfer); the 12 others (ECS/EVS at :10, and the CTS
      // audit file of the tracker change) are skipped by the trace times the digests record.
      expect(result.stderr.at(-1)).toMatch(
        /^6 traces matched \(6 read from 6 files; 13 files skipped by their recorded trace times\): proven complete$/,
      );
    });

    it('writes formula-safe CSV with a header', async () => {
      const csv = await archiveQuery(archive, { bucket: archive.bucket, ...range, format: 'csv' });
      const rows: Record<string, string>[] = parse(csv.stdout, { columns: true, bom: true });
      const ndjson = await archiveQuery(archive, { bucket: archive.bucket, ...range });
      expect(rows).toHaveLength(ndjson.traces.length);
      const formula = rows.filter((row) => row.resource_name?.includes('HYPERLINK'));
      expect(formula).toHaveLength(6);
      for (const row of formula) expect(row.resource_name).toBe(`'=HYPERLINK("http://x")`);
      const empty = await archiveQuery(archive, {
        bucket: archive.bucket,
        ...range,
        format: 'csv',
        user: 'nobody',
      });
      expect(parse(empty.stdout, { bom: true })).toEqual([expect.arrayContaining(['trace_id', 'time'])]);
    });
  },
);

describe('cts archive query: OCSF, proof, retention, the real CLI', () => {
  let archive: Archive;
  const range = { from: iso(OLD - DAY), to: iso(NOW) };
  beforeAll(async () => {
    archive = await buildQueryArchive({ bucket: 'query-more' });
  });
  afterAll(() => archive?.env.close());

  it('prints OCSF 1.x API Activity events that validate against the class schema', async () => {
    const schema = JSON.parse(
      readFileSync(join(import.meta.dirname, 'ocsf/api-activity.schema.json'), 'utf8'),
    );
    // strictRequired off: the at-least-one constraints name properties defined beside them.
    const ajv = new Ajv({ allErrors: true, strict: true, strictRequired: false });
    addFormats.default(ajv);
    const validate = ajv.compile(schema);
    const result = await archiveQuery(archive, { bucket: archive.bucket, ...range, format: 'ocsf' });
    const plain = await archiveQuery(archive, { bucket: archive.bucket, ...range });
    expect(result.lines).toHaveLength(plain.traces.length);
    const events = result.lines.map((line) => JSON.parse(line));
    for (const event of events) expect(validate(event), JSON.stringify(validate.errors)).toBe(true);
    const byUid = new Map(events.map((event) => [event.metadata.uid, event]));
    const refused = plain.traces.find((t) => t.request_id === 'req-1-b')!;
    expect(byUid.get(refused.trace_id)).toMatchObject({
      class_uid: 6003,
      category_uid: 6,
      activity_id: 4,
      type_uid: 600304,
      time: refused.time,
      status_id: 2,
      status_code: '403',
      severity_id: 3,
      api: { operation: 'deleteVolume', service: { name: 'EVS' }, request: { uid: 'req-1-b' } },
      actor: { user: { name: 'bob', uid: 'u2' } },
      src_endpoint: { ip: '2001:db8::1' },
      resources: [{ uid: 'vol-1', type: 'evs', name: 'web-1' }],
      metadata: { uid: refused.trace_id, product: { name: 'Cloud Trace Service' } },
      cloud: { region: 'eu-test-1', project_uid: archive.env.projectId },
    });
    // A trace with no user: the service acts.
    const system = plain.traces.find((t) => t.request_id === 'req-0-c')!;
    expect(byUid.get(system.trace_id).actor).toEqual({ app_name: 'ECS' });
    // The schema is not a rubber stamp.
    expect(validate({ ...events[0], class_uid: 3002 })).toBe(false);
    expect(validate({ ...events[0], api: {} })).toBe(false);
    expect(validate({ ...events[0], src_endpoint: { ip: 'not-an-ip' } })).toBe(false);
  });

  it('queries a plain download (no metadata) and proves it complete', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'cts-download-')), archive.bucket);
    for (const [key, object] of await snapshotBucket(archive.env.deps.buckets.bucket(archive.bucket))) {
      mkdirSync(dirname(join(dir, key)), { recursive: true });
      writeFileSync(join(dir, key), object.body);
    }
    const result = await archiveQuery(archive, { dir, ...range, user: 'bob' });
    expect(result.traces).toHaveLength(6);
    expect(result.stderr.at(-1)).toMatch(/proven complete$/);
    rmSync(dirname(dir), { recursive: true });
  });

  it('says "not proven" and why when the archive was tampered with, prints the records anyway, and --require-proof exits 1', async () => {
    const bucket = archive.env.deps.buckets.bucket(archive.bucket);
    const snapshot = await snapshotBucket(bucket);
    try {
      const intact = await archiveQuery(archive, { bucket: archive.bucket, ...range });
      await bucket.delete(digestKeyAt(archive, at(3)));
      const result = await archiveQuery(archive, { bucket: archive.bucket, ...range });
      expect(result.traces).toEqual(intact.traces);
      expect(result.stderr.at(-1)).toMatch(/: not proven — digest .*T15-00-00Z\.json\.gz: missing/);
      expect(result.code).toBe(0);
      expect(
        (await archiveQuery(archive, { bucket: archive.bucket, ...range, 'require-proof': true })).code,
      ).toBe(1);
    } finally {
      await restoreBucket(bucket, snapshot);
    }
  });

  it('says "not proven" while the newest files wait for their digest', async () => {
    archive.env.clock.set(at(6, 20));
    await report(archive.env, 1, () => ({ time: at(6, 19), request_id: 'late' }));
    await runJobs(archive.env, at(6, 20));
    const result = await archiveQuery(archive, { bucket: archive.bucket, ...range, 'request-id': 'late' });
    expect(result.traces).toHaveLength(1);
    expect(result.stderr.at(-1)).toMatch(
      /not proven — 1 trace files that can hold the range are covered by no valid digest/,
    );
  });

  it('rejects bad usage with exit 2', async () => {
    const bad: Array<[Record<string, string>, RegExp]> = [
      [{ bucket: archive.bucket, to: iso(NOW) }, /--from and --to are required/],
      [{ bucket: archive.bucket, from: 'yesterday', to: iso(NOW) }, /--from must be an ISO 8601 time/],
      [{ bucket: archive.bucket, from: iso(NOW), to: iso(at(0)) }, /--from must not be later than --to/],
      [{ bucket: archive.bucket, ...range, format: 'xml' }, /--format must be one of ndjson, csv, ocsf/],
      [{ ...range }, /Give exactly one of --bucket NAME or --dir PATH/],
    ];
    for (const [flags, message] of bad) {
      const result = await archiveQuery(archive, flags);
      expect(result.code).toBe(2);
      expect(result.stderr.join('\n')).toMatch(message);
      expect(result.stdout).toBe('');
    }
    // A --to in the future is clamped to now, not an error.
    expect(
      (await archiveQuery(archive, { bucket: archive.bucket, from: range.from, to: iso(NOW + DAY) })).code,
    ).toBe(0);
  });

  it('finds the traces retention deleted from the database, as the real `cts archive query`', async () => {
    const before = await archiveQuery(archive, { bucket: archive.bucket, ...range });
    // Eight days on: the jobs catch the digests up and retention deletes every transferred trace.
    const later = at(8 * 24, 10);
    await runJobs(archive.env, later);
    const left = await archive.env.deps.db.select({ id: tracesTable.traceId }).from(tracesTable);
    expect(left.filter((row) => before.traces.some((t) => t.trace_id === row.id))).toEqual([]);

    const env = { ...process.env, ...archive.settings };
    const cli = await run(
      process.execPath,
      [
        'bin/cts.mjs',
        'archive',
        'query',
        '--project',
        archive.env.projectId,
        '--bucket',
        archive.bucket,
        '--from',
        range.from,
        '--to',
        range.to,
        '--now',
        iso(later + 20 * 60_000),
        '--require-proof',
      ],
      { env },
    );
    const found = cli.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Trace);
    expect(found.map((t) => t.trace_id).sort()).toEqual(before.traces.map((t) => t.trace_id).sort());
    expect(cli.stderr).toMatch(/traces matched .*: proven complete\n$/);
  });
});
