import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256Hex } from '../src/domain/crypto';
import { runTransfer } from '../src/jobs';
import { runDigests } from '../src/jobs/digests';
import { signingKeys } from '../src/store/schema';
import { type DigestDocument, gunzipBytes, gzipBytes, signingString } from '../src/transfer/digest';
import { generateSigner, importSigner, signString } from '../src/transfer/digest-signing';
import { readDigests } from './helpers/digests';
import { configureTracker, crashingBatches } from './helpers/transfer';
import {
  type Archive,
  archiveEnv,
  at,
  iso,
  reportSome,
  restoreBucket,
  runJobs,
  type Snapshot,
  saveKeys,
  snapshotBucket,
  verify,
} from './helpers/verify';

const run = promisify(execFile);
const BUCKET = 'lifecycle-archive';
const VERIFY_AT = iso(at(6));

/**
 * One archive through a tracker's life: verification on, off (ending digest) while transfer goes
 * on, on again (a new chain linked to the ending digest), a file recorded only after its hour's
 * digest, a signing key rotation, and finally the tracker disabled (ending digest).
 */
let archive: Archive;
let snapshot: Snapshot;
let oldKeyPem: string;

beforeAll(async () => {
  const { env, settings, dir } = await archiveEnv();
  env.clock.set(at(0));
  await configureTracker(env, {
    obs_info: { bucket_name: BUCKET, is_obs_created: true, file_prefix_name: 'acme' },
    is_support_validate: true,
  });
  await runJobs(env, at(0, 5));
  await reportSome(env, at(0, 10));
  await runJobs(env, at(0, 10));
  await reportSome(env, at(1, 10));
  await runJobs(env, at(1, 10));
  // Verification off: the chain ends; files keep going to the bucket, in no chain.
  env.clock.set(at(1, 20));
  await configureTracker(env, { is_support_validate: false });
  await reportSome(env, at(1, 25));
  await runJobs(env, at(1, 25));
  await reportSome(env, at(2, 10));
  await runJobs(env, at(2, 10));
  // On again: a new chain, linked to the ending digest.
  env.clock.set(at(2, 30));
  await configureTracker(env, { is_support_validate: true });
  await runJobs(env, at(2, 35));
  // A transfer at 14:59 uploads, then dies before recording the file: the 15:00 digest cannot
  // cover it; the retry records it after that digest, so the next one must.
  await reportSome(env, at(2, 59));
  env.clock.set(at(2, 59));
  await runTransfer({ ...env.deps, db: crashingBatches(env.deps.db) }, { now: at(2, 59) }).catch(
    () => undefined,
  );
  await runDigests(env.deps, { now: at(3, 0) + 30_000 });
  await runJobs(env, at(3, 5));
  // Key rotation: a configured key replaces the generated one.
  const [generated] = await env.deps.db.select().from(signingKeys);
  oldKeyPem = generated!.privateKeyPem!;
  env.deps.config.CTS_SIGNING_KEY = (await generateSigner()).privateKeyPem;
  await reportSome(env, at(3, 40));
  await runJobs(env, at(3, 40));
  await runJobs(env, at(4, 10));
  await runJobs(env, at(5, 10));
  // The tracker disabled: the chain ends.
  env.clock.set(at(5, 20));
  await configureTracker(env, { status: 'disabled' });
  await runJobs(env, at(5, 25));
  archive = { env, bucket: BUCKET, settings, keysFile: await saveKeys(env, dir) };
  snapshot = await snapshotBucket(env.deps.buckets.bucket(BUCKET));
});
afterAll(() => archive?.env.close());

const check = (flags: Record<string, string> = {}) =>
  verify(archive, { bucket: BUCKET, to: VERIFY_AT, now: VERIFY_AT, ...flags });

