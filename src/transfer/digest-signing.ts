import { sha256Hex, toHex } from '../domain/crypto';

/**
 * RSA signing of digests with Web Crypto only (the same on Node, Workers, Deno and Bun):
 * SHA256withRSA = RSASSA-PKCS1-v1_5 over SHA-256, keys of at least 2048 bits.
 */
export const SIGNATURE_ALGORITHM = 'SHA256withRSA' as const;
export const MIN_MODULUS_BITS = 2048;
const RSA = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } as const;
const encoder = new TextEncoder();

export class SigningKeyError extends Error {
  override name = 'SigningKeyError';
}

/** A private key ready to sign, with its public half. */
export interface DigestSigner {
  /** Hex SHA-256 of the public key's SubjectPublicKeyInfo DER: how digests name their key. */
  fingerprint: string;
  publicKeyPem: string;
  privateKey: CryptoKey;
}

const asBuffer = (bytes: Uint8Array) => bytes as Uint8Array<ArrayBuffer>;

/** PEM armour around DER bytes, 64 base64 characters a line. */
export function toPem(label: 'PUBLIC KEY' | 'PRIVATE KEY', der: ArrayBuffer | Uint8Array): string {
  const bytes = der instanceof Uint8Array ? der : new Uint8Array(der);
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  const lines = btoa(binary).match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

/** The DER bytes of every `label` block in a PEM text (a file may hold several keys). */
export function pemBlocks(text: string, label: 'PUBLIC KEY' | 'PRIVATE KEY'): Uint8Array[] {
  const pattern = new RegExp(`-----BEGIN ${label}-----([^-]+)-----END ${label}-----`, 'g');
  return [...text.matchAll(pattern)].map((match) => {
    const binary = atob((match[1] ?? '').replace(/\s+/g, ''));
    return Uint8Array.from(binary, (c) => c.charCodeAt(0));
  });
}

export async function fingerprintOf(spkiDer: Uint8Array): Promise<string> {
  return sha256Hex(spkiDer);
}

function checkStrength(key: CryptoKey): void {
  const bits = (key.algorithm as RsaHashedKeyAlgorithm).modulusLength;
  if (!bits || bits < MIN_MODULUS_BITS)
    throw new SigningKeyError(`The signing key has ${bits} bits; at least ${MIN_MODULUS_BITS} are required.`);
}

/** Imports a PKCS#8 PEM private RSA key and derives its public key (SPKI) and fingerprint. */
export async function importSigner(privatePem: string): Promise<DigestSigner> {
  const [der] = pemBlocks(privatePem, 'PRIVATE KEY');
  if (!der) throw new SigningKeyError('The signing key is not a PKCS#8 PEM ("BEGIN PRIVATE KEY").');
  let privateKey: CryptoKey;
  try {
    privateKey = await crypto.subtle.importKey('pkcs8', asBuffer(der), RSA, true, ['sign']);
  } catch (error) {
    throw new SigningKeyError(`The signing key is not an RSA PKCS#8 key: ${(error as Error).message}`);
  }
  checkStrength(privateKey);
  // Web Crypto has no "public half of this private key": go through JWK, whose n and e are it.
  const jwk = await crypto.subtle.exportKey('jwk', privateKey);
  const publicKey = await crypto.subtle.importKey('jwk', { kty: 'RSA', n: jwk.n, e: jwk.e }, RSA, true, [
    'verify',
  ]);
  const spki = new Uint8Array(await crypto.subtle.exportKey('spki', publicKey));
  return { fingerprint: await fingerprintOf(spki), publicKeyPem: toPem('PUBLIC KEY', spki), privateKey };
}

/** A new 2048-bit RSA key pair; returns the signer and the private key as PKCS#8 PEM. */
export async function generateSigner(): Promise<{ signer: DigestSigner; privateKeyPem: string }> {
  const pair = await crypto.subtle.generateKey(
    { ...RSA, modulusLength: MIN_MODULUS_BITS, publicExponent: new Uint8Array([1, 0, 1]) },
    true,
    ['sign', 'verify'],
  );
  const privateKeyPem = toPem('PRIVATE KEY', await crypto.subtle.exportKey('pkcs8', pair.privateKey));
  return { signer: await importSigner(privateKeyPem), privateKeyPem };
}

/** A public key to check signatures with. */
export interface DigestVerifier {
  fingerprint: string;
  publicKey: CryptoKey;
}

/** Imports a SubjectPublicKeyInfo (DER) RSA public key. */
export async function importVerifier(spkiDer: Uint8Array): Promise<DigestVerifier> {
  const publicKey = await crypto.subtle.importKey('spki', asBuffer(spkiDer), RSA, false, ['verify']);
  return { fingerprint: await fingerprintOf(spkiDer), publicKey };
}

/** Every public key of a PEM text. */
export async function importVerifiers(pem: string): Promise<DigestVerifier[]> {
  return Promise.all(pemBlocks(pem, 'PUBLIC KEY').map(importVerifier));
}

/** The hex signature of a UTF-8 string. */
export async function signString(privateKey: CryptoKey, text: string): Promise<string> {
  return toHex(await crypto.subtle.sign(RSA, privateKey, encoder.encode(text)));
}

/** Whether `signatureHex` is a valid signature of `text` under `publicKey`. */
export async function verifyString(
  publicKey: CryptoKey,
  text: string,
  signatureHex: string,
): Promise<boolean> {
  if (!/^(?:[0-9a-f]{2})+$/i.test(signatureHex)) return false;
  const signature = Uint8Array.from(signatureHex.match(/../g) ?? [], (pair) => Number.parseInt(pair, 16));
  return crypto.subtle.verify(RSA, publicKey, asBuffer(signature), encoder.encode(text));
}
