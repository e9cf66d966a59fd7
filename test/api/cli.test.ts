import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/app';
import { parseConfig } from '../../src/config';
import { buildNodeDeps } from '../../src/runtime/node';
import { aTrace, silentLogger } from '../helpers/app';
import { traceIdsIn } from '../helpers/shards';
import { type SqldServer, startSqld } from '../helpers/sqld';

// The `cts` command as a user runs it: `node bin/cts.mjs …`, configured by the environment.

const BIN = fileURLToPath(new URL('../../bin/cts.mjs', import.meta.url));

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function cts(args: string[], env: Record<string, string>): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { env: { ...process.env, ...env }, timeout: 60_000 },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** The app on the CLI's database, opened after the command has exited. */
async function appOn(dir: string) {
  const deps = await buildNodeDeps(parseConfig({ CTS_DATA_DIR: dir }), { logger: silentLogger });
  return {
    app: createApp(deps),
    close: () => {
      deps.shards.close();
      deps.db.$client.close();
    },
  };
}

describe('cts (bin/cts.mjs)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cts-cli-'));
  const env = { CTS_DATA_DIR: dir };
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('migrates, creates a project and a reporter key that works, then revokes it', async () => {
    const migrate = await cts(['migrate'], env);
    expect(migrate).toMatchObject({ code: 0, stdout: 'Migrations applied.\n' });

    const created = await cts(['projects', 'create', '--name', 'shop'], env);
    expect(created.code).toBe(0);
    const project = JSON.parse(created.stdout) as { id: string; name: string };
    expect(project).toMatchObject({ id: expect.stringMatching(/^[0-9a-f]{32}$/), name: 'shop' });
    expect((await cts(['projects', 'list'], env)).stdout).toContain(`${project.id}  shop`);

    const key = await cts(
      ['keys', 'create', '--project', project.id, '--role', 'reporter', '--name', 'ci'],
      env,
    );
    expect(key.code).toBe(0);
    const token = key.stdout.match(/cts_[0-9a-f]{64}/)?.[0];
    const keyId = key.stdout.match(/reporter key (\S+) for project/)?.[1];
    expect(token && keyId).toBeTruthy();

    const path = `/v3/${project.id}/traces`;
    const headers = { 'X-Auth-Token': token!, 'Content-Type': 'application/json' };
    const body = JSON.stringify({ traces: [aTrace({ time: Date.now() - 1000 })] });
    let server = await appOn(dir);
    expect((await server.app.request(path, { method: 'POST', headers, body })).status).toBe(201);
    expect((await server.app.request(path, { headers })).status).toBe(403);
    server.close();

    const listed = await cts(['keys', 'list', '--project', project.id], env);
    expect(listed.stdout).toMatch(new RegExp(`${keyId}\\s+reporter\\s+ci\\n`));
    expect(await cts(['keys', 'revoke', '--project', project.id, '--key', keyId!], env)).toMatchObject({
      code: 0,
      stdout: 'Revoked.\n',
    });
    expect((await cts(['keys', 'list', '--project', project.id], env)).stdout).toContain('(revoked)');
    server = await appOn(dir);
    expect((await server.app.request(path, { method: 'POST', headers, body })).status).toBe(401);
    server.close();
    expect((await cts(['keys', 'revoke', '--project', project.id, '--key', keyId!], env)).code).toBe(1);
  }, 120_000); // ten CLI processes (tsx start-up each): slow on a loaded machine

  it.each([
    [
      ['keys', 'create', '--project', 'f'.repeat(32), '--role', 'root'],
      2,
      /--role must be one of reporter, reader, admin/,
    ],
    [['keys', 'create', '--role', 'reader'], 2, /--project is required/],
    [['keys', 'create', '--project', 'f'.repeat(32), '--role', 'reader'], 1, /does not exist/],
    [['projects', 'create', '--id', 'XYZ'], 1, /32 lowercase hex/],
  ])('refuses %j with exit code %i and a clear message', async (args, code, message) => {
    const run = await cts(args, env);
    expect(run.code).toBe(code);
    expect(run.stderr).toMatch(message);
  });

  it('explains itself, and fails on a bad configuration with exit code 2', async () => {
    const help = await cts([], env);
    expect(help.code).toBe(2);
    expect(help.stdout).toContain('keys create --project ID --role reporter|reader|admin');
    const bad = await cts(['serve'], { ...env, PORT: 'eighty' });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/Invalid configuration:\n\s+PORT: /);
  });
});