describe('a tracker life in one archive', () => {
  it('has the expected chain: start, ending, restart linked to it, rotation, ending', async () => {
    const digests = await readDigests(archive.env.deps, BUCKET);
    expect(digests.map((d) => [d.doc.digest_end_time, d.doc.digest_end, d.doc.previous_digest_end])).toEqual([
      ['2026-11-24T13-00-00Z', false, false],
      ['2026-11-24T13-25-00Z', true, false],
      ['2026-11-24T15-00-00Z', false, true],
      ['2026-11-24T16-00-00Z', false, false],
      ['2026-11-24T17-00-00Z', false, false],
      ['2026-11-24T17-25-00Z', true, false],
    ]);
    expect(digests[2]!.doc.previous_digest_object).toBe(digests[1]!.key);
    expect(digests[2]!.doc.digest_start_time).toBe('2026-11-24T14-35-00Z');
    // The crashed transfer recorded one of its 14:59 files before dying (the 15:00 digest covers
    // it); the retry recorded the other only after that digest: the 16:00 digest covers it.
    const named1459 = (i: number) => digests[i]!.doc.log_files.filter((f) => f.object.includes('T14-59-00Z'));
    expect(named1459(2)).toHaveLength(1);
    expect(named1459(3)).toHaveLength(1);
    expect(named1459(3)[0]!.object).not.toBe(named1459(2)[0]!.object);
    // Rotation: the old key signed up to the 15:00 digest, the configured key from 16:00 on.
    const fingerprints = digests.map((d) => d.doc.public_key_fingerprint);
    expect(new Set(fingerprints.slice(0, 3)).size).toBe(1);
    expect(new Set(fingerprints.slice(3)).size).toBe(1);
    expect(fingerprints[0]).not.toBe(fingerprints[5]);
  });

  it('verifies with zero findings, old-key digests included', async () => {
    await restoreBucket(archive.env.deps.buckets.bucket(BUCKET), snapshot);
    const result = await check();
    expect(result.findings).toEqual([]);
    expect(result.code).toBe(0);
    expect(result.summary).toMatch(/^6\/6 digest files valid, (\d+)\/\1 trace files valid$/);
    // The files written while verification was off (13:25: ECS, EVS and the CTS audit file of the
    // tracker change; 14:10: ECS, EVS) are in no chain, and that is no error.
    expect(result.lines).toContain(
      '5 trace files in the range belong to no digest chain (verification was off, or not digested yet).',
    );
    const keys = await (
      await archive.env.call('GET', `/v3/${archive.env.projectId}/digest-public-keys`)
    ).json();
    expect(keys.public_keys.map((k: { status: string }) => k.status)).toEqual(['retired', 'active']);
  });

  it('verifies a plain download (no metadata) of the whole life with zero findings', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'cts-download-')), BUCKET);
    for (const [key, object] of snapshot) {
      mkdirSync(dirname(join(dir, key)), { recursive: true });
      writeFileSync(join(dir, key), object.body);
    }
    const result = await verify(archive, { dir, to: VERIFY_AT, now: VERIFY_AT });
    expect(result.findings).toEqual([]);
    expect(result.summary).toMatch(/^6\/6 digest files valid, (\d+)\/\1 trace files valid$/);
    // Days later, nothing is due after the ending digest: still nothing to report.
    const later = iso(at(80));
    expect((await verify(archive, { dir, to: later, now: later })).findings).toEqual([]);
    rmSync(dirname(dir), { recursive: true });
  });

  it('reports a deleted ending digest once: no hour after it was due', async () => {
    const bucket = archive.env.deps.buckets.bucket(BUCKET);
    await restoreBucket(bucket, snapshot);
    const digests = await readDigests(archive.env.deps, BUCKET);
    const ending = digests[1]!; // 13:25, linked by the next chain's first digest
    await bucket.delete(ending.key);
    const result = await check();
    // Its two files of 13:10 lose their proof; the hours after it were never due.
    expect(result.findings).toEqual([
      `Digest file ${ending.key} INVALID: missing; 2 trace files of its hour are not proven`,
    ]);
  });

  it('reports digests signed by a key it was not given', async () => {
    await restoreBucket(archive.env.deps.buckets.bucket(BUCKET), snapshot);
    const keys = await (
      await archive.env.call('GET', `/v3/${archive.env.projectId}/digest-public-keys`)
    ).json();
    // Trusting only the old key: the three newest digests are signed with the new one, and nothing
    // trusted links to them. The older ones are proven: the 15:00 digest's own signature verifies.
    const pemFile = join(archive.settings.CTS_DATA_DIR!, 'old-key.pem');
    writeFileSync(pemFile, keys.public_keys[0].public_key);
    const result = await verify(archive, {
      bucket: BUCKET,
      to: VERIFY_AT,
      now: VERIFY_AT,
      'public-key': pemFile,
    });
    const digestFindings = result.findings.filter((line) => line.startsWith('Digest'));
    expect(digestFindings).toHaveLength(3);
    for (const line of digestFindings) expect(line).toMatch(/INVALID: signed with an unknown key/);
    expect(result.code).toBe(1);
  });

  it('reports a digest signed with a retired key after its retirement', async () => {
    const bucket = archive.env.deps.buckets.bucket(BUCKET);
    await restoreBucket(bucket, snapshot);
    const oldSigner = await importSigner(oldKeyPem);
    const [newest] = (await readDigests(archive.env.deps, BUCKET)).slice(-1);
    const doc: DigestDocument = JSON.parse(new TextDecoder().decode(await gunzipBytes(newest!.body)));
    doc.public_key_fingerprint = oldSigner.fingerprint;
    const body = await gzipBytes(new TextEncoder().encode(JSON.stringify(doc)));
    const signature = await signString(oldSigner.privateKey, signingString(doc, await sha256Hex(body)));
    await bucket.put(newest!.key, body, {
      contentType: 'application/gzip',
      metadata: { signature, 'signature-algorithm': 'SHA256withRSA' },
    });
    const result = await check();
    expect(result.findings[0]).toBe(
      `Digest file ${newest!.key} INVALID: signed with key ${oldSigner.fingerprint} after it was retired`,
    );
  });

  it('runs as the real `cts verify`: keys from the database, --dir or --bucket, progress on stderr', async () => {
    const bucket = archive.env.deps.buckets.bucket(BUCKET);
    await restoreBucket(bucket, snapshot);
    const env = { ...process.env, ...archive.settings };
    const base = [
      'bin/cts.mjs',
      'verify',
      '--project',
      archive.env.projectId,
      '--to',
      VERIFY_AT,
      '--now',
      VERIFY_AT,
    ];
    const dir = join(archive.settings.CTS_DATA_DIR!, 'buckets', BUCKET);
    const ok = await run(process.execPath, [...base, '--dir', dir, '--progress'], { env });
    expect(ok.stdout.trim().split('\n').at(-1)).toMatch(
      /^6\/6 digest files valid, (\d+)\/\1 trace files valid$/,
    );
    expect(ok.stderr).toMatch(/verify: (listing objects|digest files|trace files)/);

    const victim = [...snapshot.keys()].find((key) => key.includes('/EVS/'))!;
    await bucket.delete(victim);
    const failed = await run(process.execPath, [...base, '--bucket', BUCKET], { env }).catch(
      (error) => error,
    );
    expect(failed.code).toBe(1);
    expect(failed.stdout).toContain(`Trace file ${victim} INVALID: missing\n`);
    expect(failed.stderr).toBe('');

    const keys = await run(process.execPath, ['bin/cts.mjs', 'signing-keys', 'list'], { env });
    expect(keys.stdout).toMatch(/^[0-9a-f]{64} {2}retired {2}from .+ to .+\n[0-9a-f]{64} {2}active {3}from /);

    const usage = await run(process.execPath, [...base], { env }).catch((error) => error);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('Give exactly one of --bucket NAME or --dir PATH.');
  });
});
