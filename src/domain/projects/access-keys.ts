import { toHex } from '../crypto';

/**
 * Every API key is also an AK/SK pair (docs/adr/0003-access-keys.md): the access key id is the
 * key's id, the secret key is derived from the server secret and that id. Nothing of the pair is
 * stored, so keys created before AK/SK existed have one too, and revoking the key revokes the pair.
 */

const ACCESS_KEY_ID = /^[0-9A-F]{32}$/;
const KEY_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** Versioned, so that a future derivation can coexist with this one. */
const DERIVATION_LABEL = 'cts-secret-access-key:v1:';

/** The access key id (AK) of an API key: its id, upper-case hex without dashes. */
export function accessKeyIdOf(keyId: string): string {
  if (!KEY_ID.test(keyId)) throw new Error(`not an API key id: ${keyId}`);
  return keyId.replaceAll('-', '').toUpperCase();
}

/** The API key id an AK stands for, or undefined when it is not one of ours. */
export function keyIdOfAccessKey(accessKeyId: string): string | undefined {
  if (!ACCESS_KEY_ID.test(accessKeyId)) return undefined;
  const hex = accessKeyId.toLowerCase();
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

let cached: { secret: string; key: Promise<CryptoKey> } | undefined;

function serverKey(secret: string): Promise<CryptoKey> {
  if (cached?.secret !== secret) {
    const key = crypto.subtle.importKey(
      'raw',
      new TextEncoder().encode(secret),
      { name: 'HMAC', hash: 'SHA-256' },
      false,
      ['sign'],
    );
    cached = { secret, key };
  }
  return cached.key;
}

/** The secret access key (SK) of an API key: HMAC-SHA256(server secret, label ‖ key id), hex. */
export async function secretAccessKeyOf(serverSecret: string, keyId: string): Promise<string> {
  const mac = await crypto.subtle.sign(
    'HMAC',
    await serverKey(serverSecret),
    new TextEncoder().encode(DERIVATION_LABEL + keyId),
  );
  return toHex(mac);
}
