import type { ConsoleSession } from '../../domain/projects/sessions';
import { ErrorBox, Layout } from '../layout';

export interface MessageProps {
  title: string;
  message: string;
  code?: string;
  session?: ConsoleSession;
  /** A way out: a link back (defaults to the Trace List, or sign-in when signed out). */
  link?: { href: string; label: string };
}

/** A page that only explains a problem (forbidden, CSRF failure, not found, error). */
export function MessagePage({ title, message, code, session, link }: MessageProps) {
  const way =
    link ??
    (session
      ? { href: '/console/traces', label: 'Go to the Trace List' }
      : { href: '/console/sign-in', label: 'Sign in' });
  return (
    <Layout title={title} session={session}>
      <h1>{title}</h1>
      <ErrorBox message={message} code={code} />
      <p>
        <a class="button" href={way.href}>
          {way.label}
        </a>
      </p>
    </Layout>
  );
}
