import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { and, eq } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sha256Hex } from '../src/domain/crypto';
import { rotateSigningKey } from '../src/domain/digests/signing-keys';
import { runDigests } from '../src/jobs/digests';
import { signingKeys, trackers, transferredFiles } from '../src/store/schema';
import { HOUR_MS, signingString } from '../src/transfer/digest';
import { generateSigner, importVerifiers, verifyString } from '../src/transfer/digest-signing';
import { makeTestEnv, type TestEnv } from './helpers/app';
import { BUCKET, configureTracker, putTraceFile, readDigests } from './helpers/digests';

let env: TestEnv;
const T0 = Date.UTC(2026, 10, 24, 12, 0, 0);
const at = (hours: number, minutes = 0) => T0 + hours * HOUR_MS + minutes * 60_000;
const run = (now: number, maxDigests?: number) => {
  env.clock.set(now);
  return runDigests(env.deps, { now, maxDigests });
};

beforeEach(async () => {
  env = await makeTestEnv();
});
afterEach(() => env.close());

async function trackerRow() {
  const [row] = await env.deps.db
    .select()
    .from(trackers)
    .where(and(eq(trackers.projectId, env.projectId), eq(trackers.trackerName, 'system')));
  return row!;
}

describe('digest job', () => {
  it('does nothing (and makes no key) while no tracker verifies', async () => {
    const summary = await run(at(3));
    expect(summary).toMatchObject({ written: 0, started: 0 });
    expect(await env.deps.db.select().from(signingKeys)).toEqual([]);
    // Asking for the public keys makes the key, so that it can be fetched before the first digest.
    const { public_keys } = await (await env.call('GET', `/v3/${env.projectId}/digest-public-keys`)).json();
    expect(public_keys).toHaveLength(1);
    expect(await runDigests(env.deps, { now: at(4) })).toMatchObject({ written: 0 });
    expect(await env.deps.db.select().from(signingKeys)).toHaveLength(1);
  });

  it('starts a chain, writes hourly digests (empty ones too) and links them', async () => {
    await configureTracker(env.deps, env.projectId);
    expect(await run(at(0, 20))).toMatchObject({ started: 1, written: 0 });
    const file = await putTraceFile(env.deps, env.projectId, at(0, 25));
    expect(await run(at(1, 0))).toMatchObject({ written: 1, filesCovered: 1 });
    expect(await run(at(2, 1))).toMatchObject({ written: 1, filesCovered: 0 });

    const [first, second] = await readDigests(env.deps);
    expect(first!.key).toBe(
      `CloudTraces/local-1/2026/11/24/system/Digest/CloudTrace-Digest_local-1-${env.projectId}_2026-11-24T13-00-00Z.json.gz`,
    );
    expect(first!.doc).toMatchObject({
      project_id: env.projectId,
      digest_start_time: '2026-11-24T12-20-00Z',
      digest_end_time: '2026-11-24T13-00-00Z',
      digest_bucket: BUCKET,
      digest_object: first!.key,
      digest_signature_algorithm: 'SHA256withRSA',
      digest_end: false,
      previous_digest_object: '',
      previous_digest_signature: '',
      previous_digest_end: false,
      oldest_trace_time: at(0, 25) - 1000,
      newest_trace_time: at(0, 25) - 1000,
      log_files: [
        {
          bucket: BUCKET,
          object: file.key,
          log_hash_value: await sha256Hex(file.body),
          log_hash_algorithm: 'SHA-256',
        },
      ],
    });
    expect(first!.metadata['signature-algorithm']).toBe('SHA256withRSA');
    expect(first!.metadata.signature).toMatch(/^[0-9a-f]{512}$/);

    // The empty hour still gets its digest, chained to the one before.
    expect(second!.doc).toMatchObject({
      digest_start_time: '2026-11-24T13-00-00Z',
      digest_end_time: '2026-11-24T14-00-00Z',
      log_files: [],
      oldest_trace_time: null,
      previous_digest_object: first!.key,
      previous_digest_hash_value: await sha256Hex(first!.body),
      previous_digest_hash_algorithm: 'SHA-256',
      previous_digest_signature: first!.metadata.signature,
    });
    // The signature covers the signing string of DESIGN §5 under the published key.
    const published = await env.call('GET', `/v3/${env.projectId}/digest-public-keys`, {
      key: env.keys.reader,
    });
    const { public_keys } = await published.json();
    expect(public_keys).toHaveLength(1);
    expect(public_keys[0].fingerprint).toBe(second!.doc.public_key_fingerprint);
    const [verifier] = await importVerifiers(public_keys[0].public_key);
    const text = signingString(second!.doc, await sha256Hex(second!.body));
    expect(await verifyString(verifier!.publicKey, text, second!.metadata.signature!)).toBe(true);
    expect(await verifyString(verifier!.publicKey, `${text}x`, second!.metadata.signature!)).toBe(false);
  });

  it('signs so that openssl, an independent implementation, verifies the signature', async () => {
    await configureTracker(env.deps, env.projectId);
    await run(at(0, 10));
    await putTraceFile(env.deps, env.projectId, at(0, 30));
    await run(at(1, 5));
    const [digest] = await readDigests(env.deps);
    const { public_keys } = await (await env.call('GET', `/v3/${env.projectId}/digest-public-keys`)).json();

    const dir = mkdtempSync(join(tmpdir(), 'cts-openssl-'));
    writeFileSync(join(dir, 'pub.pem'), public_keys[0].public_key);
    writeFileSync(join(dir, 'sig.bin'), Buffer.from(digest!.metadata.signature!, 'hex'));
    writeFileSync(join(dir, 'data'), signingString(digest!.doc, await sha256Hex(digest!.body)));
    const args = ['dgst', '-sha256', '-verify', join(dir, 'pub.pem'), '-signature', join(dir, 'sig.bin')];
    expect(execFileSync('/usr/bin/openssl', [...args, join(dir, 'data')]).toString()).toContain(
      'Verified OK',
    );
    writeFileSync(join(dir, 'data'), `${signingString(digest!.doc, '0'.repeat(64))}`);
    expect(() => execFileSync('/usr/bin/openssl', [...args, join(dir, 'data')], { stdio: 'pipe' })).toThrow();
    // The key really is RSA of at least 2048 bits.
    const text = execFileSync('/usr/bin/openssl', [
      'pkey',
      '-pubin',
      '-in',
      join(dir, 'pub.pem'),
      '-noout',
      '-text',
    ]);
    expect(text.toString()).toMatch(/Public-Key: \(2048 bit\)/);
    // The fingerprint is the SHA-256 of the SubjectPublicKeyInfo DER, as openssl sees it too.
    const der = execFileSync('/usr/bin/openssl', [
      'pkey',
      '-pubin',
      '-in',
      join(dir, 'pub.pem'),
      '-outform',
      'DER',
    ]);
    expect(await sha256Hex(new Uint8Array(der))).toBe(digest!.doc.public_key_fingerprint);
  });

  it('covers a file recorded after its hour was digested with the next digest', async () => {
    await configureTracker(env.deps, env.projectId);
    await run(at(0, 5));
    await run(at(1, 0));
    // Uploaded at 12:59 (its name says so) but recorded only after the 13:00 digest.
    const late = await putTraceFile(env.deps, env.projectId, at(0, 59));
    await run(at(2, 0));
    const [first, second] = await readDigests(env.deps);
    expect(first!.doc.log_files).toEqual([]);
    expect(second!.doc.log_files.map((f) => f.object)).toEqual([late.key]);
    const [row] = await env.deps.db.select().from(transferredFiles);
    expect(row!.digestKey).toBe(second!.key);
  });

  it('ends the chain when verification is turned off and restarts it, linked, when turned on', async () => {
    await configureTracker(env.deps, env.projectId);
    await run(at(0, 10));
    await run(at(1, 0));
    const file = await putTraceFile(env.deps, env.projectId, at(1, 10));
    await configureTracker(env.deps, env.projectId, { isSupportValidate: false });
    expect(await run(at(1, 20))).toMatchObject({ written: 1, ended: 1 });
    expect((await trackerRow()).digestWindowStart).toBeNull();
    // Files written while verification is off belong to no chain.
    await putTraceFile(env.deps, env.projectId, at(1, 40));
    expect(await run(at(3, 0))).toMatchObject({ written: 0 });

    await configureTracker(env.deps, env.projectId, { isSupportValidate: true });
    expect(await run(at(3, 30))).toMatchObject({ started: 1 });
    await run(at(4, 0));
    const digests = await readDigests(env.deps);
    expect(digests.map((d) => [d.doc.digest_start_time, d.doc.digest_end_time, d.doc.digest_end])).toEqual([
      ['2026-11-24T12-10-00Z', '2026-11-24T13-00-00Z', false],
      ['2026-11-24T13-00-00Z', '2026-11-24T13-20-00Z', true],
      ['2026-11-24T15-30-00Z', '2026-11-24T16-00-00Z', false],
    ]);
    expect(digests[1]!.doc.log_files.map((f) => f.object)).toEqual([file.key]);
    expect(digests[2]!.doc).toMatchObject({
      previous_digest_object: digests[1]!.key,
      previous_digest_end: true,
      log_files: [],
    });
  });

  it('ends the chain when the tracker is disabled, and when it is deleted', async () => {
    await configureTracker(env.deps, env.projectId);
    await run(at(0, 10));
    await configureTracker(env.deps, env.projectId, { status: 'disabled' });
    expect(await run(at(0, 40))).toMatchObject({ ended: 1 });

    await configureTracker(env.deps, env.projectId, { status: 'enabled' });
    await run(at(1, 10));
    await run(at(2, 0));
    await env.deps.db.delete(trackers).where(eq(trackers.projectId, env.projectId));
    expect(await run(at(2, 30))).toMatchObject({ ended: 1 });
    expect(await run(at(3, 30))).toMatchObject({ written: 0 });
    const last = (await readDigests(env.deps)).at(-1)!;
    expect(last.doc).toMatchObject({ digest_end: true, digest_end_time: '2026-11-24T14-30-00Z' });
  });

  it('ends the chain in the old bucket and starts one in the new when the bucket changes', async () => {
    await configureTracker(env.deps, env.projectId);
    await run(at(0, 10));
    await configureTracker(env.deps, env.projectId, { bucketName: 'other-bucket' });
    expect(await run(at(0, 30))).toMatchObject({ ended: 1, started: 1 });
    await run(at(1, 0));
    expect((await readDigests(env.deps)).map((d) => d.doc.digest_end)).toEqual([true]);
    const [first] = await readDigests(env.deps, 'other-bucket');
    expect(first!.doc).toMatchObject({ previous_digest_object: '', digest_bucket: 'other-bucket' });
  });

  it('lets a chain go when its bucket was deleted, and starts one in the new bucket', async () => {
    await configureTracker(env.deps, env.projectId);
    await run(at(0, 10));
    await run(at(1, 0));
    rmSync(join(env.deps.config.CTS_DATA_DIR, 'buckets', BUCKET), { recursive: true });
    await configureTracker(env.deps, env.projectId, { bucketName: 'new-bucket' });
    expect(await run(at(1, 10))).toMatchObject({ written: 0, started: 1, failures: [] });
    await run(at(2, 0));
    const [first] = await readDigests(env.deps, 'new-bucket');
    expect(first!.doc).toMatchObject({
      digest_start_time: '2026-11-24T13-10-00Z',
      previous_digest_object: '',
    });
  });

  it('serves the public keys to readers only, and documents the route', async () => {
    await configureTracker(env.deps, env.projectId);
    await run(at(0, 10));
    const path = `/v3/${env.projectId}/digest-public-keys`;
    expect((await env.call('GET', path, { key: env.keys.reporter })).status).toBe(403);
    expect((await env.call('GET', path, { key: null })).status).toBe(401);
    const res = await env.call('GET', path, { key: env.keys.reader });
    const [key] = (await res.json()).public_keys;
    expect(key).toMatchObject({ algorithm: 'SHA256withRSA', status: 'active', valid_to: null });
    expect(key.public_key).toMatch(/^-----BEGIN PUBLIC KEY-----\n/);
    expect(key.valid_from).toBe(new Date(at(0, 10)).toISOString());
    const doc = await (await env.call('GET', '/openapi.json', { key: null })).json();
    expect(doc.paths['/v3/{project_id}/digest-public-keys']).toBeDefined();
  });

  it('rotates a generated key: new digests name the new key, the old one stays published', async () => {
    await configureTracker(env.deps, env.projectId);
    await run(at(0, 10));
    await run(at(1, 0));
    env.clock.set(at(1, 30));
    const rotated = await rotateSigningKey(env.deps);
    await run(at(2, 0));
    const [before, after] = await readDigests(env.deps);
    expect(after!.doc.public_key_fingerprint).toBe(rotated.fingerprint);
    expect(before!.doc.public_key_fingerprint).not.toBe(rotated.fingerprint);
    const { public_keys } = await (await env.call('GET', `/v3/${env.projectId}/digest-public-keys`)).json();
    expect(
      public_keys.map((k: { fingerprint: string; status: string; valid_to: string | null }) => [
        k.fingerprint,
        k.status,
        k.valid_to,
      ]),
    ).toEqual([
      [before!.doc.public_key_fingerprint, 'retired', new Date(at(1, 30)).toISOString()],
      [rotated.fingerprint, 'active', null],
    ]);
    // Both digests still verify under their own published key.
    for (const digest of [before!, after!]) {
      const key = public_keys.find(
        (k: { fingerprint: string }) => k.fingerprint === digest.doc.public_key_fingerprint,
      );
      const [verifier] = await importVerifiers(key.public_key);
      const text = signingString(digest.doc, await sha256Hex(digest.body));
      expect(await verifyString(verifier!.publicKey, text, digest.metadata.signature!)).toBe(true);
    }
    // A configured key is rotated by configuring another one, not by this.
    env.deps.config.CTS_SIGNING_KEY = (await generateSigner()).privateKeyPem;
    await expect(rotateSigningKey(env.deps)).rejects.toThrow(/CTS_SIGNING_KEY/);
  });

  it('catches up missed hours in bounded runs', async () => {
    await configureTracker(env.deps, env.projectId);
    await run(at(0, 10));
    expect(await run(at(10, 5), 4)).toMatchObject({ written: 4, behind: 1 });
    expect(await run(at(10, 6), 4)).toMatchObject({ written: 4, behind: 1 });
    expect(await run(at(10, 7), 4)).toMatchObject({ written: 2, behind: 0 });
    const digests = await readDigests(env.deps);
    expect(digests).toHaveLength(10);
    digests.slice(1).forEach((d, i) => {
      expect(d.doc.previous_digest_object).toBe(digests[i]!.key);
    });
  });
});
