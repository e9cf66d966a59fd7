import type { Context, MiddlewareHandler } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { isHttpsRequest } from '../api/client-ip';
import { type AppEnv, actorOf } from '../api/http';
import { depsOfProject } from '../domain/deps';
import type { ConsoleSession, StartedSession } from '../domain/projects/sessions';
import { resolveSession } from '../domain/projects/sessions';
import type { Actor } from '../domain/traces/audit';

export interface ConsoleEnv {
  Variables: AppEnv['Variables'] & { session: ConsoleSession };
}

export type ConsoleContext = Context<ConsoleEnv>;

export const SESSION_COOKIE = 'cts_session';
const COOKIE_PATH = '/console';

export function setSessionCookie(c: Context, session: StartedSession): void {
  setCookie(c, SESSION_COOKIE, session.sessionId, {
    path: COOKIE_PATH,
    httpOnly: true,
    sameSite: 'Strict',
    secure: isHttpsRequest(c),
    expires: new Date(session.expiresAt),
  });
}

export function clearSessionCookie(c: Context): void {
  deleteCookie(c, SESSION_COOKIE, { path: COOKIE_PATH, secure: isHttpsRequest(c) });
}

export function sessionIdOf(c: Context): string | undefined {
  return getCookie(c, SESSION_COOKIE);
}

/**
 * Loads the signed-in session into `c.var.session` (and `principal`, for audit records).
 * Without one, a page view goes to the sign-in page (coming back afterwards); anything else
 * gets `onMissing`'s answer.
 */
export function requireSession(
  onMissing: (c: ConsoleContext) => Response | Promise<Response>,
): MiddlewareHandler<ConsoleEnv> {
  return async (c, next) => {
    const id = sessionIdOf(c);
    const session = id ? await resolveSession(c.get('deps'), id) : undefined;
    if (!session) {
      if (id) clearSessionCookie(c);
      if (c.req.method === 'GET') {
        const back = new URL(c.req.url);
        return c.redirect(`/console/sign-in?next=${encodeURIComponent(back.pathname + back.search)}`, 303);
      }
      return onMissing(c);
    }
    c.set('session', session);
    c.set('principal', session.principal);
    c.set('deps', await depsOfProject(c.get('deps'), session.principal.projectId));
    await next();
  };
}

export const isAdmin = (c: ConsoleContext): boolean => c.get('session').principal.role === 'admin';

/** The signed-in key as the actor of an audited operation (CTS records what the console did). */
export const consoleActor = (c: ConsoleContext): Actor =>
  // The console's variables are a superset of the API's, which is all `actorOf` reads.
  actorOf(c as unknown as Context<AppEnv>, 'ConsoleAction');
