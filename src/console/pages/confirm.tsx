import type { ConsoleSession } from '../../domain/projects/sessions';
import { PostForm } from '../forms';
import { Layout } from '../layout';

export interface ConfirmProps {
  session: ConsoleSession;
  title: string;
  /** What will happen, in plain words. */
  message: string;
  action: string;
  /** Hidden fields the confirmed form sends. */
  fields?: Record<string, string>;
  confirmLabel: string;
  cancelHref: string;
  danger?: boolean;
  /** The nav entry this page belongs to. */
  active?: string;
}

/**
 * "Are you sure?" as a page: the confirmation works without script (the CSP allows none), and
 * the confirmed action is a CSRF-protected post.
 */
export function ConfirmPage(props: ConfirmProps) {
  const { session, title, message, action, fields = {}, confirmLabel, cancelHref, danger, active } = props;
  return (
    <Layout title={title} session={session} active={active}>
      <div class="card">
        <h1>{title}</h1>
        <p>{message}</p>
        <div class="actions">
          <PostForm action={action} csrf={session.csrfToken}>
            {Object.entries(fields).map(([name, value]) => (
              <input type="hidden" name={name} value={value} />
            ))}
            <button type="submit" class={danger ? 'danger' : 'primary'}>
              {confirmLabel}
            </button>
          </PostForm>
          <a class="button" href={cancelHref}>
            Cancel
          </a>
        </div>
      </div>
    </Layout>
  );
}
