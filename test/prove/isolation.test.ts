/**
 * Isolation (issue 8, DESIGN §2 and §4): every endpoint of the OpenAPI document × every kind of
 * caller — no key, an unknown or revoked key, each role of the project, each role of another
 * project — gets the right answer (401 `CTS.0002`, 403 `CTS.0013`, or served), the same 403 for
 * a project that exists and one that does not, and no response (API or console) ever carries the
 * other project's data: both projects are seeded with distinctive markers in every kind of object
 * (traces, tracker and bucket, archived files, topics, notifications, deliveries) and every
 * response body is searched for the other's markers. Run in both directions.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey, createProject, revokeApiKey } from '../../src/domain/projects/projects';
import { runScheduledJobs } from '../../src/jobs';
import { makeTestEnv, type TestEnv } from '../helpers/app';
import { type ConsoleClient, signIn } from '../helpers/console';
import { ctsErrorProblem, isBookkeeping } from './helpers/cts';
import {
  expectationsFor,
  fillPath,
  type OpenApiDocument,
  operationsOf,
  queryString,
  type Role,
  type SampleContext,
} from './helpers/endpoints';

interface Tenant {
  projectId: string;
  /** Lower-case marker written into every object of the project. */
  marker: string;
  keys: Record<Role, string>;
  revokedKey: string;
  traceIds: string[];
  notificationId: string;
  topicUrn: string;
  fileIds: number[];
}

async function seedTenant(env: TestEnv, projectId: string, marker: string, admin: string): Promise<Tenant> {
  const keys = {
    admin,
    reader: (await createApiKey(env.deps, { projectId, role: 'reader', name: `${marker}-reader` })).token,
    reporter: (await createApiKey(env.deps, { projectId, role: 'reporter', name: `${marker}-reporter` }))
      .token,
  };
  const revoked = await createApiKey(env.deps, { projectId, role: 'admin', name: `${marker}-revoked` });
  await revokeApiKey(env.deps, projectId, revoked.id);
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await env.call(method, `/v3/${projectId}${path}`, { key: admin, body });
    if (res.status >= 300) throw new Error(`seeding ${method} ${path}: ${res.status} ${await res.text()}`);
    const text = await res.text();
    return (text ? JSON.parse(text) : {}) as Record<string, unknown>;
  };
  const now = env.clock();
  const traces = (n: number, from: number) =>
    Array.from({ length: n }, (_, i) => ({
      trace_id: `${marker}-t${from + i}`,
      trace_name: 'deleteServer',
      trace_rating: 'warning',
      trace_type: 'ApiCall',
      service_type: 'ECS',
      resource_type: 'ecs',
      resource_id: `${marker}-rid`,
      resource_name: `${marker}-res`,
      time: now - 60_000 - i,
      user: { id: `${marker}-uid`, name: `${marker}-user`, domain: { id: marker, name: marker } },
      source_ip: '198.51.100.7',
      request_id: `${marker}-req`,
      request: { note: marker },
      response: { note: marker },
      message: marker,
    }));
  await call('POST', '/traces', { traces: traces(3, 0) });
  await call('PUT', '/tracker', {
    tracker_type: 'system',
    tracker_name: 'system',
    obs_info: { bucket_name: `${marker}-bucket`, file_prefix_name: marker, is_obs_created: true },
  });
  const topic = await call('PUT', `/topics/${marker}-topic`, { endpoint: `http://127.0.0.1:9/${marker}` });
  const rule = await call('POST', '/notifications', {
    notification_name: `${marker}_rule`,
    operation_type: 'complete',
    topic_id: topic.topic_urn,
  });
  // Matched by the rule: a queued delivery whose payload carries the marker.
  await call('POST', '/traces', { traces: traces(2, 3) });
  return {
    projectId,
    marker,
    keys,
    revokedKey: revoked.token,
    traceIds: [0, 1, 2, 3, 4].map((i) => `${marker}-t${i}`),
    notificationId: String(rule.notification_id),
    topicUrn: String(topic.topic_urn),
    fileIds: [],
  };
}

interface World {
  env: TestEnv;
  doc: OpenApiDocument;
  self: Tenant;
  other: Tenant;
  background: Promise<unknown>[];
}

