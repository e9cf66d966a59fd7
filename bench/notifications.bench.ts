/**
 * What key event notification rules cost ingestion: the same batches of 1,000 realistic traces
 * recorded into two embedded databases, one project without rules and one with 100 enabled
 * `customized` rules (operations, user lists and filters like a real configuration; the matches
 * queue a delivery in the same batch, and the figures say how many). Batches alternate between
 * the two so that machine noise hits both alike. Delivery itself is not part of ingestion (it
 * runs after the response) and is not measured here.
 *
 *   npm run bench notifications            BENCH_BATCHES=40 npm run bench notifications
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { parseConfig } from '../src/config';
import { toRuleDefinition } from '../src/domain/notifications/matching';
import { compileRules } from '../src/domain/notifications/rules';
import type { CreateNotificationInput } from '../src/domain/notifications/schema';
import { CreateNotificationSchema } from '../src/domain/notifications/schema';
import { createProject } from '../src/domain/projects/projects';
import { databaseDeps } from '../src/domain/shards/router';
import { recordTraces, toTraceRow } from '../src/domain/traces/record';
import { migrateDb, openNodeDb } from '../src/runtime/node-db';
import type { Db } from '../src/store/db';
import { insertNotification, listNotificationRows } from '../src/store/notification-queries';
import { prng, traceStream, userName } from './lib/trace-data';

const BATCHES = Number(process.env.BENCH_BATCHES ?? 30);
const BATCH = 1_000;
const RULES = 100;

/**
 * 100 rules over the data set's services, like an administrator would write them: each watches
 * the destructive operations on one resource type, half only the failed ones (filter), a third
 * only some users (user list).
 */
function rules(): CreateNotificationInput[] {
  const random = prng(7);
  const services: Array<[string, string[]]> = [
    ['ECS', ['ecs', 'flavor', 'keypair']],
    ['EVS', ['evs', 'snapshot']],
    ['VPC', ['vpc', 'subnet', 'eip', 'securityGroup']],
    ['IAM', ['user', 'login', 'role', 'policy']],
    ['OBS', ['bucket', 'object']],
    ['RDS', ['instance', 'backup']],
    ['KMS', ['key']],
  ];
  const verbs = ['delete', 'stop', 'detach', 'resize'];
  return Array.from({ length: RULES }, (_, i) => {
    const [service, types] = services[Math.floor(random() * services.length)]!;
    const type = types[Math.floor(random() * types.length)]!;
    const names = verbs
      .filter(() => random() < 0.5)
      .map((v) => `${v}${type[0]!.toUpperCase()}${type.slice(1)}`);
    return CreateNotificationSchema.parse({
      notification_name: `rule_${i}`,
      operation_type: 'customized',
      operations: [
        { service_type: service, resource_type: type, trace_names: names.length ? names : [`delete${type}`] },
      ],
      notify_user_list:
        i % 3 === 0
          ? [
              {
                user_group: 'ops',
                user_list: Array.from({ length: 10 }, (_, u) => userName(100 + 37 * u + i)),
              },
            ]
          : undefined,
      filter:
        i % 2 === 0
          ? { is_support_filter: true, condition: 'AND', rule: ['trace_rating != normal'] }
          : undefined,
      topic_id: 'https://hooks.example.com/cts',
    });
  });
}

async function openDb(dir: string): Promise<Db> {
  const db = await openNodeDb(parseConfig({ CTS_DATA_DIR: dir }));
  await migrateDb(db);
  return db;
}

interface Setup {
  label: string;
  db: Db;
  projectId: string;
  seconds: number[];
}

/** A database with a project and `rules` (service types renamed by `rename`, to test misses). */
async function setup(
  label: string,
  rules: CreateNotificationInput[],
  rename = (s: string) => s,
): Promise<Setup> {
  const dir = mkdtempSync(join(tmpdir(), 'cts-bench-ken-'));
  dirs.push(dir);
  const db = await openDb(dir);
  const project = await createProject({ ...databaseDeps(db), clock: Date.now });
  const now = Date.now();
  for (const [i, input] of rules.entries()) {
    const operations = (input.operations ?? []).map((op) => ({
      ...op,
      service_type: rename(op.service_type),
    }));
    await insertNotification(
      db,
      {
        id: `rule-${i}`,
        projectId: project.id,
        name: input.notification_name,
        operationType: input.operation_type,
        operations: JSON.stringify(operations),
        notifyUserList: JSON.stringify(input.notify_user_list ?? []),
        status: 'enabled',
        topicId: input.topic_id ?? null,
        filter: input.filter ? JSON.stringify(input.filter) : null,
        secret: 'bench',
        createTime: now,
        updatedAt: now,
      },
      RULES,
    );
  }
  return { label, db, projectId: project.id, seconds: [] };
}

const dirs: string[] = [];

async function main() {
  const setups = [
    await setup('0 rules', []),
    await setup(`${RULES} rules matching nothing`, rules(), (s) => `${s}X`),
    await setup(`${RULES} rules`, rules()),
  ];
  const clock = () => Date.now();
  const now = Date.now();
  const stream = traceStream(42, now - 3_600_000, 3);
  const batches = Array.from({ length: BATCHES + 1 }, () => stream.take(BATCH));
  for (const [i, batch] of batches.entries()) {
    for (const s of setups) {
      const started = performance.now();
      await recordTraces({ db: s.db, clock }, s.projectId, batch);
      if (i > 0) s.seconds.push((performance.now() - started) / 1000); // batch 0 warms up
    }
  }

  // The matching alone, without the database: compile once, match every trace.
  const ruled = setups[2]!;
  const compiled = compileRules(
    (await listNotificationRows(ruled.db, ruled.projectId)).map(toRuleDefinition),
  );
  const rows = batches.flat().map((t) => toTraceRow(ruled.projectId, t, now));
  const started = performance.now();
  let matches = 0;
  for (const row of rows) matches += compiled.match(row).length;
  const matchUs = ((performance.now() - started) * 1000) / rows.length;

  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const rate = (s: Setup) => Math.round(BATCH / median(s.seconds));
  const base = rate(setups[0]!);
  const traces = batches.length * BATCH;
  console.log(
    `ingest, ${BATCHES} batches of ${BATCH} traces (median batch), embedded libSQL file, alternating:`,
  );
  for (const s of setups) {
    const [{ n: queued } = { n: 0 }] = await s.db.all<{ n: number }>(
      sql`SELECT count(*) AS n FROM notification_outbox`,
    );
    console.log(
      `  ${s.label.padEnd(28)} ${rate(s).toLocaleString('en').padStart(7)} traces/s   ratio ${(rate(s) / base).toFixed(3)}   ` +
        `${queued.toLocaleString('en')} deliveries queued for ${traces.toLocaleString('en')} traces`,
    );
  }
  console.log(
    `matching alone: ${matchUs.toFixed(2)} µs per trace against ${RULES} rules (${matches} matches)`,
  );
  for (const s of setups) s.db.$client.close();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
}

await main();
