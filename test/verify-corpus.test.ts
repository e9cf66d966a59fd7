import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256Hex } from '../src/domain/crypto';
import type { Bucket, BucketStore } from '../src/transfer/bucket';
import { gunzipBytes, gzipBytes, signingString } from '../src/transfer/digest';
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

/**
 * The tampering corpus: every change an auditor's adversary can make to a real archive (built by
 * the jobs), each with exactly the findings it must give — one per tampered object — and the
 * untouched archive, in the bucket and as a plain download (no metadata), with none.
 */
let s3: S3rverHandle;
beforeAll(async () => {
  s3 = await startS3rver();
});
afterAll(async () => {
  await s3?.stop();
});

const VERIFY_AT = iso(at(6, 30));

interface Tampering {
  bucket: Bucket;
  /** Trace file keys named at `hour`:`minute` (12..17, 10 or 40). */
  traceAt: (hour: number, minute: number) => string[];
  digest: (hour: number) => string;
  /** The filesystem path of a key (filesystem archive only). */
  path?: (key: string) => string;
  /** Undoing what the bucket API cannot (folders, FIFOs, links). */
  cleanup: Array<() => void>;
}

const decode = async (body: Uint8Array) => JSON.parse(new TextDecoder().decode(await gunzipBytes(body)));
const encode = (doc: unknown) => gzipBytes(new TextEncoder().encode(JSON.stringify(doc)));
/**
 * A key the service never writes: its 16-hex suffix in capitals — or, when the suffix has no letter
 * to capitalise (1 run in ~2,000: the suffix is a hash of a random project id), its last digit
 * made a `G`; before, such a run "forged" the model's own name (EEXIST on the folder test).
 */
const upper = (key: string) =>
  key.replace(/_([0-9a-f]{16})\.json\.gz$/, (_m, hex: string) =>
    /[a-f]/.test(hex) ? `_${hex.toUpperCase()}.json.gz` : `_${hex.slice(0, 15)}G.json.gz`,
  );

async function copyObject(bucket: Bucket, from: string, to: string, metadata?: Record<string, string>) {
  const object = (await bucket.get(from))!;
  await bucket.put(to, object.body, {
    contentType: object.contentType ?? 'application/gzip',
    metadata: metadata ?? object.metadata,
  });
}

/** A digest forged with the adversary's own key, stored at its own (well-formed) key. */
async function forgeDigest(bucket: Bucket, model: string, key: string) {
  const { signer } = await generateSigner();
  const doc = await decode((await bucket.get(model))!.body);
  doc.digest_object = key;
  doc.public_key_fingerprint = signer.fingerprint;
  const body = await encode(doc);
  const signature = await signString(signer.privateKey, signingString(doc, await sha256Hex(body)));
  await bucket.put(key, body, {
    contentType: 'application/gzip',
    metadata: { signature, 'signature-algorithm': 'SHA256withRSA' },
  });
  await bucket.put(`${key}.sig`, new TextEncoder().encode(signature), { contentType: 'text/plain' });
}

type Case = [name: string, where: 'any' | 'filesystem', tamper: (t: Tampering) => Promise<string[]>];