async function makeWorld(): Promise<World> {
  const background: Promise<unknown>[] = [];
  const env = await makeTestEnv({
    deps: { waitUntil: (work) => void background.push(work.catch(() => {})) },
  });
  const self = await seedTenant(env, env.projectId, 'alphamark7', env.keys.admin);
  const project = await createProject(env.deps, { name: 'bravomark9-project' });
  const otherAdmin = (
    await createApiKey(env.deps, { projectId: project.id, role: 'admin', name: 'bravomark9' })
  ).token;
  const other = await seedTenant(env, project.id, 'bravomark9', otherAdmin);
  await runScheduledJobs(env.deps, { now: env.clock() });
  await Promise.all(background);
  const files = await env.deps.db.$client.execute('SELECT id, project_id FROM transferred_files ORDER BY id');
  for (const row of files.rows) {
    (row.project_id === self.projectId ? self : other).fileIds.push(Number(row.id));
  }
  expect(self.fileIds.length).toBeGreaterThan(0);
  expect(other.fileIds.length).toBeGreaterThan(0);
  const doc = (await (await env.call('GET', '/openapi.json', { key: null })).json()) as OpenApiDocument;
  return { env, doc, self, other, background };
}

/**
 * Fails when `text` carries anything of `tenant`: its project id, marker, keys or ids — once the
 * caller's own input (`echoes`: what the request itself said, which a page may repeat) is removed.
 */
function expectNothingOf(tenant: Tenant, text: string, where: string, echoes: string[] = []): void {
  let lower = text.toLowerCase();
  for (const echo of echoes) lower = lower.replaceAll(echo.toLowerCase(), '');
  const leaks = [
    tenant.projectId,
    tenant.marker,
    ...Object.values(tenant.keys),
    tenant.notificationId,
  ].filter((needle) => lower.includes(needle.toLowerCase()));
  expect(leaks, `${where} leaks ${leaks.join(', ')}: ${text.slice(0, 500)}`).toEqual([]);
}

/**
 * `text` without the project's own CTS self-audit traces. The probes of the earlier tests (this
 * project's keys naming the other project's objects) are recorded in this project's trail — a key
 * writes only into its own project's — so those records repeat what this project's callers sent.
 */
function withoutOwnAudit(text: string, self: Tenant): string {
  let body: { traces?: Array<{ service_type?: string; user?: { domain?: { id?: string } } }> };
  try {
    body = JSON.parse(text);
  } catch {
    return text;
  }
  if (!Array.isArray(body?.traces)) return text;
  const traces = body.traces.filter(
    (t) => !(t.service_type === 'CTS' && t.user?.domain?.id === self.projectId),
  );
  return JSON.stringify({ ...body, traces });
}

/** The tenant's identifiers that a request names (and its response may therefore repeat). */
function echoesOf(tenant: Tenant, request: string): string[] {
  const ids = [
    ...tenant.traceIds,
    tenant.notificationId,
    tenant.topicUrn,
    `${tenant.marker}-res`,
    `${tenant.marker}-user`,
    `${tenant.marker}_rule`,
    `${tenant.marker}-topic`,
  ];
  // Longest first, so that a topic URN is removed before the project id inside it would be.
  return ids.filter((id) => request.includes(id)).sort((a, b) => b.length - a.length);
}

/** Rows of every table that name the tenant's project, to prove the other's calls left them alone. */
async function rowsOf(env: TestEnv, projectId: string): Promise<Record<string, unknown[]>> {
  const tables = await env.deps.db.$client.execute(
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '%drizzle%'",
  );
  const out: Record<string, unknown[]> = {};
  for (const { name } of tables.rows) {
    const columns = await env.deps.db.$client.execute(`PRAGMA table_info("${String(name)}")`);
    const hasProjectId = columns.rows.some((c) => c.name === 'project_id');
    const column = name === 'projects' ? 'id' : hasProjectId ? 'project_id' : undefined;
    if (!column) continue;
    const rows = await env.deps.db.$client.execute({
      sql: `SELECT * FROM "${String(name)}" WHERE ${column} = ? ORDER BY rowid`,
      args: [projectId],
    });
    out[String(name)] = rows.rows.map((r) =>
      Object.fromEntries(Object.entries(r).filter(([column]) => !isBookkeeping(column))),
    );
  }
  return out;
}

interface Caller {
  name: string;
  headers: Record<string, string>;
  /** What a secured endpoint of `self` answers this caller when its access allows `role`s. */
  expected: (access: readonly Role[]) => 401 | 403 | 'served';
}

function callersOf(world: World): Caller[] {
  const { self, other } = world;
  const callers: Caller[] = [
    { name: 'no key', headers: {}, expected: () => 401 },
    { name: 'unknown key', headers: { 'X-Auth-Token': `cts_${'0'.repeat(64)}` }, expected: () => 401 },
    { name: 'revoked key', headers: { 'X-Auth-Token': self.revokedKey }, expected: () => 401 },
  ];
  for (const role of ['reporter', 'reader', 'admin'] as const) {
    for (const [form, header] of [
      ['X-Auth-Token', (key: string) => ({ 'X-Auth-Token': key })],
      ['Bearer', (key: string) => ({ Authorization: `Bearer ${key}` })],
    ] as const) {
      callers.push({
        name: `own ${role} (${form})`,
        headers: header(self.keys[role]),
        expected: (access) => (access.includes(role) ? 'served' : 403),
      });
      callers.push({
        name: `other project's ${role} (${form})`,
        headers: header(other.keys[role]),
        expected: () => 403,
      });
    }
  }
  return callers;
}

