/**
 * Projects spread over several libSQL databases (ADR 0005), here embedded `file:` shards: each
 * project's traces, trackers, self-audit and archive live in its shard and only there; the
 * control database keeps projects, keys, sessions and placements; the jobs cover every shard.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from '@libsql/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CtsError } from '../src/domain/errors';
import { createApiKey, createProject } from '../src/domain/projects/projects';
import { CONTROL_SHARD } from '../src/domain/shards/router';
import { addShard, listShards } from '../src/domain/shards/shards';
import { runScheduledJobs } from '../src/jobs';
import { startNodeServer } from '../src/runtime/node';
import { aTrace, makeTestEnv, silentLogger, type TestEnv } from './helpers/app';
import { signIn } from './helpers/console';
import { projectOf, registerShard, traceIdsIn } from './helpers/shards';
import { configureTracker, readArchive } from './helpers/transfer';
import { startWebhookReceiver } from './helpers/webhook-receiver';

const dir = mkdtempSync(join(tmpdir(), 'cts-shards-'));
const url = (name: string) => `file:${join(dir, `${name}.db`)}`;
let env: TestEnv;
let first: TestEnv;
let second: TestEnv;

beforeAll(async () => {
  env = await makeTestEnv({ dbUrl: url('control'), config: { CTS_REGION: 'eu-test-1' } });
  await registerShard(env, url('one'));
  await registerShard(env, url('two'), 'two');
  first = await projectOf(env);
  second = await projectOf(env);
});

afterAll(() => {
  env.close();
  rmSync(dir, { recursive: true, force: true });
});

const reportOne = (e: TestEnv, traceId: string) =>
  e.call('POST', `/v3/${e.projectId}/traces`, {
    key: e.keys.reporter,
    body: { traces: [aTrace({ trace_id: traceId, time: e.clock() - 60_000 })] },
  });

describe('projects on shards', () => {
  it('places new projects on the shard with the fewest projects, and lists them', async () => {
    expect(await env.deps.shards.shardOf(env.projectId)).toBe(CONTROL_SHARD);
    expect(await env.deps.shards.shardOf(first.projectId)).toBe('shard-1');
    expect(await env.deps.shards.shardOf(second.projectId)).toBe('two');
    const third = await createProject(env.deps, { shard: 'shard-1' });
    expect(await env.deps.shards.shardOf(third.id)).toBe('shard-1');
    // shard-1 now has two projects, two has one: the next goes to two.
    expect(await env.deps.shards.shardOf((await createProject(env.deps)).id)).toBe('two');
    expect((await listShards(env.deps)).map((s) => [s.id, s.projects])).toEqual([
      [CONTROL_SHARD, 1],
      ['shard-1', 2],
      ['two', 2],
    ]);
  });

  it('refuses an unknown shard and a second registration of a database', async () => {
    await expect(createProject(env.deps, { shard: 'nope' })).rejects.toMatchObject({ status: 404 });
    await expect(registerShard(env, url('one'), 'again')).rejects.toBeInstanceOf(CtsError);
    await expect(registerShard(env, 'ftp://x', 'bad')).rejects.toMatchObject({ status: 400 });
  });

  it("keeps each project's traces in its own shard, and answers each from there", async () => {
    for (const [e, id] of [
      [env, 'in-control'],
      [first, 'in-one'],
      [second, 'in-two'],
    ] as const) {
      expect((await reportOne(e, id)).status).toBe(201);
    }
    expect(await traceIdsIn(url('one'), first.projectId)).toEqual(['in-one']);
    expect(await traceIdsIn(url('two'), second.projectId)).toEqual(['in-two']);
    expect(await traceIdsIn(url('control'), first.projectId)).toEqual([]);
    expect(await traceIdsIn(url('control'), env.projectId)).toEqual(['in-control']);

    const listed = await first.call('GET', `/v3/${first.projectId}/traces`, { key: first.keys.reader });
    expect((await listed.json()).traces.map((t: { trace_id: string }) => t.trace_id)).toEqual(['in-one']);
    // A key of one project still cannot read another's, wherever that one lives.
    const foreign = await first.call('GET', `/v3/${second.projectId}/traces`, { key: first.keys.reader });
    expect(foreign.status).toBe(403);
  });

  it("records a project's management (self-audit) and its trackers in its shard", async () => {
    await env.deps.buckets.create('objects-bucket');
    const res = await second.call('POST', `/v3/${second.projectId}/tracker`, {
      body: {
        tracker_type: 'data',
        tracker_name: 'objects',
        data_bucket: { data_bucket_name: 'objects-bucket', data_event: ['WRITE'] },
      },
    });
    expect(res.status, await res.clone().text()).toBe(201);
    const client = createClient({ url: url('two') });
    const trackers = await client.execute({
      sql: 'select tracker_name from trackers where project_id = ? order by tracker_name',
      args: [second.projectId],
    });
    client.close();
    expect(trackers.rows.map((row) => row.tracker_name)).toEqual(['objects', 'system']);
    const audit = await second.call(
      'GET',
      `/v3/${second.projectId}/traces?trace_type=system&service_type=CTS`,
    );
    expect((await audit.json()).traces.map((t: { trace_name: string }) => t.trace_name)).toContain(
      'createTracker',
    );
  });

  it('serves the console of a project on a shard', async () => {
    const browser = await signIn(env, first.keys.reader);
    const page = await browser.get('/console/traces?range=1d');
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('in-one');
    expect(html).not.toContain('in-two');
  });

  it('runs the scheduled jobs on every shard: each archives its own projects', async () => {
    const buckets = { [first.projectId]: 'arch-one', [second.projectId]: 'arch-two' };
    for (const e of [first, second]) {
      await configureTracker(e, { obs_info: { bucket_name: buckets[e.projectId], is_obs_created: true } });
      expect((await reportOne(e, `archived-${e.projectId}`)).status).toBe(201);
    }
    const summary = await runScheduledJobs(env.deps, { now: env.clock() + 3_600_000 });
    expect(summary.ok).toBe(true);
    const transfers = summary.steps.filter((step) => step.name === 'transfer');
    expect(transfers.map((step) => step.shard)).toEqual([CONTROL_SHARD, 'shard-1', 'two']);
    for (const e of [first, second]) {
      const archived = (await readArchive(env.deps.buckets.bucket(buckets[e.projectId]!))).flatMap((o) =>
        o.traces.map((t) => t.trace_id),
      );
      expect(archived).toContain(`archived-${e.projectId}`);
      expect(archived).not.toContain('in-control');
    }
  });

  it("deletes a shard's expired traces (retention covers the projects of each database)", async () => {
    const aged = await projectOf(env, 'two');
    const res = await aged.call('POST', `/v3/${aged.projectId}/traces`, {
      key: aged.keys.reporter,
      body: { traces: [aTrace({ trace_id: 'aged', time: env.clock() - 8 * 86_400_000 })] },
    });
    expect(res.status).toBe(201);
    expect(await traceIdsIn(url('two'), aged.projectId)).toEqual(['aged']);
    const summary = await runScheduledJobs(env.deps, { now: env.clock() });
    const retention = summary.steps.find((step) => step.name === 'retention' && step.shard === 'two');
    expect(retention?.summary).toMatchObject({ deleted: 1 });
    expect(await traceIdsIn(url('two'), aged.projectId)).toEqual([]);
  });

  it("answers a tracker with its project's domain, read from the control database", async () => {
    const domainId = 'ab'.repeat(16);
    const project = await createProject(env.deps, { domainId, shard: 'two' });
    const key = await createApiKey(env.deps, { projectId: project.id, role: 'reader' });
    const res = await env.call('GET', `/v3/${project.id}/trackers?tracker_name=system`, { key: key.token });
    expect((await res.json()).trackers[0].domain_id).toBe(domainId);
  });

  it("delivers a project's key event notification from its shard's outbox", async () => {
    const receiver = await startWebhookReceiver();
    try {
      const rule = await first.call('POST', `/v3/${first.projectId}/notifications`, {
        body: {
          notification_name: 'servers',
          topic_id: receiver.url,
          operation_type: 'customized',
          operations: [{ service_type: 'ECS', resource_type: 'ecs', trace_names: ['deleteServer'] }],
        },
      });
      expect(rule.status, await rule.clone().text()).toBe(201);
      const res = await first.call('POST', `/v3/${first.projectId}/traces`, {
        key: first.keys.reporter,
        body: {
          traces: [aTrace({ trace_id: 'deleted', trace_name: 'deleteServer', time: env.clock() - 1000 })],
        },
      });
      expect(res.status).toBe(201);
      // The first attempt follows the ingest in the background, from the shard's outbox.
      const outbox = createClient({ url: url('one') });
      const statuses = async () =>
        (await outbox.execute('select status from notification_outbox')).rows.map((row) => row.status);
      for (let i = 0; i < 100 && (await statuses()).join() !== 'delivered'; i++)
        await new Promise((resolve) => setTimeout(resolve, 50));
      expect(await statuses()).toEqual(['delivered']);
      outbox.close();
      expect(receiver.requests.map((r) => r.event.data.notification_name)).toEqual(['servers']);
    } finally {
      await receiver.close();
    }
  });

  it('covers at most CTS_JOBS_SHARDS_PER_RUN databases a run, taking them in turn', async () => {
    const deps = { ...env.deps, config: { ...env.deps.config, CTS_JOBS_SHARDS_PER_RUN: 2 } };
    const shardsOfRun = async () => {
      const summary = await runScheduledJobs(deps, { now: env.clock() + 3_600_000 });
      return [...new Set(summary.steps.map((step) => step.shard))];
    };
    expect(await shardsOfRun()).toEqual([CONTROL_SHARD, 'shard-1']);
    expect(await shardsOfRun()).toEqual(['two', CONTROL_SHARD]);
    expect(await shardsOfRun()).toEqual(['shard-1', 'two']);
  });

  it('routes from memory once a placement is known (no control read per request)', async () => {
    const control = createClient({ url: url('control') });
    await control.execute({ sql: 'delete from placements where project_id = ?', args: [first.projectId] });
    control.close();
    // The placement row is gone, the process still routes the project to its shard.
    expect((await reportOne(first, 'cached-route')).status).toBe(201);
    expect(await traceIdsIn(url('one'), first.projectId)).toContain('cached-route');
  });
});

describe('the Node server with a shard', () => {
  it('migrates a registered shard at start and serves its projects over HTTP', async () => {
    const data = mkdtempSync(join(tmpdir(), 'cts-shards-server-'));
    const shardUrl = `file:${join(data, 'shard.db')}`;
    const env = { CTS_DATA_DIR: data, PORT: '0', CTS_JOBS_INTERVAL_SECONDS: '3600' };
    const quiet = { logger: silentLogger };
    let server = await startNodeServer(env, quiet);
    let projectId = '';
    // Registered without its migrations (as if added while an older version ran).
    await addShard(server.deps, { url: shardUrl, id: 'late' }, async () => {});
    await server.close();
    server = await startNodeServer(env, quiet);
    try {
      const project = await createProject(server.deps, { shard: 'late' });
      projectId = project.id;
      const key = await createApiKey(server.deps, { projectId: project.id, role: 'reporter' });
      const res = await fetch(`${server.url}/v3/${project.id}/traces`, {
        method: 'POST',
        headers: { 'X-Auth-Token': key.token, 'Content-Type': 'application/json' },
        body: JSON.stringify({ traces: [aTrace({ trace_id: 'over-http', time: Date.now() - 1000 })] }),
      });
      expect(res.status, await res.clone().text()).toBe(201);
    } finally {
      await server.close();
    }
    expect(await traceIdsIn(shardUrl, projectId)).toEqual(['over-http']);
    rmSync(data, { recursive: true, force: true });
  });
});
