import { Hono } from 'hono';
import { CtsError } from '../domain/errors';
import { notificationOverview } from '../domain/notifications/deliveries';
import {
  createNotification,
  deleteNotifications,
  listNotifications,
  updateNotification,
} from '../domain/notifications/notifications';
import {
  CreateNotificationSchema,
  LIMITS,
  type Notification,
  UpdateNotificationSchema,
} from '../domain/notifications/schema';
import { listTopics } from '../domain/notifications/topics';
import { requireAdminToChange, verifyForm } from './guards';
import { render } from './layout';
import {
  EMPTY_FORM,
  formProblems,
  formValuesFromBody,
  formValuesOf,
  type NotificationFormValues,
  requestOf,
} from './notification-form';
import { ConfirmPage } from './pages/confirm';
import { MessagePage } from './pages/message';
import { NotificationFormPage } from './pages/notification-form';
import { NOTIFICATIONS, NotificationCreatedPage, NotificationListPage } from './pages/notifications';
import { type ConsoleContext, type ConsoleEnv, consoleActor } from './session';

/** What the list says after a change (a fixed set: the URL cannot inject text). */
const NOTICES: Record<string, (name: string) => string> = {
  updated: (name) => `Notification ${name} saved.`,
  enabled: (name) => `Notification ${name} enabled: matching traces are sent from now on.`,
  disabled: (name) => `Notification ${name} disabled: nothing more is queued for it.`,
  deleted: (name) => `Notification ${name} deleted, with its queued deliveries.`,
};

const requireAdmin = requireAdminToChange('key event notifications');

const done = (c: ConsoleContext, what: keyof typeof NOTICES, name: string) =>
  c.redirect(`${NOTIFICATIONS}?done=${what}&name=${encodeURIComponent(name)}`, 303);

async function findNotification(c: ConsoleContext, id: string): Promise<Notification> {
  const { principal } = c.var.session;
  const all = await listNotifications(c.var.deps, principal.projectId, principal.domainId, {
    notificationType: 'smn',
  });
  const found = all.find((n) => n.notification_id === id);
  if (!found) throw new CtsError(404, 'CTS.0401', 'The notification does not exist.');
  return found;
}

/** The form again, with what was wrong (validation problems or the domain's refusal). */
async function formAgain(
  c: ConsoleContext,
  values: NotificationFormValues,
  problems: string[],
  options: { notificationId?: string; code?: string } = {},
) {
  const topics = await listTopics(c.var.deps, c.var.session.principal.projectId);
  return render(
    c,
    <NotificationFormPage
      session={c.var.session}
      values={values}
      topics={topics}
      problems={problems}
      {...options}
    />,
    400,
  );
}

/** A domain refusal (4xx) as a message; anything else is a real error. */
const refusal = (error: unknown) => {
  if (error instanceof CtsError && error.status < 500) {
    return {
      problems: [...(error.details ?? []).map((d) => `${d.field}: ${d.message}`), error.message],
      code: error.code,
    };
  }
  throw error;
};

/** The full rule with another status (PUT is a full replacement). */
const withStatus = (n: Notification, status: 'enabled' | 'disabled') => ({
  notification_id: n.notification_id,
  notification_name: n.notification_name,
  operation_type: n.operation_type,
  ...(n.operation_type === 'customized' && { operations: n.operations }),
  notify_user_list: n.notify_user_list,
  ...(n.topic_id && { topic_id: n.topic_id }),
  ...(n.filter && { filter: n.filter }),
  status,
});

