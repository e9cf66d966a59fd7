import type { DeliveryStatus } from '../../domain/notifications/deliveries';
import type { Notification } from '../../domain/notifications/schema';
import type { ConsoleSession } from '../../domain/projects/sessions';
import { formatTime } from '../format';
import { Layout, ListTable } from '../layout';

export const NOTIFICATIONS = '/console/notifications';

export interface NotificationListProps {
  session: ConsoleSession;
  notifications: Array<Notification & { delivery: DeliveryStatus }>;
  quota: number;
  notice?: string;
}

// The console's badge colours: green, amber, red.
const DELIVERY_BADGE = { delivered: 'normal', retrying: 'warning', failed: 'incident' } as const;

/** Key Event Notifications (reference §10, §11.3): the rules, their delivery status and operations. */
export function NotificationListPage({ session, notifications, quota, notice }: NotificationListProps) {
  const admin = session.principal.role === 'admin';
  return (
    <Layout title="Key Event Notifications" session={session} active={NOTIFICATIONS}>
      <h1>Key Event Notifications</h1>
      {notice && (
        <div class="notice" role="status">
          {notice}
        </div>
      )}
      <div class="summary-line">
        <span>
          {notifications.length} of {quota} notifications. Matching traces are posted to the topic as signed
          CloudEvents as soon as they are recorded.
        </span>
        {admin && notifications.length < quota && (
          <a class="button primary" href={`${NOTIFICATIONS}/new`}>
            Create Key Event Notification
          </a>
        )}
      </div>
      {!admin && <p class="sub">You are signed in with a reader key: notifications are shown read-only.</p>}
      {notifications.length === 0 ? (
        <div class="empty">
          <p>No key event notification yet: nothing is sent when traces are recorded.</p>
        </div>
      ) : (
        <ListTable columns={['Name', 'Status', 'Rule', 'Topic', 'Last delivery', 'Operation']}>
          {notifications.map((n) => (
            <NotificationRow n={n} admin={admin} />
          ))}
        </ListTable>
      )}
    </Layout>
  );
}

function NotificationRow({ n, admin }: { n: Notification & { delivery: DeliveryStatus }; admin: boolean }) {
  const id = encodeURIComponent(n.notification_id);
  const enabled = n.status === 'enabled';
  const operations = n.operations.reduce((sum, op) => sum + op.trace_names.length, 0);
  const services = [...new Set(n.operations.map((op) => op.service_type))];
  const users = n.notify_user_list.flatMap((g) => g.user_list);
  return (
    <tr>
      <td data-label="Name">
        <strong>{n.notification_name}</strong>
        <span class="sub mono">{n.notification_id}</span>
      </td>
      <td data-label="Status">
        <span class={`badge ${n.status}`}>{n.status}</span>
      </td>
      <td data-label="Rule">
        {n.operation_type === 'complete'
          ? 'All operations'
          : `${operations} operation${operations === 1 ? '' : 's'} of ${services.join(', ')}`}
        <span class="sub">
          {users.length === 0
            ? 'All users'
            : `${users.length} user${users.length === 1 ? '' : 's'} in ${n.notify_user_list.length} group${n.notify_user_list.length === 1 ? '' : 's'}`}
          {n.filter?.is_support_filter ? ` · only if ${n.filter.rule.join(` ${n.filter.condition} `)}` : ''}
        </span>
        <details>
          <summary>View</summary>
          <ul>
            {n.operations.map((op) => (
              <li class="mono">
                {op.service_type} / {op.resource_type}: {op.trace_names.join(', ')}
              </li>
            ))}
            {n.notify_user_list.map((g) => (
              <li>
                Group {g.user_group}: {g.user_list.join(', ')}
              </li>
            ))}
          </ul>
        </details>
      </td>
      <td data-label="Topic">
        {n.topic_id ? (
          <span class="mono wrap">{n.topic_id}</span>
        ) : (
          <span class="sub">None: nothing is sent</span>
        )}
      </td>
      <td data-label="Last delivery">
        <LastDelivery delivery={n.delivery} />
      </td>
      <td data-label="Operation">
        {admin ? (
          <div class="actions">
            <a class="button" href={`${NOTIFICATIONS}/${id}/edit`}>
              Modify
            </a>
            <a class="button" href={`${NOTIFICATIONS}/${id}/status?to=${enabled ? 'disabled' : 'enabled'}`}>
              {enabled ? 'Disable' : 'Enable'}
            </a>
            <a class="button" href={`${NOTIFICATIONS}/${id}/delete`}>
              Delete
            </a>
          </div>
        ) : (
          <span class="sub">Read-only</span>
        )}
      </td>
    </tr>
  );
}

function LastDelivery({ delivery }: { delivery: DeliveryStatus }) {
  const queue = [
    delivery.pending > 0 ? `${delivery.pending} waiting` : '',
    delivery.failed > 0 ? `${delivery.failed} failed (gave up after 24 h)` : '',
  ].filter(Boolean);
  return (
    <>
      {delivery.last_delivery_status ? (
        <span class={`badge ${DELIVERY_BADGE[delivery.last_delivery_status]}`}>
          {delivery.last_delivery_status}
        </span>
      ) : (
        <span class="sub">Nothing sent yet</span>
      )}
      {delivery.last_delivery_time !== null && (
        <span class="sub">{formatTime(delivery.last_delivery_time)} UTC</span>
      )}
      {delivery.last_delivery_error && <span class="sub mono wrap">{delivery.last_delivery_error}</span>}
      {queue.length > 0 && <span class="sub">{queue.join(' · ')}</span>}
    </>
  );
}

/** After Create: the rule's signing secret, the only time it is shown. */
export function NotificationCreatedPage({
  session,
  notification,
}: {
  session: ConsoleSession;
  notification: Notification & { secret: string };
}) {
  return (
    <Layout title="Notification created" session={session} active={NOTIFICATIONS}>
      <div class="card">
        <h1>Notification {notification.notification_name} created</h1>
        <p>
          Every delivery carries <code>X-CTS-Signature: sha256=…</code>, the HMAC-SHA256 of the request body
          keyed with this secret. Copy it to the receiver now: <strong>it is shown only this once</strong>.
        </p>
        <p>
          <code class="secret">{notification.secret}</code>
        </p>
        <p>
          <a class="button primary" href={NOTIFICATIONS}>
            Back to Key Event Notifications
          </a>
        </p>
      </div>
    </Layout>
  );
}
