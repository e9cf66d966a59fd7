import { Hono } from 'hono';
import { secureHeaders } from 'hono/secure-headers';
import { CtsError } from '../domain/errors';
import { CONSOLE_JS, FAVICON_SVG } from './assets';
import { authRoutes } from './auth-routes';
import { render } from './layout';
import { notificationRoutes } from './notification-routes';
import { MessagePage } from './pages/message';
import { type ConsoleEnv, requireSession } from './session';
import { CONSOLE_CSS } from './styles';
import { timeRoutes } from './time-pref';
import { traceRoutes } from './trace-routes';
import { trackerRoutes } from './tracker-routes';

/**
 * Console pages allow nothing but their own stylesheet, their one script (which only enhances:
 * see assets.ts) and form posts to themselves: no inline script or style, no framing. The API
 * keeps the global headers of `createApp`.
 */
const consoleHeaders = secureHeaders({
  contentSecurityPolicy: {
    defaultSrc: ["'none'"],
    scriptSrc: ["'self'"],
    styleSrc: ["'self'"],
    imgSrc: ["'self'"],
    formAction: ["'self'"],
    frameAncestors: ["'none'"],
    baseUri: ["'none'"],
  },
});

/** The HTML console, mounted at `/console` by `createApp`. */
export function createConsole() {
  const app = new Hono<ConsoleEnv>();
  app.use(consoleHeaders);
  app.use(async (c, next) => {
    await next();
    if (!c.res.headers.has('Cache-Control')) c.header('Cache-Control', 'no-store');
  });

  app.get('/assets/console.css', (c) =>
    c.body(CONSOLE_CSS, 200, {
      'Content-Type': 'text/css; charset=utf-8',
      // The URL carries the stylesheet's hash, so a changed stylesheet gets a new URL.
      'Cache-Control': 'public, max-age=31536000, immutable',
    }),
  );
  const immutable = 'public, max-age=31536000, immutable';
  app.get('/assets/console.js', (c) =>
    c.body(CONSOLE_JS, 200, { 'Content-Type': 'text/javascript; charset=utf-8', 'Cache-Control': immutable }),
  );
  app.get('/assets/favicon.svg', (c) =>
    c.body(FAVICON_SVG, 200, { 'Content-Type': 'image/svg+xml', 'Cache-Control': 'public, max-age=86400' }),
  );
  app.route('/', authRoutes);

  const expired = (c: Parameters<Parameters<typeof requireSession>[0]>[0]) =>
    render(
      c,
      <MessagePage
        title="Signed out"
        message="Your session has ended or expired. Sign in again to continue."
      />,
      401,
    );
  app.use('*', requireSession(expired));
  app.get('/', (c) => c.redirect('/console/traces', 303));
  app.route('/', timeRoutes);
  app.route('/', traceRoutes);
  app.route('/', trackerRoutes);
  app.route('/', notificationRoutes);

  app.all('*', (c) =>
    render(
      c,
      <MessagePage
        title="Page not found"
        message={`There is no console page at ${c.req.path}.`}
        session={c.var.session}
      />,
      404,
    ),
  );
  app.onError((error, c) => {
    if (error instanceof CtsError && error.status < 500) {
      const status = error.status === 409 || error.status === 413 ? 400 : error.status;
      return render(
        c,
        <MessagePage
          title="Request refused"
          message={error.message}
          code={error.code}
          session={c.var.session}
        />,
        status,
      );
    }
    c.var.deps.logger.error('console request failed', {
      requestId: c.var.requestId,
      method: c.req.method,
      path: c.req.path,
      error: error instanceof Error ? (error.stack ?? error.message) : String(error),
    });
    return render(
      c,
      <MessagePage
        title="Something went wrong"
        message={`The console could not complete this request. Try again; if it keeps failing, give the operator request ID ${c.var.requestId}.`}
        session={c.var.session}
      />,
      500,
    );
  });
  return app;
}

export type ConsoleApp = ReturnType<typeof createConsole>;
