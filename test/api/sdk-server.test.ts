import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFsBucketStore } from '../../src/runtime/fs-bucket';
import { ctsClient } from '../helpers/cts-sdk';
import { exerciseEveryOperation } from '../helpers/cts-sdk-suite';
import { runCli } from '../helpers/worker';
import { type ServerProcess, startServerProcess } from '../prove/helpers/server-process';

// The official SDK's transport and signer against `npm start` (the built server as a child process):
// the pair comes from `cts keys create`, as a user gets it.

const PROJECT = '5dcd0000000000000000000000000a01';
const OTHER = '5dcd0000000000000000000000000b02';

let root: string;
let server: ServerProcess;
const pairs: Record<string, { ak: string; sk: string; token: string }> = {};

/** `cts keys create`'s output: the token, then the two AK/SK lines exactly. */
function parseCreatedKey(stdout: string) {
  const ak = stdout.match(/^access key id: ([0-9A-F]{32})$/m)?.[1];
  const sk = stdout.match(/^secret access key: ([0-9a-f]{64})$/m)?.[1];
  const token = stdout.match(/^(cts_[0-9a-f]{64})$/m)?.[1];
  if (!ak || !sk || !token) throw new Error(`unexpected cts keys create output:\n${stdout}`);
  return { ak, sk, token };
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'cts-sdk-server-'));
  const env = { CTS_DATA_DIR: join(root, 'data') };
  for (const [id, name] of [
    [PROJECT, 'sdk'],
    [OTHER, 'other'],
  ] as const) {
    await runCli(['projects', 'create', '--id', id, '--name', name], env);
    pairs[name] = parseCreatedKey(
      (await runCli(['keys', 'create', '--project', id, '--role', 'admin'], env)).stdout,
    );
  }
  await createFsBucketStore(join(root, 'data', 'buckets')).create('sdk-tracked');
  server = await startServerProcess({ env: { ...env, CTS_JOBS_INTERVAL_SECONDS: '86400' } });
}, 120_000);

afterAll(async () => {
  await server?.stop();
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('the official CTS SDK against npm start (AK/SK)', () => {
  it('prints the pair exactly as documented, and the pair is not the token', () => {
    expect(pairs.sdk?.ak).toMatch(/^[0-9A-F]{32}$/);
    expect(pairs.sdk?.sk).not.toBe(pairs.sdk?.token);
  });

  it('runs all 16 CtsClient operations signed, each answer in the SDK model', async () => {
    const sdk = pairs.sdk!;
    const other = pairs.other!;
    const client = (ak: string, sk: string, securityToken?: string) =>
      ctsClient({ endpoint: server.url, ak, sk, projectId: PROJECT, securityToken });
    await exerciseEveryOperation({
      client: client(sdk.ak, sdk.sk),
      foreignClient: client(other.ak, other.sk),
      badSecretClient: client(sdk.ak, `${sdk.sk.slice(0, -1)}${sdk.sk.endsWith('0') ? '1' : '0'}`),
      temporaryClient: client(sdk.ak, sdk.sk, 'temporary-session-token'),
      projectId: PROJECT,
      domainId: PROJECT,
      accessKeyId: sdk.ak,
      bucket: 'sdk-tracked',
      async report(traces) {
        const res = await fetch(`${server.url}/v3/${PROJECT}/traces`, {
          method: 'POST',
          headers: { 'X-Auth-Token': sdk.token, 'Content-Type': 'application/json' },
          body: JSON.stringify({ traces }),
        });
        expect(res.status, await res.clone().text()).toBe(201);
      },
    });
  });
});
