import type { Context } from 'hono';
import { CtsError } from '../domain/errors';
import { authenticate } from '../domain/projects/projects';
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

const unauthenticated = () =>
  new CtsError(401, 'CTS.0002', 'Authentication failed or you do not have the permissions required.');
const forbidden = () => new CtsError(403, 'CTS.0013', 'No permission, Please check roles.');

/**
 * Requires a valid key for the path's project with one of `roles`. A key of another project
 * gets the same 403 whether or not that project exists.
 */
export function requireRole(...roles: Role[]): Middleware {
  return async (c, next) => {
    const token = tokenOf(c);
    if (!token || token.length > 512) throw unauthenticated();
    const principal = await authenticate(c.get('deps'), token);
    if (!principal) throw unauthenticated();
    // Set before the role check: a refused management call is recorded under its key (audit-refusals.ts).
    c.set('principal', principal);
    if (principal.projectId !== c.req.param('project_id') || !roles.includes(principal.role))
      throw forbidden();
    await next();
  };
}

export const canReport = requireRole('reporter', 'admin');
export const canRead = requireRole('reader', 'admin');
export const canAdminister = requireRole('admin');
