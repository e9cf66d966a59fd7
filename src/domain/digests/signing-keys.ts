import {
  activateSigningKey,
  findActiveStoredKey,
  listSigningKeys,
  type SigningKeyRow,
} from '../../store/signing-key-queries';
import {
  type DigestSigner,
  generateSigner,
  importSigner,
  SIGNATURE_ALGORITHM,
} from '../../transfer/digest-signing';
import type { Deps } from '../deps';
import { CtsError } from '../errors';

type KeyDeps = Pick<Deps, 'control' | 'config' | 'clock'>;

/** Whether `fingerprint` is already the one and only active key. */
function isSoleActive(rows: SigningKeyRow[], fingerprint: string): boolean {
  const active = rows.filter((row) => row.retiredAt === null);
  return active.length === 1 && active[0]?.fingerprint === fingerprint;
}

/**
 * The key that signs digests now. `CTS_SIGNING_KEY` (PKCS#8 PEM) when configured; otherwise a
 * key generated once and kept in the database (single-process mode). Switching keys — a new
 * `CTS_SIGNING_KEY`, or `rotateSigningKey` — retires the old one, whose public half stays
 * published so that the digests it signed still verify.
 */
export async function currentSigner(deps: KeyDeps): Promise<DigestSigner> {
  const rows = await listSigningKeys(deps.control);
  const configured = deps.config.CTS_SIGNING_KEY;
  if (configured) {
    const signer = await importSigner(configured);
    if (!isSoleActive(rows, signer.fingerprint)) {
      const known = rows.find((row) => row.fingerprint === signer.fingerprint);
      await activateSigningKey(
        deps.control,
        {
          fingerprint: signer.fingerprint,
          publicKeyPem: signer.publicKeyPem,
          // A configured key is never copied into the database.
          privateKeyPem: null,
          createdAt: known?.createdAt ?? deps.clock(),
          retiredAt: null,
        },
        deps.clock(),
      );
    }
    return signer;
  }
  const stored = await findActiveStoredKey(deps.control);
  if (stored?.privateKeyPem) {
    const signer = await importSigner(stored.privateKeyPem);
    // A key configured earlier and since removed from the configuration is retired here.
    if (!isSoleActive(rows, stored.fingerprint)) await activateSigningKey(deps.control, stored, deps.clock());
    return signer;
  }
  return generateAndActivate(deps);
}

async function generateAndActivate(deps: KeyDeps): Promise<DigestSigner> {
  const { signer, privateKeyPem } = await generateSigner();
  await activateSigningKey(
    deps.control,
    {
      fingerprint: signer.fingerprint,
      publicKeyPem: signer.publicKeyPem,
      privateKeyPem,
      createdAt: deps.clock(),
      retiredAt: null,
    },
    deps.clock(),
  );
  return signer;
}

/** Replaces the generated signing key with a new one (not possible with `CTS_SIGNING_KEY`). */
export async function rotateSigningKey(deps: KeyDeps): Promise<DigestSigner> {
  if (deps.config.CTS_SIGNING_KEY) {
    throw new CtsError(
      409,
      'CTS.0003',
      'The signing key comes from CTS_SIGNING_KEY: rotate it by configuring a new key.',
    );
  }
  return generateAndActivate(deps);
}

/** A published public key (`GET /v3/{project_id}/digest-public-keys`). */
export interface PublicSigningKey {
  fingerprint: string;
  public_key: string;
  algorithm: typeof SIGNATURE_ALGORITHM;
  valid_from: string;
  /** When the key was retired; null while it signs new digests. */
  valid_to: string | null;
  status: 'active' | 'retired';
}

/**
 * Every public key that signed or signs digests, oldest first. Read-only — except that with
 * `ensure`, a service that has no key yet makes it now, so that it can be fetched before the
 * first digest. (Switching keys is left to the digest job: a caller with another configuration
 * must not retire the key the service signs with.)
 */
export async function publicSigningKeys(
  deps: KeyDeps,
  options: { ensure?: boolean } = {},
): Promise<PublicSigningKey[]> {
  let rows = await listSigningKeys(deps.control);
  if (options.ensure && rows.length === 0) {
    await currentSigner(deps);
    rows = await listSigningKeys(deps.control);
  }
  return rows.map((row) => ({
    fingerprint: row.fingerprint,
    public_key: row.publicKeyPem,
    algorithm: SIGNATURE_ALGORITHM,
    valid_from: new Date(row.createdAt).toISOString(),
    valid_to: row.retiredAt === null ? null : new Date(row.retiredAt).toISOString(),
    status: row.retiredAt === null ? 'active' : 'retired',
  }));
}
