/**
 * The digest code is runtime-neutral: inside workerd (the Workers runtime) it signs digests that
 * Node verifies, and verifies digests that Node signed — the same files, keys and signatures.
 */
import { build } from 'esbuild';
import { Miniflare } from 'miniflare';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildSignedDigest, type DigestInput } from '../../src/transfer/digest';
import { generateSigner, importVerifiers } from '../../src/transfer/digest-signing';
import { checkDigest } from '../../src/verify/digest-check';
import { compatibilityDate, ROOT } from '../helpers/worker';

const ENTRY = `
import { buildSignedDigest } from './src/transfer/digest';
import { generateSigner, importSigner, importVerifiers } from './src/transfer/digest-signing';
import { checkDigest } from './src/verify/digest-check';

const b64 = (bytes) => btoa(String.fromCharCode(...bytes));
const unb64 = (text) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));

export default {
  async fetch(request) {
    const task = await request.json();
    if (task.op === 'sign') {
      const signer = task.pem ? await importSigner(task.pem) : (await generateSigner()).signer;
      const signed = await buildSignedDigest(task.input, signer);
      return Response.json({ body: b64(signed.body), metadata: signed.metadata, publicKeyPem: signer.publicKeyPem });
    }
    const keys = (await importVerifiers(task.publicKeyPem)).map((k) => ({ ...k, validTo: null }));
    const { digest: checked } = await checkDigest(
      { key: task.input.key, endTime: task.input.endTime, prefix: '' },
      { body: unb64(task.body), metadata: task.metadata },
      {
        projectId: task.input.projectId,
        bucketName: task.input.bucket,
        keys: new Map(keys.map((k) => [k.fingerprint, k])),
        sources: { metadata: task.metadata },
      },
    );
    return Response.json({ authentic: checked.authentic, problems: checked.problems });
  },
};
`;

const input: DigestInput = {
  projectId: '0123456789abcdef0123456789abcdef',
  bucket: 'archive',
  key: 'CloudTraces/r-1/2026/11/24/system/Digest/CloudTrace-Digest_r-1-0123456789abcdef0123456789abcdef_2026-11-24T13-00-00Z.json.gz',
  startTime: Date.UTC(2026, 10, 24, 12),
  endTime: Date.UTC(2026, 10, 24, 13),
  isEnd: false,
  previous: null,
  files: [
    {
      bucket: 'archive',
      objectKey: 'CloudTraces/x.json.gz',
      sha256: 'ab'.repeat(32),
      oldestTime: 1,
      newestTime: 2,
    },
  ],
};

let mf: Miniflare;
beforeAll(async () => {
  const bundle = await build({
    stdin: { contents: ENTRY, resolveDir: ROOT, loader: 'js' },
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    write: false,
  });
  mf = new Miniflare({
    modules: true,
    script: bundle.outputFiles[0]!.text,
    compatibilityDate: compatibilityDate(),
  });
});
afterAll(async () => {
  await mf?.dispose();
});

async function inWorkerd(task: Record<string, unknown>) {
  const res = await mf.dispatchFetch('http://worker/', { method: 'POST', body: JSON.stringify(task) });
  expect(res.status).toBe(200);
  return (await res.json()) as Record<string, unknown>;
}

const keysOf = async (pem: string) =>
  new Map((await importVerifiers(pem)).map((k) => [k.fingerprint, { ...k, validTo: null }]));

describe('digests in workerd', () => {
  it('signs with a generated key and with a PKCS#8 key, and Node verifies both', async () => {
    const { signer, privateKeyPem } = await generateSigner();
    for (const pem of [undefined, privateKeyPem]) {
      const out = await inWorkerd({ op: 'sign', pem, input });
      const body = Uint8Array.from(Buffer.from(out.body as string, 'base64'));
      const publicKeyPem = out.publicKeyPem as string;
      if (pem) expect(publicKeyPem).toBe(signer.publicKeyPem);
      const metadata = out.metadata as Record<string, string>;
      const { digest: checked } = await checkDigest(
        { key: input.key, endTime: input.endTime, prefix: '' },
        { body, metadata },
        {
          projectId: input.projectId,
          bucketName: input.bucket,
          keys: await keysOf(publicKeyPem),
          sources: { metadata },
        },
      );
      expect(checked.problems).toEqual([]);
      expect(checked.authentic).toBe(true);
    }
  });

  it('verifies what Node signed, and rejects it once changed', async () => {
    const { signer } = await generateSigner();
    const signed = await buildSignedDigest(input, signer);
    const task = {
      op: 'check',
      input,
      publicKeyPem: signer.publicKeyPem,
      metadata: signed.metadata,
      body: Buffer.from(signed.body).toString('base64'),
    };
    expect(await inWorkerd(task)).toEqual({ authentic: true, problems: [] });
    const other = await buildSignedDigest({ ...input, files: [] }, signer);
    expect(await inWorkerd({ ...task, body: Buffer.from(other.body).toString('base64') })).toEqual({
      authentic: false,
      problems: ['signature verification failed'],
    });
  });
});