export const notificationRoutes = new Hono<ConsoleEnv>()
  .get('/notifications', async (c) => {
    const { deps, session } = c.var;
    const { projectId, domainId } = session.principal;
    const notice = NOTICES[c.req.query('done') ?? '']?.(c.req.query('name') ?? '');
    const notifications = await notificationOverview(deps, projectId, domainId);
    return render(
      c,
      <NotificationListPage
        session={session}
        notifications={notifications}
        quota={LIMITS.notificationsPerProject}
        notice={notice}
      />,
    );
  })
  .get('/notifications/new', requireAdmin, async (c) => {
    const topics = await listTopics(c.var.deps, c.var.session.principal.projectId);
    return render(c, <NotificationFormPage session={c.var.session} values={EMPTY_FORM} topics={topics} />);
  })
  .post('/notifications/new', verifyForm, requireAdmin, async (c) => {
    const values = formValuesFromBody(await c.req.parseBody());
    const parsed = CreateNotificationSchema.safeParse(requestOf(values));
    if (!parsed.success) return formAgain(c, values, formProblems(parsed.error));
    try {
      const created = await createNotification(c.var.deps, consoleActor(c), parsed.data);
      // Rendered, not redirected: the secret must not travel in a URL.
      return render(c, <NotificationCreatedPage session={c.var.session} notification={created} />);
    } catch (error) {
      const { problems, code } = refusal(error);
      return formAgain(c, values, problems, { code });
    }
  })
  .get('/notifications/:id/edit', requireAdmin, async (c) => {
    const notification = await findNotification(c, c.req.param('id'));
    const topics = await listTopics(c.var.deps, c.var.session.principal.projectId);
    return render(
      c,
      <NotificationFormPage
        session={c.var.session}
        notificationId={notification.notification_id}
        values={formValuesOf(notification)}
        topics={topics}
      />,
    );
  })
  .post('/notifications/:id/edit', verifyForm, requireAdmin, async (c) => {
    const notification = await findNotification(c, c.req.param('id'));
    const notificationId = notification.notification_id;
    const values = formValuesFromBody(await c.req.parseBody());
    const parsed = UpdateNotificationSchema.safeParse({
      ...requestOf(values),
      notification_id: notificationId,
    });
    if (!parsed.success) return formAgain(c, values, formProblems(parsed.error), { notificationId });
    try {
      const updated = await updateNotification(c.var.deps, consoleActor(c), parsed.data);
      return done(c, 'updated', updated.notification_name);
    } catch (error) {
      const { problems, code } = refusal(error);
      return formAgain(c, values, problems, { notificationId, code });
    }
  })
  .get('/notifications/:id/status', requireAdmin, async (c) => {
    const n = await findNotification(c, c.req.param('id'));
    const enable = c.req.query('to') === 'enabled';
    const name = n.notification_name;
    return render(
      c,
      <ConfirmPage
        session={c.var.session}
        title={`${enable ? 'Enable' : 'Disable'} notification ${name}`}
        message={
          enable
            ? `Enable notification ${name}? Traces recorded from now on that match it are sent to ${n.topic_id ?? 'its topic'}.`
            : `Disable notification ${name}? Traces recorded from now on are not sent; deliveries already queued still are.`
        }
        action={`${NOTIFICATIONS}/${encodeURIComponent(n.notification_id)}/status`}
        fields={{ status: enable ? 'enabled' : 'disabled' }}
        confirmLabel={enable ? 'Enable' : 'Disable'}
        cancelHref={NOTIFICATIONS}
        danger={!enable}
        active={NOTIFICATIONS}
      />,
    );
  })
  .post('/notifications/:id/status', verifyForm, requireAdmin, async (c) => {
    const n = await findNotification(c, c.req.param('id'));
    const status = (await c.req.parseBody()).status === 'enabled' ? 'enabled' : 'disabled';
    const parsed = UpdateNotificationSchema.safeParse(withStatus(n, status));
    const problem = parsed.success
      ? await updateNotification(c.var.deps, consoleActor(c), parsed.data).then(
          () => undefined,
          (error) => refusal(error).problems.join(' '),
        )
      : formProblems(parsed.error).join(' ');
    if (problem) {
      return render(
        c,
        <MessagePage
          title={`Notification ${n.notification_name} could not be ${status}`}
          message={problem}
          session={c.var.session}
          link={{
            href: `${NOTIFICATIONS}/${encodeURIComponent(n.notification_id)}/edit`,
            label: 'Modify it',
          }}
        />,
        400,
      );
    }
    return done(c, status, n.notification_name);
  })
  .get('/notifications/:id/delete', requireAdmin, async (c) => {
    const n = await findNotification(c, c.req.param('id'));
    return render(
      c,
      <ConfirmPage
        session={c.var.session}
        title={`Delete notification ${n.notification_name}`}
        message={`Delete notification ${n.notification_name}? Nothing more is sent for it, and its queued deliveries are dropped.`}
        action={`${NOTIFICATIONS}/${encodeURIComponent(n.notification_id)}/delete`}
        confirmLabel="Delete"
        cancelHref={NOTIFICATIONS}
        danger
        active={NOTIFICATIONS}
      />,
    );
  })
  .post('/notifications/:id/delete', verifyForm, requireAdmin, async (c) => {
    const n = await findNotification(c, c.req.param('id'));
    await deleteNotifications(c.var.deps, consoleActor(c), [n.notification_id]);
    return done(c, 'deleted', n.notification_name);
  });