describe('cts migrate against a libSQL server', () => {
  let sqld: SqldServer;
  beforeAll(async () => {
    sqld = await startSqld();
  });
  afterAll(() => sqld.stop());

  it('applies the migrations over HTTP, and again without harm', async () => {
    const env = { CTS_DATA_DIR: mkdtempSync(join(tmpdir(), 'cts-cli-')), CTS_DATABASE_URL: sqld.url };
    expect((await cts(['migrate'], env)).code).toBe(0);
    expect((await cts(['migrate'], env)).code).toBe(0);
    const created = await cts(['projects', 'create'], env);
    expect(created.code).toBe(0);
    expect((await cts(['projects', 'list'], env)).stdout).toContain(JSON.parse(created.stdout).id);
    rmSync(env.CTS_DATA_DIR, { recursive: true, force: true });
  });
});

describe('cts shards', () => {
  const servers: SqldServer[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'cts-cli-shards-'));
  const env = { CTS_DATA_DIR: dir };
  beforeAll(async () => {
    servers.push(await startSqld(), await startSqld());
  });
  afterAll(async () => {
    for (const server of servers) await server.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('registers shards, places projects on them, serves them, and reports a shard it cannot reach', async () => {
    const [one, two] = servers as [SqldServer, SqldServer];
    expect(await cts(['shards', 'add', '--url', one.url], env)).toMatchObject({
      code: 0,
      stdout: expect.stringContaining('Registered shard shard-1'),
    });
    expect(
      (await cts(['shards', 'add', '--url', two.url, '--id', 'east', '--token-env', 'EAST_TOKEN'], env)).code,
    ).toBe(0);
    const bad = await cts(['shards', 'add', '--url', 'ftp://nowhere'], env);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/Invalid shard url/);
    const unreachable = await cts(['shards', 'add', '--url', 'http://127.0.0.1:9'], env);
    expect(unreachable).toMatchObject({ code: 1, stdout: '' });
    expect(unreachable.stderr).toBe(
      'The shard http://127.0.0.1:9 cannot be reached or migrated: bad port.\n',
    );

    const shardOf = async (args: string[]) => {
      const run = await cts(['projects', 'create', ...args], env);
      expect(run.code, run.stderr).toBe(0);
      return JSON.parse(run.stdout) as { id: string; shard: string };
    };
    const first = await shardOf([]);
    const second = await shardOf([]);
    const third = await shardOf(['--shard', 'east']);
    expect([first.shard, second.shard, third.shard]).toEqual(['shard-1', 'east', 'east']);
    expect((await cts(['projects', 'list'], env)).stdout).toContain(`${third.id}  default  (shard east)`);

    const listed = (await cts(['shards', 'list'], env)).stdout;
    expect(listed).toMatch(/^control\s+0 projects\s+up/m);
    expect(listed).toMatch(new RegExp(`^shard-1\\s+1 projects\\s+up\\s+${one.url}$`, 'm'));
    expect(listed).toMatch(new RegExp(`^east\\s+2 projects\\s+up\\s+${two.url}$`, 'm'));

    // The server routes each project to its shard.
    const key = await cts(['keys', 'create', '--project', first.id, '--role', 'reporter'], env);
    const token = key.stdout.match(/cts_[0-9a-f]{64}/)![0];
    const server = await appOn(dir);
    const res = await server.app.request(`/v3/${first.id}/traces`, {
      method: 'POST',
      headers: { 'X-Auth-Token': token, 'Content-Type': 'application/json' },
      body: JSON.stringify({ traces: [aTrace({ trace_id: 'routed', time: Date.now() - 1000 })] }),
    });
    expect(res.status).toBe(201);
    server.close();
    expect(await traceIdsIn(one.url, first.id)).toContain('routed');

    await two.stop();
    expect((await cts(['shards', 'list'], env)).stdout).toMatch(/^east\s+2 projects\s+DOWN/m);
    const migrate = await cts(['migrate'], env);
    expect(migrate.code).toBe(1);
    expect(migrate.stdout).toContain('shard shard-1: migrations applied.');
    expect(migrate.stdout).toMatch(/shard east: NOT MIGRATED/);
  }, 120_000);
});
