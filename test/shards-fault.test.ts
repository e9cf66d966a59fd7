/**
 * Fault isolation (issue 16): three `sqld` shards; one stops. Only its project answers 503 with
 * `Retry-After` (and its jobs wait); the others keep recording, querying and archiving. Restarted
 * at the same address, it recovers with nothing lost, and its jobs catch up.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runScheduledJobs } from '../src/jobs';
import { aTrace, makeTestEnv, type TestEnv } from './helpers/app';
import { projectOf, registerShard, traceIdsIn } from './helpers/shards';
import { type SqldServer, startSqld } from './helpers/sqld';
import { configureTracker, readArchive } from './helpers/transfer';

const root = mkdtempSync(join(tmpdir(), 'cts-shard-fault-'));
const servers: SqldServer[] = [];
let env: TestEnv;
let projects: TestEnv[];

beforeAll(async () => {
  for (let i = 0; i < 3; i++) servers.push(await startSqld({ dbPath: join(root, `shard-${i + 1}`) }));
  env = await makeTestEnv({ dbUrl: `file:${join(root, 'control.db')}` });
  for (const server of servers) await registerShard(env, server.url);
  projects = [];
  for (let i = 0; i < 3; i++) {
    const project = await projectOf(env);
    await configureTracker(project, { obs_info: { bucket_name: `fault-${i + 1}`, is_obs_created: true } });
    projects.push(project);
  }
}, 60_000);

afterAll(async () => {
  env?.close();
  for (const server of servers) await server.stop();
  rmSync(root, { recursive: true, force: true });
});

const report = (e: TestEnv, traceId: string) =>
  e.call('POST', `/v3/${e.projectId}/traces`, {
    key: e.keys.reporter,
    body: { traces: [aTrace({ trace_id: traceId, time: e.clock() - 60_000 })] },
  });

const listed = async (e: TestEnv) => {
  const res = await e.call('GET', `/v3/${e.projectId}/traces`, { key: e.keys.reader });
  expect(res.status).toBe(200);
  // The reported traces (not the self-audit of the tracker's configuration).
  return ((await res.json()).traces as Array<{ trace_id: string; service_type: string }>)
    .filter((t) => t.service_type === 'ECS')
    .map((t) => t.trace_id)
    .sort();
};

const archivedIds = async (bucket: string) =>
  (await readArchive(env.deps.buckets.bucket(bucket)))
    .flatMap((o) => o.traces.filter((t) => t.service_type === 'ECS').map((t) => t.trace_id))
    .sort();

it('a stopped shard fails only its own projects, with 503 and Retry-After, and loses nothing', async () => {
  expect(projects.map((p) => p.projectId)).toHaveLength(3);
  expect(await Promise.all(projects.map((p) => env.deps.shards.shardOf(p.projectId)))).toEqual([
    'shard-1',
    'shard-2',
    'shard-3',
  ]);
  for (const [i, p] of projects.entries()) expect((await report(p, `before-${i + 1}`)).status).toBe(201);

  const [one, two, three] = projects as [TestEnv, TestEnv, TestEnv];
  const stopped = servers[1]!;
  await stopped.stop();

  // The stopped shard's project: a clear, retryable CTS error, for writes and reads.
  const write = await report(two, 'during-2');
  expect(write.status).toBe(503);
  expect(write.headers.get('Retry-After')).toBe('1');
  expect((await write.json()).error_code).toBe('CTS.0004');
  const read = await two.call('GET', `/v3/${two.projectId}/traces`, { key: two.keys.reader });
  expect(read.status).toBe(503);
  expect(read.headers.get('Retry-After')).toBe('1');
  expect((await read.json()).error_code).toBe('CTS.0005');

  // The others record and answer as before.
  for (const [p, n] of [
    [one, 1],
    [three, 3],
  ] as const) {
    expect((await report(p, `during-${n}`)).status).toBe(201);
    expect(await listed(p)).toEqual([`before-${n}`, `during-${n}`]);
  }

  // The jobs: the live shards archive their traces; the stopped one's jobs wait (reported failed).
  const during = await runScheduledJobs(env.deps, { now: env.clock() + 3_600_000 });
  expect(during.ok).toBe(false);
  const failed = during.steps.filter((step) => !step.ok);
  expect(failed.map((step) => [step.shard, step.name])).toEqual([['shard-2', 'transfer']]);
  expect(during.steps.filter((step) => step.shard === 'shard-2')).toHaveLength(1);
  expect(await archivedIds('fault-1')).toEqual(['before-1', 'during-1']);
  expect(await archivedIds('fault-3')).toEqual(['before-3', 'during-3']);
  expect(await archivedIds('fault-2')).toEqual([]);

  // Restarted at the same address: it answers again, with what it held, and catches up.
  servers[1] = await startSqld({ dbPath: stopped.dbPath, port: stopped.port });
  expect((await report(two, 'after-2')).status).toBe(201);
  expect(await listed(two)).toEqual(['after-2', 'before-2']);
  const held = await traceIdsIn(servers[1].url, two.projectId);
  expect(held).toEqual(expect.arrayContaining(['before-2', 'after-2']));
  expect(held).not.toContain('during-2'); // refused with 503: the client still has it to retry
  const after = await runScheduledJobs(env.deps, { now: env.clock() + 3_600_000 });
  expect(after.ok).toBe(true);
  expect(await archivedIds('fault-2')).toEqual(['after-2', 'before-2']);
}, 90_000);
