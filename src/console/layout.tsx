import type { Context } from 'hono';
import { html } from 'hono/html';
import type { Child, PropsWithChildren } from 'hono/jsx';
import type { ConsoleSession } from '../domain/projects/sessions';
import { CONSOLE_JS_VERSION } from './assets';
import { PostForm } from './forms';
import { CONSOLE_CSS_VERSION } from './styles';

/** One entry of the top navigation. A new console page adds itself here. */
export interface NavEntry {
  href: string;
  label: string;
}

export const CONSOLE_NAV: NavEntry[] = [
  { href: '/console/trackers', label: 'Tracker List' },
  { href: '/console/traces', label: 'Trace List' },
  { href: '/console/notifications', label: 'Key Event Notifications' },
];

interface LayoutProps {
  title: string;
  /** Absent on the sign-in page. */
  session?: ConsoleSession;
  /** The `href` of the nav entry to mark as current. */
  active?: string;
}

/** The page frame: head, top bar with navigation and the signed-in key, then the page. */
export function Layout({ title, session, active, children }: PropsWithChildren<LayoutProps>) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="referrer" content="no-referrer" />
        <title>{`${title} · Cloud Trace Service`}</title>
        <link rel="stylesheet" href={`/console/assets/console.css?v=${CONSOLE_CSS_VERSION}`} />
        <link rel="icon" href="/console/assets/favicon.svg" type="image/svg+xml" />
        <script src={`/console/assets/console.js?v=${CONSOLE_JS_VERSION}`} defer />
      </head>
      <body>
        <header class="topbar">
          <a class="brand" href="/console">
            Cloud Trace Service
          </a>
          {session && (
            <nav aria-label="Console">
              {CONSOLE_NAV.map((entry) => (
                <a href={entry.href} aria-current={entry.href === active ? 'page' : undefined}>
                  {entry.label}
                </a>
              ))}
            </nav>
          )}
          {session && (
            <div class="who">
              <span>
                Project <span class="mono">{session.principal.projectId}</span> · {session.principal.keyName}{' '}
                ({session.principal.role})
              </span>
              <PostForm action="/console/sign-out" csrf={session.csrfToken}>
                <button type="submit">Sign out</button>
              </PostForm>
            </div>
          )}
        </header>
        <main>{children}</main>
      </body>
    </html>
  );
}

/** Sends a page as HTML with the doctype (a constant, never data) in front. */
export function render(c: Context, page: Child, status: 200 | 400 | 401 | 403 | 404 | 500 | 503 = 200) {
  return c.html(html`<!doctype html>${page}`, status);
}

/** A message box for an error the user can act on; `code` is the CTS error code when there is one. */
export function ErrorBox({ message, code }: { message: string; code?: string }) {
  return (
    <div class="error" role="alert">
      {message}
      {code && (
        <>
          {' '}
          <code>({code})</code>
        </>
      )}
    </div>
  );
}

/** A list table: one header cell per column, the rows (each cell with its column's `data-label`). */
export function ListTable({ columns, children }: PropsWithChildren<{ columns: string[] }>) {
  return (
    <table class="list">
      <thead>
        <tr>
          {columns.map((column) => (
            <th>{column}</th>
          ))}
        </tr>
      </thead>
      <tbody>{children}</tbody>
    </table>
  );
}
