/**
 * A libSQL server that stops answering: requests get a CTS error with 503 and `Retry-After`
 * (not a 500), writes `CTS.0004` and reads `CTS.0005`, and what was stored before is intact once
 * the server is back.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from '@libsql/client';
import { afterEach, describe, expect, it } from 'vitest';
import { aTrace, makeTestEnv, type TestEnv } from '../helpers/app';
import { type SqldServer, startSqld } from '../helpers/sqld';

describe('a database server that cannot be reached', () => {
  let env: TestEnv | undefined;
  const servers: SqldServer[] = [];
  // Given to sqld, so that stopping it keeps the database for the restart.
  const dbPath = mkdtempSync(join(tmpdir(), 'cts-unreachable-'));
  afterEach(async () => {
    env?.close();
    for (const server of servers) await server.stop();
    rmSync(dbPath, { recursive: true, force: true });
  });

  it('answers 503 with Retry-After, and loses nothing stored before', async () => {
    const sqld = await startSqld({ dbPath });
    servers.push(sqld);
    env = await makeTestEnv({ dbUrl: sqld.url });
    const stored = await env.call('POST', `/v3/${env.projectId}/traces`, {
      body: { traces: [aTrace({ trace_id: 'before' })] },
    });
    expect(stored.status).toBe(201);
    await sqld.stop();

    for (const [method, code] of [
      ['POST', 'CTS.0004'],
      ['GET', 'CTS.0005'],
    ] as const) {
      const res = await env.call(method, `/v3/${env.projectId}/traces`, {
        body: method === 'POST' ? { traces: [aTrace({ trace_id: 'during' })] } : undefined,
      });
      expect(res.status, method).toBe(503);
      expect(res.headers.get('Retry-After'), method).toBe('1');
      expect((await res.json()).error_code, method).toBe(code);
    }

    const restarted = await startSqld({ dbPath });
    servers.push(restarted);
    const client = createClient({ url: restarted.url });
    const rows = await client.execute({
      sql: 'select trace_id from traces where project_id = ?',
      args: [env.projectId],
    });
    client.close();
    expect(rows.rows.map((row) => row.trace_id)).toEqual(['before']);
  });
});
