import type { PropsWithChildren } from 'hono/jsx';
import { timingSafeEqual } from '../domain/crypto';

/** Name of the hidden field that carries the session's CSRF token. */
export const CSRF_FIELD = '_csrf';

interface PostFormProps {
  action: string;
  csrf: string;
  class?: string;
}

/**
 * A state-changing form: POST with the session's CSRF token. Every console form that changes
 * something is one of these; the route behind it uses `checkCsrf` (via `consoleForm`).
 */
export function PostForm({ action, csrf, class: className, children }: PropsWithChildren<PostFormProps>) {
  return (
    <form method="post" action={action} class={className}>
      <input type="hidden" name={CSRF_FIELD} value={csrf} />
      {children}
    </form>
  );
}

/**
 * Whether a form post may proceed: the browser must not say it came from another site, and
 * (once signed in) the token must be the session's. Origin/Sec-Fetch-Site also cover the
 * sign-in form, which has no session yet.
 */
export function checkCsrf(
  request: { url: string; header(name: string): string | undefined },
  expectedToken: string | undefined,
  sentToken: unknown,
): boolean {
  if (!sameOrigin(request)) return false;
  if (expectedToken === undefined) return true;
  return typeof sentToken === 'string' && timingSafeEqual(sentToken, expectedToken);
}

function sameOrigin(request: { url: string; header(name: string): string | undefined }): boolean {
  // Browsers that send Sec-Fetch-Site say exactly where a request came from.
  const site = request.header('sec-fetch-site');
  if (site) return site === 'same-origin';
  // Otherwise compare Origin's host with ours (hosts, not origins: behind a TLS-terminating
  // proxy the scheme we see differs). `Origin: null` is what the app's `no-referrer` policy
  // makes even a same-origin post send, so it proves nothing either way.
  const origin = request.header('origin');
  if (!origin || origin === 'null') return true;
  let originHost: string;
  try {
    originHost = new URL(origin).host;
  } catch {
    return false;
  }
  // Any name we are reached by will do: a cross-site form cannot set these headers.
  const ours = [new URL(request.url).host, request.header('host'), request.header('x-forwarded-host')];
  return ours.includes(originHost);
}
