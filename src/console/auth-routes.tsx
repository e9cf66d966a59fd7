import { Hono } from 'hono';
import { CtsError } from '../domain/errors';
import { endSession, resolveSession, startSession } from '../domain/projects/sessions';
import { recordAudit } from '../domain/traces/audit';
import { checkCsrf } from './forms';
import { verifyForm } from './guards';
import { render } from './layout';
import { SignInPage } from './pages/sign-in';
import {
  type ConsoleContext,
  type ConsoleEnv,
  clearSessionCookie,
  consoleActor,
  requireSession,
  sessionIdOf,
  setSessionCookie,
} from './session';

/** Only a path inside the console may be a post-sign-in destination (no open redirect). */
export function safeNext(next: unknown): string | undefined {
  if (typeof next !== 'string' || !/^\/console(\/|\?|$)/.test(next) || next.includes('//')) return undefined;
  return next;
}

/**
 * Sign-in and sign-out are recorded as the key's console actions (a failed sign-in is not: an
 * unknown key names no project to record it in).
 */
function recordSessionAudit(c: ConsoleContext, traceName: 'login' | 'logout'): Promise<void> {
  const { keyId, keyName } = c.var.principal;
  return recordAudit(c.var.deps, consoleActor(c), {
    traceName,
    resourceType: 'session',
    resourceId: keyId,
    resourceName: keyName,
  });
}

export const authRoutes = new Hono<ConsoleEnv>()
  .get('/sign-in', async (c) => {
    const id = sessionIdOf(c);
    if (id && (await resolveSession(c.var.deps, id))) return c.redirect('/console/traces', 303);
    const notice = c.req.query('signed_out') !== undefined ? 'You have signed out.' : undefined;
    return render(c, <SignInPage next={safeNext(c.req.query('next'))} notice={notice} />);
  })
  .post('/sign-in', async (c) => {
    const form = await c.req.parseBody();
    const next = safeNext(form.next);
    if (!checkCsrf(c.req, undefined, undefined)) {
      return render(
        c,
        <SignInPage next={next} error="Sign-in must come from this console's own page." />,
        403,
      );
    }
    const key = typeof form.key === 'string' ? form.key.trim() : '';
    if (!key) return render(c, <SignInPage next={next} error="Enter an API key." />, 400);
    try {
      const session = await startSession(c.var.deps, key);
      setSessionCookie(c, session);
      c.set('principal', session.principal);
      await recordSessionAudit(c, 'login');
      return c.redirect(next ?? '/console/traces', 303);
    } catch (error) {
      if (!(error instanceof CtsError)) throw error;
      return render(c, <SignInPage next={next} error={error.message} />, error.status === 403 ? 403 : 401);
    }
  })
  .post(
    '/sign-out',
    requireSession((c) => c.redirect('/console/sign-in', 303)),
    verifyForm,
    async (c) => {
      const id = sessionIdOf(c);
      if (id) await endSession(c.var.deps, id);
      clearSessionCookie(c);
      await recordSessionAudit(c, 'logout');
      return c.redirect('/console/sign-in?signed_out', 303);
    },
  );