const CASES: Case[] = [
  [
    'a forged trace file whose hex suffix differs only in letter case',
    'any',
    async ({ bucket, traceAt }) => {
      const [model] = traceAt(14, 10);
      await copyObject(bucket, model!, upper(model!));
      return [`Object ${upper(model!)} INVALID: not a name the service writes`];
    },
  ],
  [
    'a forged trace file whose project id differs only in letter case',
    'any',
    async ({ bucket, traceAt }) => {
      const [model] = traceAt(14, 10);
      const forged = model!.replace(
        /-([0-9a-f]{32})_(\d{4})/,
        (_m, id: string, y: string) => `-${id.toUpperCase()}_${y}`,
      );
      await copyObject(bucket, model!, forged);
      return [`Object ${forged} INVALID: not a name the service writes`];
    },
  ],
  [
    'a copy with an odd extension and a stray file in a service folder',
    'any',
    async ({ bucket, traceAt }) => {
      const [model] = traceAt(15, 40);
      const stray = `${dirname(model!)}/notes.txt`;
      await copyObject(bucket, model!, `${model}.bak`);
      await bucket.put(stray, new TextEncoder().encode('hello'), { contentType: 'text/plain' });
      return [
        `Object ${model}.bak INVALID: not a name the service writes`,
        `Object ${stray} INVALID: not a name the service writes`,
      ].sort();
    },
  ],
  [
    'a trace file moved to another date folder',
    'any',
    async ({ bucket, traceAt }) => {
      const [victim] = traceAt(13, 10);
      const moved = victim!.replace('/2026/11/24/', '/2026/11/25/');
      await copyObject(bucket, victim!, moved);
      await bucket.delete(victim!);
      return [
        `Trace file ${victim} INVALID: missing`,
        `Object ${moved} INVALID: stored under another date than its name says`,
      ];
    },
  ],
  [
    'a trace file made empty',
    'any',
    async ({ bucket, traceAt }) => {
      const [victim] = traceAt(16, 40);
      await bucket.put(victim!, new Uint8Array(), { contentType: 'application/gzip' });
      return [`Trace file ${victim} INVALID: hash mismatch`];
    },
  ],
  [
    'a wrong signature in one older digest’s metadata',
    'any',
    async ({ bucket, digest }) => {
      const other = (await bucket.get(digest(1)))!.metadata;
      await copyObject(bucket, digest(3), digest(3), other);
      // The chain (the 16:00 digest's previous_digest_hash_value) still proves its content.
      return [`Digest file ${digest(3)} INVALID: signature verification failed`];
    },
  ],
  [
    'a wrong signature object beside an older digest',
    'any',
    async ({ bucket, digest }) => {
      await copyObject(bucket, `${digest(1)}.sig`, `${digest(2)}.sig`);
      return [`Signature file ${digest(2)}.sig INVALID: its signature does not verify the digest beside it`];
    },
  ],
  [
    'garbage in the newest digest’s signature object',
    'any',
    async ({ bucket, digest }) => {
      await bucket.put(`${digest(6)}.sig`, new TextEncoder().encode('not hex'), {
        contentType: 'text/plain',
      });
      return [`Signature file ${digest(6)}.sig INVALID: not a hex signature`];
    },
  ],
  [
    'a signature object with no digest',
    'any',
    async ({ bucket, digest }) => {
      const orphan = digest(2).replace('T14-00-00Z', 'T14-30-00Z');
      await copyObject(bucket, `${digest(2)}.sig`, `${orphan}.sig`);
      return [`Signature file ${orphan}.sig INVALID: no digest beside it`];
    },
  ],
  [
    'a forged digest beside the intact one of the same hour',
    'any',
    async ({ bucket, digest }) => {
      const forged = digest(3).replace('/acme_CloudTrace-Digest', '/evil_CloudTrace-Digest');
      await forgeDigest(bucket, digest(3), forged);
      return [`Digest file ${forged} INVALID: signed with an unknown key`];
    },
  ],
  [
    'an authentic digest replayed under another key',
    'any',
    async ({ bucket, digest }) => {
      const replay = digest(4).replace('T16-00-00Z', 'T16-30-00Z');
      await copyObject(bucket, digest(2), replay);
      return [`Digest file ${replay} INVALID: stored under another key (its digest_object is ${digest(2)})`];
    },
  ],
  [
    'a digest overwritten with garbage',
    'any',
    async ({ bucket, digest }) => {
      await bucket.put(digest(2), new TextEncoder().encode('{}'), { contentType: 'application/gzip' });
      return [
        `Digest file ${digest(2)} INVALID: unreadable (not a gzip-compressed JSON file); hash does not match previous_digest_hash_value in ${digest(3)}; 4 trace files of its hour are not proven`,
      ];
    },
  ],
  [
    'a folder in place of a trace file',
    'filesystem',
    async ({ traceAt, path, cleanup }) => {
      const [victim] = traceAt(14, 40);
      rmSync(path!(victim!));
      mkdirSync(path!(victim!));
      cleanup.push(() => rmSync(path!(victim!), { recursive: true }));
      return [`Trace file ${victim} INVALID: unreadable (a folder, not a file)`];
    },
  ],
  [
    'a folder in place of a digest',
    'filesystem',
    async ({ digest, path, cleanup }) => {
      rmSync(path!(digest(4)));
      mkdirSync(path!(digest(4)));
      cleanup.push(() => rmSync(path!(digest(4)), { recursive: true }));
      return [
        `Digest file ${digest(4)} INVALID: unreadable (a folder, not a file); 4 trace files of its hour are not proven`,
      ];
    },
  ],
  [
    'a folder with a forged trace file’s name, with a file inside',
    'filesystem',
    async ({ traceAt, path, cleanup }) => {
      const [model] = traceAt(15, 10);
      const forged = `${upper(model!)}/inner.json.gz`;
      mkdirSync(dirname(path!(forged)), { recursive: true });
      writeFileSync(path!(forged), 'x');
      cleanup.push(() => rmSync(dirname(path!(forged)), { recursive: true }));
      return [`Object ${forged} INVALID: not a name the service writes`];
    },
  ],
  [
    'a FIFO in place of a trace file',
    'filesystem',
    async ({ traceAt, path, cleanup }) => {
      const [victim] = traceAt(13, 40);
      rmSync(path!(victim!));
      execFileSync('mkfifo', [path!(victim!)]);
      cleanup.push(() => rmSync(path!(victim!)));
      return [`Trace file ${victim} INVALID: unreadable (not a regular file)`];
    },
  ],
  [
    'a link to another trace file in place of one',
    'filesystem',
    async ({ traceAt, path, cleanup }) => {
      const [victim] = traceAt(16, 10);
      const [other] = traceAt(12, 10);
      rmSync(path!(victim!));
      symlinkSync(path!(other!), path!(victim!));
      cleanup.push(() => rmSync(path!(victim!)));
      return [`Trace file ${victim} INVALID: hash mismatch`];
    },
  ],
];

