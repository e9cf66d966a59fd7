import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256Hex } from '../src/domain/crypto';
import type { Bucket, BucketStore } from '../src/transfer/bucket';
import { gunzipBytes, gzipBytes, HOUR_MS, signingString } from '../src/transfer/digest';
import { generateSigner, signString } from '../src/transfer/digest-signing';
import { createS3BucketStore } from '../src/transfer/s3-bucket';
import { type S3rverHandle, startS3rver } from './helpers/s3rver';
import {
  type Archive,
  at,
  buildArchive,
  digestKeyAt,
  iso,
  restoreBucket,
  type Snapshot,
  snapshotBucket,
  verify,
} from './helpers/verify';

let s3: S3rverHandle;
beforeAll(async () => {
  s3 = await startS3rver();
});
afterAll(async () => {
  await s3?.stop();
});

const VERIFY_AT = iso(at(6, 30));

describe.each([
  ['filesystem', () => ({})],
  [
    's3rver',
    () => ({ buckets: createS3BucketStore({ ...s3, forcePathStyle: true }), s3Settings: s3.config }),
  ],
] as Array<[string, () => { buckets?: BucketStore; s3Settings?: Record<string, string> }]>)(
  'cts verify on a %s archive',
  (kind, storeOf) => {
    let archive: Archive;
    let store: BucketStore;
    /** Trace file keys by the hour (12..17) and minute (10/40) of their name. */
    let traceKeys: string[];
    let snapshot: Snapshot;
    const traceAt = (hour: number, minute: number) =>
      traceKeys.filter((key) => key.includes(`T${hour}-${String(minute).padStart(2, '0')}-00Z_`));

    beforeAll(async () => {
      archive = await buildArchive({ ...storeOf(), bucket: `archive-${kind === 's3rver' ? 's3' : 'fs'}` });
      store = archive.env.deps.buckets;
      snapshot = await snapshotBucket(store.bucket(archive.bucket));
      traceKeys = [];
      for await (const { key } of store.bucket(archive.bucket).list('CloudTraces/'))
        if (!key.includes('/Digest/')) traceKeys.push(key);
    });
    afterAll(() => archive?.env.close());

    /** The real archive again (undoing the last test's tampering), and how to verify it. */
    async function copy(): Promise<{
      bucket: Bucket;
      run: (flags?: Record<string, string>) => ReturnType<typeof verify>;
    }> {
      const bucket = store.bucket(archive.bucket);
      await restoreBucket(bucket, snapshot);
      return {
        bucket,
        run: (flags = {}) =>
          verify(archive, { bucket: archive.bucket, to: VERIFY_AT, now: VERIFY_AT, ...flags }),
      };
    }

    async function rewrite(
      bucket: Bucket,
      key: string,
      change: (body: Uint8Array) => Uint8Array | Promise<Uint8Array>,
    ) {
      const object = (await bucket.get(key))!;
      await bucket.put(key, await change(object.body), {
        contentType: object.contentType ?? 'application/gzip',
        metadata: object.metadata,
      });
    }

    const notCovered = (keys: string[]) =>
      keys.map((key) => `Trace file ${key} INVALID: not covered by any valid digest`);

    it('reports nothing for the untouched archive', async () => {
      const { run } = await copy();
      const result = await run();
      expect(result.findings).toEqual([]);
      expect(result.code).toBe(0);
      // 6 hourly digests (13:00..18:00); 2 files at :10 and :40 of 6 hours, plus the CTS audit file.
      expect(traceKeys).toHaveLength(25);
      expect(result.summary).toBe('6/6 digest files valid, 25/25 trace files valid');
      const ranged = await run({ from: iso(at(2)) });
      expect(ranged.findings).toEqual([]);
      expect(ranged.summary).toBe('4/4 digest files valid, 16/16 trace files valid');
    });

    it('finds a deleted trace file', async () => {
      const { bucket, run } = await copy();
      const [victim] = traceAt(14, 10);
      await bucket.delete(victim!);
      const result = await run();
      expect(result.findings).toEqual([`Trace file ${victim} INVALID: missing`]);
      expect(result.code).toBe(1);
      expect(result.summary).toBe('6/6 digest files valid, 24/25 trace files valid');
    });

    it.each([
      ['one changed byte', (b: Uint8Array) => b.map((byte, i) => (i === 40 ? byte ^ 1 : byte))],
      [
        'a second gzip member appended',
        async (b: Uint8Array) => {
          const extra = await gzipBytes(new TextEncoder().encode('[{"trace_name":"forged"}]'));
          return new Uint8Array([...b, ...extra]);
        },
      ],
      ['truncation', (b: Uint8Array) => b.slice(0, b.length - 9)],
    ])('finds a trace file changed by %s', async (_what, change) => {
      const { bucket, run } = await copy();
      const [victim] = traceAt(15, 40);
      await rewrite(bucket, victim!, change);
      const result = await run();
      expect(result.findings).toEqual([`Trace file ${victim} INVALID: hash mismatch`]);
      expect(result.code).toBe(1);
    });

    it('finds a trace file replaced by one from another hour', async () => {
      const { bucket, run } = await copy();
      const [victim] = traceAt(16, 10);
      const [other] = traceAt(13, 10);
      const source = (await bucket.get(other!))!;
      await bucket.put(victim!, source.body, { contentType: 'application/gzip' });
      const result = await run();
      expect(result.findings).toEqual([`Trace file ${victim} INVALID: hash mismatch`]);
    });

    it('finds a trace file slipped in that no digest covers', async () => {
      const { bucket, run } = await copy();
      const [model] = traceAt(14, 40);
      const forged = model!.replace(/_[0-9a-f]{16}\.json\.gz$/, '_00000000deadbeef.json.gz');
      await bucket.put(forged, (await bucket.get(model!))!.body, { contentType: 'application/gzip' });
      const result = await run();
      expect(result.findings).toEqual(notCovered([forged]));
      expect(result.code).toBe(1);
    });

    it.each([
      [1, [4]],
      [2, [3, 4]],
      [3, [2, 3, 4]],
    ])('finds %i deleted consecutive digest(s)', async (_n, hours) => {
      const { bucket, run } = await copy();
      for (const hour of hours) await bucket.delete(digestKeyAt(archive, at(hour)));
      const result = await run();
      const uncovered = hours
        .flatMap((hour) => [...traceAt(11 + hour, 10), ...traceAt(11 + hour, 40)])
        .sort();
      // One finding per deleted digest; the files of its hour are named in it, not blamed.
      expect(result.findings).toEqual(
        [...hours]
          .reverse()
          .map(
            (hour) =>
              `Digest file ${digestKeyAt(archive, at(hour))} INVALID: missing; 4 trace files of its hour are not proven`,
          ),
      );
      expect(result.code).toBe(1);
      expect(result.summary).toBe(
        `${6 - hours.length}/6 digest files valid, ${25 - uncovered.length}/25 trace files valid`,
      );
    });

    it('finds the newest digest deleted (by the hourly cadence)', async () => {
      const { bucket, run } = await copy();
      await bucket.delete(digestKeyAt(archive, at(6)));
      const result = await run();
      expect(result.findings).toEqual([
        `Digest file ${digestKeyAt(archive, at(6))} INVALID: missing; 4 trace files of its hour are not proven`,
      ]);
      expect(result.code).toBe(1);
    });

    it('finds a moved digest', async () => {
      const { bucket, run } = await copy();
      const original = digestKeyAt(archive, at(3));
      const moved = original.replace('T15-00-00Z', 'T15-30-00Z');
      const object = (await bucket.get(original))!;
      await bucket.put(moved, object.body, { contentType: 'application/gzip', metadata: object.metadata });
      await bucket.delete(original);
      const result = await run();
      // One finding for one move; its content is still authentic, so its files stay proven.
      expect(result.findings).toEqual([
        `Digest file ${moved} INVALID: stored under another key (its digest_object is ${original}); nothing is left at its own key`,
      ]);
      expect(result.summary).toBe('5/6 digest files valid, 25/25 trace files valid');
    });

    it('finds an altered digest field', async () => {
      const { bucket, run } = await copy();
      const key = digestKeyAt(archive, at(3));
      let dropped = '';
      await rewrite(bucket, key, async (body) => {
        const doc = JSON.parse(new TextDecoder().decode(await gunzipBytes(body)));
        dropped = doc.log_files[0].object;
        doc.log_files = doc.log_files.slice(1);
        return gzipBytes(new TextEncoder().encode(JSON.stringify(doc)));
      });
      const result = await run();
      // The digest, and the file it no longer lists; the files it still lists are not blamed.
      expect(result.findings).toEqual([
        `Digest file ${key} INVALID: signature verification failed; hash does not match previous_digest_hash_value in ${digestKeyAt(archive, at(4))}; 4 trace files of its hour are not proven`,
      ]);
      expect(result.json?.findings[0]?.unproven).toContain(dropped);
      expect(result.code).toBe(1);
    });

    it.each([
      ['keeping the fingerprint', false, 'signature verification failed'],
      ['naming its own key', true, 'signed with an unknown key'],
    ])('finds a digest re-signed with a different key, %s', async (_what, ownFingerprint, reason) => {
      const { bucket, run } = await copy();
      const { signer } = await generateSigner();
      const key = digestKeyAt(archive, at(6)); // the newest: no later digest vouches for it
      const object = (await bucket.get(key))!;
      const doc = JSON.parse(new TextDecoder().decode(await gunzipBytes(object.body)));
      const dropped = doc.log_files[0].object;
      doc.log_files = doc.log_files.slice(1);
      if (ownFingerprint) doc.public_key_fingerprint = signer.fingerprint;
      const body = await gzipBytes(new TextEncoder().encode(JSON.stringify(doc)));
      const signature = await signString(signer.privateKey, signingString(doc, await sha256Hex(body)));
      await bucket.put(key, body, {
        contentType: 'application/gzip',
        metadata: { signature, 'signature-algorithm': 'SHA256withRSA' },
      });
      const result = await run();
      expect(result.findings[0]).toMatch(new RegExp(`^Digest file ${key} INVALID: ${reason}`));
      expect(result.findings[0]).toMatch(/; 4 trace files of its hour are not proven$/);
      expect(result.findings).toHaveLength(1);
      expect(result.json?.findings[0]?.unproven).toContain(dropped);
      expect(result.code).toBe(1);
    });

    it('needs no signature metadata: the chain and the signature object prove the digests', async () => {
      const { bucket, run } = await copy();
      for (const hour of [2, 6]) {
        const key = digestKeyAt(archive, at(hour));
        const object = (await bucket.get(key))!;
        await bucket.put(key, object.body, { contentType: 'application/gzip', metadata: {} });
      }
      const result = await run();
      expect(result.findings).toEqual([]);
      expect(result.summary).toBe('6/6 digest files valid, 25/25 trace files valid');
    });

    it('finds the newest digest with no signature anywhere (metadata removed, signature object deleted)', async () => {
      const { bucket, run } = await copy();
      for (const hour of [2, 6]) {
        const key = digestKeyAt(archive, at(hour));
        const object = (await bucket.get(key))!;
        await bucket.put(key, object.body, { contentType: 'application/gzip', metadata: {} });
        await bucket.delete(`${key}.sig`);
      }
      const result = await run();
      // The older one is still proven by the next digest's previous_digest_hash_value.
      expect(result.findings).toEqual([
        `Digest file ${digestKeyAt(archive, at(6))} INVALID: no signature (none in the object metadata, no signature object beside it); 4 trace files of its hour are not proven`,
      ]);
      expect(result.code).toBe(1);
    });

    it('reports digests that stopped coming (jobs down for 3 days) as one folded finding', async () => {
      const { run } = await copy();
      const later = iso(at(6 + 72, 30));
      const result = await run({ to: later, now: later });
      expect(result.findings).toEqual([
        `Digest file ${digestKeyAt(archive, at(7))} INVALID: missing, and 71 more hourly digests up to ${iso(at(6 + 72))}`,
      ]);
      expect(result.summary).toBe('6/78 digest files valid, 25/25 trace files valid');
      expect(result.code).toBe(1);
    });

    it('finds digests missing before a range start and after its end', async () => {
      const { bucket, run } = await copy();
      await bucket.delete(digestKeyAt(archive, at(3)));
      const result = await run({ from: iso(at(2, 30)), to: iso(at(5, 30)) });
      expect(result.findings.filter((line) => line.startsWith('Digest'))).toEqual([
        `Digest file ${digestKeyAt(archive, at(3))} INVALID: missing; 2 trace files of its hour are not proven`,
      ]);
      expect(at(6) - at(5, 30)).toBeLessThan(HOUR_MS);
    });
  },
);
