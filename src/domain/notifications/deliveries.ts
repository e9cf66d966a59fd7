import { listNotificationRows } from '../../store/notification-queries';
import { listOutboxRows, outboxCounts } from '../../store/outbox-queries';
import type { OutboxRow } from '../../store/schema/notifications';
import type { Deps } from '../deps';
import { toApiNotification } from './notifications';
import type { Notification } from './schema';

/** How a rule's deliveries are going: its latest attempt, and what is queued or gave up. */
export interface DeliveryStatus {
  last_delivery_time: number | null;
  last_delivery_status: 'delivered' | 'retrying' | 'failed' | null;
  last_delivery_error: string | null;
  pending: number;
  failed: number;
}

/** Every rule of a project with its delivery status (the console's list). */
export async function notificationOverview(
  deps: Pick<Deps, 'db'>,
  projectId: string,
  domainId: string,
): Promise<Array<Notification & { delivery: DeliveryStatus }>> {
  const rows = await listNotificationRows(deps.db, projectId);
  const counts = await outboxCounts(
    deps.db,
    rows.map((row) => row.id),
  );
  const countOf = (id: string, status: 'pending' | 'failed') =>
    counts.find((c) => c.notificationId === id && c.status === status)?.n ?? 0;
  return rows.map((row) => ({
    ...toApiNotification(row, domainId),
    delivery: {
      last_delivery_time: row.lastDeliveryAt,
      last_delivery_status: row.lastDeliveryStatus,
      last_delivery_error: row.lastDeliveryError,
      pending: countOf(row.id, 'pending'),
      failed: countOf(row.id, 'failed'),
    },
  }));
}

/** One delivery (outbox row) in the API's shape. */
export interface Delivery {
  notification_id: string;
  trace_id: string;
  status: OutboxRow['status'];
  attempts: number;
  last_status_code: number | null;
  last_error: string | null;
  create_time: number;
  next_attempt_time: number | null;
  delivered_time: number | null;
  expire_time: number;
}

/** A project's deliveries, newest first (failed ones stay listed for the retention period). */
export async function listDeliveries(
  deps: Pick<Deps, 'db'>,
  projectId: string,
  filter: { notificationId?: string; status?: OutboxRow['status']; limit: number },
): Promise<Delivery[]> {
  const rows = await listOutboxRows(deps.db, projectId, filter);
  return rows.map((row) => ({
    notification_id: row.notificationId,
    trace_id: row.traceId,
    status: row.status,
    attempts: row.attempts,
    last_status_code: row.lastStatusCode,
    last_error: row.lastError,
    create_time: row.createdAt,
    next_attempt_time: row.status === 'pending' ? row.nextAttemptAt : null,
    delivered_time: row.deliveredAt,
    expire_time: row.expiresAt,
  }));
}
