import { sha256Hex, timingSafeEqual, toHex } from '../crypto';

/**
 * API-gateway request signing, `SDK-HMAC-SHA256`, as the Huawei Cloud SDKs sign (the reference is
 * `AKSKSigner` of `@huaweicloud/huaweicloud-sdk-core`). Web Crypto only: it runs on every runtime.
 */

export const SIGNING_ALGORITHM = 'SDK-HMAC-SHA256';
/** How far `X-Sdk-Date` may be from the server clock (API Gateway allows 15 minutes). */
export const MAX_CLOCK_SKEW_MS = 15 * 60_000;

export interface SignedAuthorization {
  accessKeyId: string;
  signedHeaders: string[];
  signature: string;
}

/** A refusal, with what to tell the client. */
export class SignatureError extends Error {
  override name = 'SignatureError';
}

const AUTHORIZATION =
  /^SDK-HMAC-SHA256\s+Access=([^,\s]+)\s*,\s*SignedHeaders=([^,\s]+)\s*,\s*Signature=([0-9a-fA-F]+)\s*$/;

/** Whether an `Authorization` header claims AK/SK signing (then it must verify, or the call is refused). */
export function isSignedAuthorization(header: string | undefined): header is string {
  return header !== undefined && /^SDK-HMAC-SHA256(\s|$)/.test(header);
}

export function parseAuthorization(header: string): SignedAuthorization {
  const match = header.match(AUTHORIZATION);
  if (!match) throw new SignatureError('Malformed SDK-HMAC-SHA256 Authorization header.');
  const signedHeaders = match[2]!.split(';');
  if (signedHeaders.some((name) => name === '' || name !== name.toLowerCase()))
    throw new SignatureError('SignedHeaders must be lower-case header names separated by semicolons.');
  for (const required of ['host', 'x-sdk-date']) {
    if (!signedHeaders.includes(required)) throw new SignatureError(`The ${required} header must be signed.`);
  }
  return { accessKeyId: match[1]!, signedHeaders, signature: match[3]!.toLowerCase() };
}

/** `X-Sdk-Date` (`YYYYMMDDTHHmmssZ`) as epoch ms, or undefined when malformed. */
export function parseSdkDate(value: string | undefined): number | undefined {
  const m = value?.match(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s] = m.map(Number) as number[];
  const time = Date.UTC(y!, mo! - 1, d!, h!, mi!, s!);
  return Number.isNaN(time) ? undefined : time;
}

const UNRESERVED = /[A-Za-z0-9\-_.~]/;

/** Percent-encoding of everything but the unreserved characters, upper-case hex, UTF-8. */
export function signingEncode(value: string): string {
  let out = '';
  for (const char of value) {
    if (UNRESERVED.test(char)) {
      out += char;
      continue;
    }
    for (const byte of new TextEncoder().encode(char))
      out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** Each path segment as sent, encoded again, with a trailing `/`. */
function canonicalUri(pathname: string): string {
  const uri = pathname.split('/').map(signingEncode).join('/');
  return uri.endsWith('/') ? uri : `${uri}/`;
}

/** Decoded parameters, keys sorted, repeated values sorted, each encoded. */
function canonicalQuery(params: URLSearchParams): string {
  const keys = [...new Set(params.keys())].sort();
  return keys
    .flatMap((key) =>
      params
        .getAll(key)
        .sort()
        .map((value) => `${signingEncode(key)}=${signingEncode(value)}`),
    )
    .join('&');
}

export interface RequestToVerify {
  method: string;
  url: string;
  headers: Headers;
  /** Hex SHA-256 of the body as received. */
  bodySha256: string;
}

/** The canonical request of the SDK signer, from the request as received. */
export function canonicalRequest(request: RequestToVerify, signedHeaders: string[]): string {
  const url = new URL(request.url);
  const headers = signedHeaders.map((name) => `${name}:${request.headers.get(name) ?? ''}\n`).join('');
  return [
    request.method.toUpperCase(),
    canonicalUri(url.pathname),
    canonicalQuery(url.searchParams),
    headers,
    signedHeaders.join(';'),
    request.bodySha256,
  ].join('\n');
}

async function hmacHex(secret: string, message: string): Promise<string> {
  const encoder = new TextEncoder();
  const key = await crypto.subtle.importKey(
    'raw',
    encoder.encode(secret),
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['sign'],
  );
  return toHex(await crypto.subtle.sign('HMAC', key, encoder.encode(message)));
}

/**
 * Checks a signed request against the secret key of its access key: the date is within
 * `MAX_CLOCK_SKEW_MS` of `now`, a declared body hash matches the body, and the signature matches
 * (constant-time). Throws a SignatureError saying what is wrong.
 */
export async function verifySignature(
  request: RequestToVerify,
  authorization: SignedAuthorization,
  secretKey: string,
  now: number,
): Promise<void> {
  const dateHeader = request.headers.get('x-sdk-date') ?? undefined;
  const date = parseSdkDate(dateHeader);
  if (date === undefined) throw new SignatureError('X-Sdk-Date must be a date like 20260101T120000Z.');
  if (Math.abs(now - date) > MAX_CLOCK_SKEW_MS)
    throw new SignatureError('X-Sdk-Date is more than 15 minutes away from the server clock.');
  const declared = request.headers.get('x-sdk-content-sha256');
  if (declared !== null && declared.toLowerCase() !== request.bodySha256)
    throw new SignatureError('X-Sdk-Content-Sha256 does not match the body (unsigned payloads are refused).');
  const stringToSign = [
    SIGNING_ALGORITHM,
    dateHeader,
    await sha256Hex(canonicalRequest(request, authorization.signedHeaders)),
  ].join('\n');
  const expected = await hmacHex(secretKey, stringToSign);
  if (!timingSafeEqual(expected, authorization.signature))
    throw new SignatureError('The request signature does not match.');
}