function sampleContext(world: World, tenant: Tenant): SampleContext {
  return {
    projectId: tenant.projectId,
    now: world.env.clock(),
    traceId: tenant.traceIds[0]!,
    notificationId: tenant.notificationId,
  };
}

async function send(
  world: World,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: unknown,
) {
  const init: RequestInit = { method, headers: { ...headers } };
  if (body !== undefined) {
    (init.headers as Record<string, string>)['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const res = await world.env.app.request(path, init);
  return { status: res.status, contentType: res.headers.get('content-type'), text: await res.text() };
}

function isolationSuite(direction: string, pick: (world: World) => World) {
  describe(direction, () => {
    let world: World;
    let otherRowsBefore: Record<string, unknown[]>;
    beforeAll(async () => {
      world = pick(await makeWorld());
      otherRowsBefore = await rowsOf(world.env, world.other.projectId);
    });
    afterAll(() => world?.env.close());

    it("never shows the other project's data in the console, whatever URL is typed", async () => {
      const { self, other, env } = world;
      const day = new Date(env.clock()).toISOString().slice(0, 10);
      const pages = [
        '/console/traces',
        `/console/traces?trace_id=${other.traceIds[0]}`,
        `/console/traces?resource_name=${other.marker}-res`,
        `/console/traces/${other.traceIds[0]}`,
        `/console/traces/${other.traceIds[4]}`,
        '/console/trackers',
        '/console/trackers/system/files',
        `/console/trackers/system/files?day=${day}`,
        ...other.fileIds.map((id) => `/console/trackers/system/files/${id}`),
        '/console/notifications',
        `/console/notifications/${other.notificationId}/edit`,
        `/console/notifications/${other.notificationId}/status`,
        `/console/notifications/${other.notificationId}/delete`,
      ];
      const sessions: Array<[string, ConsoleClient]> = [
        ['reader', await signIn(env, self.keys.reader)],
        ['admin', await signIn(env, self.keys.admin)],
      ];
      for (const [role, client] of sessions) {
        for (const page of pages) {
          const res = await client.get(page);
          const text = await res.text();
          expectNothingOf(other, text, `console ${page} as ${role}`, echoesOf(other, page));
          expect(res.status, `console ${page} as ${role}`).toBeLessThan(500);
        }
      }
      // The control: the same pages do show this project's own data, so the searches above look at real pages.
      for (const [page, needle] of [
        [`/console/traces/${self.traceIds[0]}`, `${self.marker}-res`],
        [`/console/traces?trace_id=${self.traceIds[1]}`, `${self.marker}-user`],
        ['/console/trackers', `${self.marker}-bucket`],
        ['/console/notifications', `${self.marker}_rule`],
        [`/console/trackers/system/files/${self.fileIds[0]}`, ''],
      ] as const) {
        const res = await sessions[0]![1].get(page);
        expect(res.status, page).toBe(200);
        if (needle) expect(await res.text(), page).toContain(needle);
      }
      const admin = sessions[1]![1];
      for (const action of ['delete', 'status']) {
        const res = await admin.post(`/console/notifications/${other.notificationId}/${action}`, {
          status: 'disabled',
        });
        expectNothingOf(other, await res.text(), `console POST ${action}`, [other.notificationId]);
      }
      await Promise.all(world.background);
      expect(await rowsOf(env, other.projectId)).toEqual(otherRowsBefore);
    });
    it("refuses to reach the other project's objects by id through this project's endpoints", async () => {
      const { self, other, env } = world;
      const base = `/v3/${self.projectId}`;
      const asReader = { 'X-Auth-Token': self.keys.reader };
      const asAdmin = { 'X-Auth-Token': self.keys.admin };
      const probes: Array<[string, string, Record<string, string>, unknown?]> = [
        ['GET', `${base}/traces?trace_id=${other.traceIds[0]}`, asReader],
        ['GET', `${base}/traces?resource_name=${other.marker}-res&limit=200`, asReader],
        ['GET', `${base}/traces?user=${other.marker}-user&limit=200`, asReader],
        ['GET', `${base}/traces?next=${other.traceIds[0]}`, asReader],
        ['GET', `${base}/notification-deliveries?notification_id=${other.notificationId}`, asReader],
        ['GET', `${base}/notifications/smn?notification_name=${other.marker}_rule`, asReader],
        ['DELETE', `${base}/notifications?notification_id=${other.notificationId}`, asAdmin],
        [
          'PUT',
          `${base}/notifications`,
          asAdmin,
          {
            notification_id: other.notificationId,
            notification_name: 'hijacked',
            operation_type: 'complete',
            status: 'disabled',
          },
        ],
        [
          'POST',
          `${base}/notifications`,
          asAdmin,
          { notification_name: 'borrowed_topic', operation_type: 'complete', topic_id: other.topicUrn },
        ],
        ['DELETE', `${base}/topics/${other.marker}-topic`, asAdmin],
      ];
      for (const [method, path, headers, body] of probes) {
        const res = await send(world, method, path, headers, body);
        const where = `${method} ${path}`;
        expectNothingOf(other, res.text, where, echoesOf(other, `${path} ${JSON.stringify(body ?? '')}`));
        expect(res.status, `${where}: ${res.text}`).toBeLessThan(500);
        if (res.status === 200) {
          const json = JSON.parse(res.text) as Record<string, unknown>;
          const list = (json.traces ?? json.deliveries ?? json.notifications) as unknown[] | undefined;
          expect(list, `${where} answered 200 with objects: ${res.text.slice(0, 300)}`).toEqual([]);
        } else {
          expect(res.status, `${where}: ${res.text}`).toBeGreaterThanOrEqual(400);
        }
      }
      const own = await send(world, 'GET', `${base}/traces?trace_id=${self.traceIds[0]}`, asReader);
      expect(own.text, 'control: the own trace is found').toContain(`${self.marker}-res`);
      // Quotas count this project's objects only.
      const quotas = await send(world, 'GET', `${base}/quotas`, asReader);
      expect(JSON.parse(quotas.text).resources).toContainEqual({
        type: 'smn_notification',
        used: 1,
        quota: 100,
      });
      await Promise.all(world.background);
      expect(await rowsOf(env, other.projectId)).toEqual(otherRowsBefore);
    });

    // Last: the admin's sample calls delete this project's tracker, rule and topic.
    it("answers every endpoint × caller as the expected-access table says, without the other project's data", async () => {
      const { self, other } = world;
      const ops = operationsOf(world.doc);
      expect(ops.length).toBeGreaterThan(10);
      const nowhere = 'f'.repeat(32);
      for (const op of ops) {
        const { access, sample } = expectationsFor(op);
        const parts = sample(sampleContext(world, self));
        const path =
          fillPath(op.path, { project_id: self.projectId, ...parts.params }) + queryString(parts.query);
        for (const caller of callersOf(world)) {
          const where = `${op.key} as ${caller.name}`;
          const res = await send(world, op.method, path, caller.headers, parts.body);
          expectNothingOf(other, withoutOwnAudit(res.text, self), where);
          expect(res.status, `${where}: ${res.text.slice(0, 300)}`).toBeLessThan(500);
          if (access === 'public') {
            expect(res.status, where).toBeLessThan(400);
            continue;
          }
          const expected = caller.expected(access);
          if (expected === 'served') {
            expect([401, 403], `${where}: ${res.text.slice(0, 300)}`).not.toContain(res.status);
          } else {
            expect(res.status, `${where}: ${res.text.slice(0, 300)}`).toBe(expected);
            expect(ctsErrorProblem(res.status, res.contentType, res.text), where).toBeUndefined();
            expect(JSON.parse(res.text).error_code, where).toBe(expected === 401 ? 'CTS.0002' : 'CTS.0013');
          }
        }
        if (access === 'public') continue;
        // A key of another project learns nothing about whether a project exists.
        const otherParts = sample(sampleContext(world, self));
        const toNowhere =
          fillPath(op.path, { project_id: nowhere, ...otherParts.params }) + queryString(otherParts.query);
        const there = await send(
          world,
          op.method,
          path,
          { 'X-Auth-Token': other.keys.admin },
          otherParts.body,
        );
        const absent = await send(
          world,
          op.method,
          toNowhere,
          { 'X-Auth-Token': other.keys.admin },
          otherParts.body,
        );
        const strip = (text: string) => ({ ...JSON.parse(text), request_id: undefined });
        expect({ status: absent.status, body: strip(absent.text) }, op.key).toEqual({
          status: there.status,
          body: strip(there.text),
        });
      }
    });
  });
}

isolationSuite('project A seen from project A', (world) => world);
isolationSuite('project B seen from project B', (world) => ({
  ...world,
  self: world.other,
  other: world.self,
}));
