import { index, integer, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';

/** Key event notification rules (CTS v3 §4). List-valued fields are JSON text. */
export const notifications = sqliteTable(
  'notifications',
  {
    id: text('id').primaryKey(),
    projectId: text('project_id').notNull(),
    name: text('name').notNull(),
    operationType: text('operation_type', { enum: ['complete', 'customized'] }).notNull(),
    operations: text('operations').notNull().default('[]'),
    notifyUserList: text('notify_user_list').notNull().default('[]'),
    status: text('status', { enum: ['enabled', 'disabled'] }).notNull(),
    topicId: text('topic_id'),
    filter: text('filter'),
    /** HMAC-SHA256 key for `X-CTS-Signature`, shown once at creation. */
    secret: text('secret').notNull(),
    createTime: integer('create_time').notNull(),
    updatedAt: integer('updated_at').notNull(),
    /** Outcome of the latest delivery attempt, for the console (kept here: O(1) to show). */
    lastDeliveryAt: integer('last_delivery_at'),
    lastDeliveryStatus: text('last_delivery_status', { enum: ['delivered', 'retrying', 'failed'] }),
    lastDeliveryError: text('last_delivery_error'),
  },
  (t) => [uniqueIndex('notifications_project_name').on(t.projectId, t.name)],
);

/** SMN-style topics defined in the service: `urn:smn:...` → webhook URL. */
export const topics = sqliteTable(
  'topics',
  {
    urn: text('urn').primaryKey(),
    projectId: text('project_id').notNull(),
    endpointUrl: text('endpoint_url').notNull(),
    createdAt: integer('created_at').notNull(),
  },
  (t) => [index('topics_project').on(t.projectId)],
);

/** Persistent delivery outbox: one row per (notification, trace), at-least-once. */
export const notificationOutbox = sqliteTable(
  'notification_outbox',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    notificationId: text('notification_id').notNull(),
    projectId: text('project_id').notNull(),
    traceId: text('trace_id').notNull(),
    payload: text('payload').notNull(),
    status: text('status', { enum: ['pending', 'delivered', 'failed'] }).notNull(),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: integer('next_attempt_at').notNull(),
    expiresAt: integer('expires_at').notNull(),
    lastStatusCode: integer('last_status_code'),
    lastError: text('last_error'),
    createdAt: integer('created_at').notNull(),
    deliveredAt: integer('delivered_at'),
  },
  (t) => [
    uniqueIndex('notification_outbox_dedupe').on(t.notificationId, t.traceId),
    // Pending rows by due time (the drain); delivered/failed rows by when they settled (pruning).
    index('notification_outbox_due').on(t.status, t.nextAttemptAt),
    // Per-rule counts and listings (console, deliveries API) without scanning delivered history.
    index('notification_outbox_notification_status').on(t.notificationId, t.status),
  ],
);

export type NotificationRow = typeof notifications.$inferSelect;
export type TopicRow = typeof topics.$inferSelect;
export type OutboxRow = typeof notificationOutbox.$inferSelect;
