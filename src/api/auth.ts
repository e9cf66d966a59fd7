import type { Context } from 'hono';
import { sha256Hex, toHex } from '../domain/crypto';
import { depsOfProject } from '../domain/deps';
import { CtsError } from '../domain/errors';
import { secretAccessKeyOf } from '../domain/projects/access-keys';
import { authenticate, type Principal, principalOfAccessKey } from '../domain/projects/projects';
import {
  isSignedAuthorization,
  parseAuthorization,
  SignatureError,
  verifySignature,
} from '../domain/projects/request-signature';
import type { Role } from '../store/schema/projects';
import type { AppEnv, Middleware } from './http';

/** The API key of a request: `X-Auth-Token` (CTS style) or `Authorization: Bearer`. */
export function tokenOf(c: Context<AppEnv>): string | undefined {
  const header = c.req.header('x-auth-token')?.trim();
  if (header) return header;
  const authorization = c.req.header('authorization');
  const match = authorization?.match(/^Bearer\s+(\S+)\s*$/i);
  return match?.[1];
}

const AUTH_FAILED = 'Authentication failed or you do not have the permissions required.';
const unauthenticated = (why?: string) =>
  new CtsError(401, 'CTS.0002', why ? `${AUTH_FAILED} ${why}` : AUTH_FAILED);
const forbidden = () => new CtsError(403, 'CTS.0013', 'No permission, Please check roles.');

/** The largest body a signed request may have: the largest any route accepts (5 MB). */
const MAX_SIGNED_BODY_BYTES = 5 * 1024 * 1024;
const tooLarge = () => new CtsError(413, 'CTS.0003', 'The request body exceeds 5 MB.');

/**
 * Hex SHA-256 of the body, read from a clone (the route still reads the original) and never
 * beyond the limit, whether or not a Content-Length was sent.
 */
async function bodySha256(request: Request): Promise<string> {
  if (!request.body) return sha256Hex('');
  if (Number(request.headers.get('content-length') ?? 0) > MAX_SIGNED_BODY_BYTES) throw tooLarge();
  const reader = request.clone().body!.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_SIGNED_BODY_BYTES) {
      await reader.cancel();
      throw tooLarge();
    }
    chunks.push(value);
  }
  const body = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return toHex(await crypto.subtle.digest('SHA-256', body));
}

/** The caller of an AK/SK-signed request (SDK-HMAC-SHA256), or a 401 saying why not. */
async function signedPrincipal(c: Context<AppEnv>, authorization: string): Promise<Principal> {
  const deps = c.get('deps');
  if (c.req.header('x-security-token') !== undefined)
    throw unauthenticated(
      'Temporary security credentials (X-Security-Token) are not supported: sign with a permanent AK/SK or send an API key.',
    );
  const serverSecret = deps.config.CTS_SECRET;
  if (!serverSecret)
    throw unauthenticated('AK/SK signing is not enabled on this server (CTS_SECRET is unset).');
  try {
    const parsed = parseAuthorization(authorization);
    const principal = await principalOfAccessKey(deps, parsed.accessKeyId);
    if (!principal) throw new SignatureError('The access key id is unknown or revoked.');
    const request = {
      method: c.req.method,
      url: c.req.url,
      headers: c.req.raw.headers,
      bodySha256: await bodySha256(c.req.raw),
    };
    await verifySignature(
      request,
      parsed,
      await secretAccessKeyOf(serverSecret, principal.keyId),
      deps.clock(),
    );
    return principal;
  } catch (error) {
    if (error instanceof SignatureError) throw unauthenticated(error.message);
    throw error;
  }
}

/** The caller of a request: an AK/SK signature, else an API key (`X-Auth-Token` or Bearer). */
async function principalOf(c: Context<AppEnv>): Promise<Principal> {
  const authorization = c.req.header('authorization');
  if (isSignedAuthorization(authorization)) return signedPrincipal(c, authorization);
  const token = tokenOf(c);
  if (!token || token.length > 512) throw unauthenticated();
  const principal = await authenticate(c.get('deps'), token);
  if (!principal) throw unauthenticated();
  return principal;
}

/**
 * Requires a valid key with one of `roles` for the path's project — or, on the account-level
 * paths of the SDK (`/v3/{domain_id}/...`), for the path's domain. A key of another project or
 * domain gets the same 403 whether or not that one exists.
 */
function requireRoleIn(scope: 'project_id' | 'domain_id', roles: Role[]): Middleware {
  return async (c, next) => {
    const principal = await principalOf(c);
    // Set before the role check: a refused management call is recorded under its key (audit-refusals.ts).
    c.set('principal', principal);
    // From here on the request works in the database of the key's project (its shard).
    c.set('deps', await depsOfProject(c.get('deps'), principal.projectId));
    const owner = scope === 'project_id' ? principal.projectId : principal.domainId;
    if (owner !== c.req.param(scope) || !roles.includes(principal.role)) throw forbidden();
    await next();
  };
}

export function requireRole(...roles: Role[]): Middleware {
  return requireRoleIn('project_id', roles);
}

export const canReport = requireRole('reporter', 'admin');
export const canRead = requireRole('reader', 'admin');
export const canAdminister = requireRole('admin');
/** For the account-level (`/v3/{domain_id}/...`) operations. */
export const canReadDomain = requireRoleIn('domain_id', ['reader', 'admin']);
export const canAdministerDomain = requireRoleIn('domain_id', ['admin']);
