/**
 * A database written by an earlier version may already hold a trace whose text is not UTF-8
 * (a lone surrogate decoded by `->>` into `ED B0 80`): reading it aborted the process (embedded)
 * or failed every query (sqld). The startup repair (`migrateDb` → `repairStoredText`) must find
 * it, rewrite only the bad column with U+FFFD, leave valid text that shares the `ED` lead byte
 * (Hangul) alone, repair `\\udc00` escapes in the JSON columns too, and check each row once.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { migrateDb } from '../../src/runtime/node-db';
import { makeTestEnv, type TestEnv } from '../helpers/app';
import { useBackends } from '../helpers/backends';

const backends = useBackends();

describe.each(backends)('repair of stored text ($name)', (backend) => {
  let env: TestEnv;
  beforeEach(async () => {
    env = await makeTestEnv({ dbUrl: backend.dbUrl() });
  });
  afterEach(() => env.close());

  /** Inserts a trace the way earlier versions did, `resource_name` decoded from JSON text by SQLite. */
  async function insertOldRow(traceId: string, resourceNameJson: string) {
    await env.deps.db.$client.execute({
      sql: `insert into traces (project_id, tracker_name, trace_id, trace_name, trace_rating, trace_type,
              service_type, resource_type, resource_name, user, time, record_time)
            select ?, 'system', ?, 'createTracker', 'warning', 'ApiCall', 'CTS', 'tracker',
              json_extract(?, '$[0]'), '{"name":"k\\udc00"}', ?, ?`,
      args: [env.projectId, traceId, `[${resourceNameJson}]`, env.clock(), env.clock()],
    });
  }

  it('rewrites invalid UTF-8 left by an earlier version, once, and every query answers again', async () => {
    await insertOldRow('bad-1', '"a\\udc00b"');
    await insertOldRow('hangul-1', '"\ud55c\uad6d\uc5b4"'); // 한국어: ED 95 9C ..., valid
    const bytes = await env.deps.db.$client.execute(
      "select hex(resource_name) as h from traces where trace_id = 'bad-1'",
    );
    expect(bytes.rows[0]?.h).toBe('61EDB08062'); // the bytes that crashed the reader

    expect(await migrateDb(env.deps.db)).toBe(2); // both rows have the \udc00 escape in `user`
    expect(await migrateDb(env.deps.db)).toBe(0); // checked once

    const res = await env.call('GET', `/v3/${env.projectId}/traces?trace_type=system&limit=200`);
    expect(res.status).toBe(200);
    const traces = (await res.json()).traces as Array<Record<string, unknown>>;
    const byId = Object.fromEntries(traces.map((t) => [t.trace_id, t]));
    expect(byId['bad-1']?.resource_name).toBe('a\ufffdb');
    expect(byId['bad-1']?.user).toEqual({ name: 'k\ufffd' }); // the escape in JSON text, repaired too
    expect(byId['hangul-1']?.resource_name).toBe('\ud55c\uad6d\uc5b4');
    expect((await env.call('GET', `/v3/${env.projectId}/traces?resource_name=a%EF%BF%BDb`)).status).toBe(200);
  });
});
