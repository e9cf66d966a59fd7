import type { MiddlewareHandler } from 'hono';
import { CSRF_FIELD, checkCsrf } from './forms';
import { render } from './layout';
import { MessagePage } from './pages/message';
import type { ConsoleContext, ConsoleEnv } from './session';

/** A 403 page naming what was refused and why. */
export function forbidden(c: ConsoleContext, title: string, message: string) {
  return render(c, <MessagePage title={title} message={message} session={c.var.session} />, 403);
}

/**
 * Guards a state-changing form post: parses the form and checks its CSRF token against the
 * session's (and that the browser did not send it from another site). Runs after
 * `requireSession`; the parsed form is read again by the handler from hono's body cache.
 */
export const verifyForm: MiddlewareHandler<ConsoleEnv> = async (c, next) => {
  const form = await c.req.parseBody();
  if (!checkCsrf(c.req, c.var.session.csrfToken, form[CSRF_FIELD])) {
    return forbidden(
      c,
      'Form check failed',
      'This form could not be verified (CSRF check failed): it has expired or did not come from this console. ' +
        'Reload the page and try again.',
    );
  }
  await next();
};

/** Only admin keys may change `what`; a reader gets a clear refusal rather than a hidden failure. */
export const requireAdminToChange =
  (what: string): MiddlewareHandler<ConsoleEnv> =>
  async (c, next) => {
    if (c.var.session.principal.role !== 'admin') {
      return forbidden(
        c,
        'Read-only access',
        `You are signed in with a reader key, which can view but not change ${what}. Sign in with an admin key to make changes.`,
      );
    }
    await next();
  };

export const requireAdmin = requireAdminToChange('trackers');