describe.each([
  ['filesystem', () => ({})],
  [
    's3rver',
    () => ({ buckets: createS3BucketStore({ ...s3, forcePathStyle: true }), s3Settings: s3.config }),
  ],
] as Array<[string, () => { buckets?: BucketStore; s3Settings?: Record<string, string> }]>)(
  'tampering corpus on a %s archive',
  (kind, storeOf) => {
    let archive: Archive;
    let snapshot: Snapshot;
    let traceKeys: string[];
    let bucketDir: string | undefined;

    beforeAll(async () => {
      archive = await buildArchive({ ...storeOf(), bucket: `corpus-${kind === 's3rver' ? 's3' : 'fs'}` });
      const bucket = archive.env.deps.buckets.bucket(archive.bucket);
      snapshot = await snapshotBucket(bucket);
      traceKeys = [...snapshot.keys()].filter((key) => !key.includes('/Digest/'));
      if (kind === 'filesystem') bucketDir = join(archive.settings.CTS_DATA_DIR!, 'buckets', archive.bucket);
    });
    afterAll(() => archive?.env.close());

    const run = (flags: Record<string, string> = {}) =>
      verify(archive, { bucket: archive.bucket, to: VERIFY_AT, now: VERIFY_AT, ...flags });

    /** A plain download of the bucket: the objects' bytes as files, no metadata. */
    async function download(): Promise<string> {
      const dir = join(mkdtempSync(join(tmpdir(), 'cts-download-')), archive.bucket);
      for (const [key, object] of snapshot) {
        mkdirSync(dirname(join(dir, key)), { recursive: true });
        writeFileSync(join(dir, key), object.body);
      }
      return dir;
    }

    it('gives zero findings for the untouched archive, in the bucket and as a plain download', async () => {
      await restoreBucket(archive.env.deps.buckets.bucket(archive.bucket), snapshot);
      const inBucket = await run();
      expect(inBucket.findings).toEqual([]);
      expect(inBucket.summary).toBe('6/6 digest files valid, 25/25 trace files valid');
      const dir = await download();
      const downloaded = await verify(archive, { dir, to: VERIFY_AT, now: VERIFY_AT });
      expect(downloaded.findings).toEqual([]);
      expect(downloaded.code).toBe(0);
      expect(downloaded.summary).toBe('6/6 digest files valid, 25/25 trace files valid');
      expect(downloaded.json).toMatchObject({ ok: true, findings: [] });
      rmSync(dirname(dir), { recursive: true });
    });

    it.each(CASES.filter(([, where]) => where === 'any' || kind === 'filesystem'))(
      'reports exactly the tampered objects: %s',
      async (_name, _where, tamper) => {
        const bucket = archive.env.deps.buckets.bucket(archive.bucket);
        await restoreBucket(bucket, snapshot);
        const cleanup: Array<() => void> = [];
        try {
          const expected = await tamper({
            bucket,
            traceAt: (hour, minute) =>
              traceKeys.filter((key) => key.includes(`T${hour}-${String(minute).padStart(2, '0')}-00Z_`)),
            digest: (hour) => digestKeyAt(archive, at(hour)),
            path: bucketDir ? (key) => join(bucketDir!, key) : undefined,
            cleanup,
          });
          const result = await run();
          // A forged digest's reason names the adversary's key fingerprint: compare up to it.
          const found = result.findings.map((line) =>
            line.includes('signed with an unknown key') ? line.split(' (')[0]! : line,
          );
          expect(found).toEqual(expected);
          expect(result.code).toBe(1);
          expect(result.json?.findings.map((f) => f.key)).toEqual(
            expected.map((line) => line.split(' ')[line.startsWith('Object') ? 1 : 2]),
          );
        } finally {
          for (const undo of cleanup.reverse()) undo();
        }
      },
    );
  },
);
