import { createRoute, z } from '@hono/zod-openapi';
import { listDeliveries } from '../domain/notifications/deliveries';
import {
  createNotification,
  deleteNotifications,
  listNotifications,
  parseIdList,
  updateNotification,
} from '../domain/notifications/notifications';
import {
  CreateNotificationSchema,
  FilterSchema,
  NotifyUsersSchema,
  OperationSchema,
  UpdateNotificationSchema,
} from '../domain/notifications/schema';
import { auditRefusals } from './audit-refusals';
import { canAdminister, canRead } from './auth';
import { actorOf, errorResponses, limitManagementBody, newRouter, notFoundResponse, security } from './http';
import { ProjectParams } from './traces';

const NotificationSchema = z
  .object({
    notification_id: z.string(),
    notification_name: z.string(),
    notification_type: z.literal('smn'),
    operation_type: z.enum(['complete', 'customized']),
    operations: z.array(OperationSchema),
    notify_user_list: z.array(NotifyUsersSchema),
    status: z.enum(['enabled', 'disabled']),
    topic_id: z.string().optional(),
    filter: FilterSchema.optional(),
    project_id: z.string(),
    domain_id: z.string(),
    create_time: z.number().int(),
  })
  .openapi('Notification');

const CreatedNotificationSchema = NotificationSchema.extend({
  secret: z.string().openapi({
    description:
      'HMAC-SHA256 key of the `X-CTS-Signature` header of every delivery. Returned only in this response.',
  }),
}).openapi('CreatedNotification');

const jsonBody = <T extends z.ZodType>(schema: T) => ({
  required: true,
  content: { 'application/json': { schema } },
});

const createNotificationRoute = createRoute({
  method: 'post',
  path: '/v3/{project_id}/notifications',
  operationId: 'CreateNotification',
  tags: ['Key event notifications'],
  summary: 'Create a key event notification',
  description:
    'A rule matching recorded traces: `complete` (every operation) or `customized` (the listed ' +
    '`operations`), optionally restricted to `notify_user_list` (by `user.name`) and an advanced ' +
    '`filter`. `topic_id` is an http(s) webhook URL or a topic URN defined with `PUT /v3/{project_id}/topics/{name}`. ' +
    'Without `status`, a rule with a topic starts enabled and one without starts disabled.',
  security,
  middleware: [
    auditRefusals({ traceName: 'createNotification', resourceType: 'notification' }),
    canAdminister,
    limitManagementBody,
  ],
  request: { params: ProjectParams, body: jsonBody(CreateNotificationSchema) },
  responses: {
    201: { description: 'Created', content: { 'application/json': { schema: CreatedNotificationSchema } } },
    ...errorResponses,
  },
});

const updateNotificationRoute = createRoute({
  method: 'put',
  path: '/v3/{project_id}/notifications',
  operationId: 'UpdateNotification',
  tags: ['Key event notifications'],
  summary: 'Modify, enable or disable a key event notification',
  description: 'A full replacement of the rule; `topic_id` is required when `status` is `enabled`.',
  security,
  middleware: [
    auditRefusals({ traceName: 'updateNotification', resourceType: 'notification' }),
    canAdminister,
    limitManagementBody,
  ],
  request: { params: ProjectParams, body: jsonBody(UpdateNotificationSchema) },
  responses: {
    200: { description: 'Modified', content: { 'application/json': { schema: NotificationSchema } } },
    ...errorResponses,
    ...notFoundResponse,
  },
});

const listNotificationsRoute = createRoute({
  method: 'get',
  path: '/v3/{project_id}/notifications/{notification_type}',
  operationId: 'ListNotifications',
  tags: ['Key event notifications'],
  summary: 'Query key event notifications',
  security,
  middleware: [canRead],
  request: {
    params: ProjectParams.extend({
      notification_type: z
        .string()
        .openapi({ param: { name: 'notification_type', in: 'path' }, example: 'smn' }),
    }),
    query: z.object({
      notification_name: z
        .string()
        .max(64)
        .optional()
        .openapi({ param: { name: 'notification_name', in: 'query' } }),
    }),
  },
  responses: {
    200: {
      description: 'Notifications',
      content: { 'application/json': { schema: z.object({ notifications: z.array(NotificationSchema) }) } },
    },
    ...errorResponses,
  },
});

const deleteNotificationsRoute = createRoute({
  method: 'delete',
  path: '/v3/{project_id}/notifications',
  operationId: 'DeleteNotification',
  tags: ['Key event notifications'],
  summary: 'Delete key event notifications',
  description: 'All or nothing: when an id is unknown, nothing is deleted (404). Queued deliveries go too.',
  security,
  middleware: [
    auditRefusals({ traceName: 'deleteNotification', resourceType: 'notification' }),
    canAdminister,
  ],
  request: {
    params: ProjectParams,
    query: z.object({
      notification_id: z.string().openapi({
        param: { name: 'notification_id', in: 'query' },
        description: 'One id, or several separated by commas.',
      }),
    }),
  },
  responses: { 204: { description: 'Deleted' }, ...errorResponses, ...notFoundResponse },
});

const DeliverySchema = z
  .object({
    notification_id: z.string(),
    trace_id: z.string(),
    status: z.enum(['pending', 'delivered', 'failed']),
    attempts: z.number().int(),
    last_status_code: z.number().int().nullable(),
    last_error: z.string().nullable(),
    create_time: z.number().int(),
    next_attempt_time: z.number().int().nullable(),
    delivered_time: z.number().int().nullable(),
    expire_time: z.number().int(),
  })
  .openapi('NotificationDelivery');

const listDeliveriesRoute = createRoute({
  method: 'get',
  path: '/v3/{project_id}/notification-deliveries',
  operationId: 'ListNotificationDeliveries',
  tags: ['Key event notifications'],
  summary: 'Query webhook deliveries (not in CTS)',
  description:
    'One entry per (notification, trace), newest first: `pending` (queued or retrying), `delivered`, or ' +
    '`failed` (still undelivered 24 h after the trace was recorded). Settled entries are kept for the retention period.',
  security,
  middleware: [canRead],
  request: {
    params: ProjectParams,
    query: z.object({
      notification_id: z.string().max(64).optional(),
      status: z.enum(['pending', 'delivered', 'failed']).optional(),
      limit: z.coerce.number().int().min(1).max(200).default(50),
    }),
  },
  responses: {
    200: {
      description: 'Deliveries',
      content: { 'application/json': { schema: z.object({ deliveries: z.array(DeliverySchema) }) } },
    },
    ...errorResponses,
  },
});

export const notificationRoutes = newRouter()
  .openapi(createNotificationRoute, async (c) => {
    const created = await createNotification(c.get('deps'), actorOf(c), c.req.valid('json'));
    return c.json(created, 201);
  })
  .openapi(updateNotificationRoute, async (c) => {
    return c.json(await updateNotification(c.get('deps'), actorOf(c), c.req.valid('json')), 200);
  })
  .openapi(listNotificationsRoute, async (c) => {
    const { project_id, notification_type } = c.req.valid('param');
    const notifications = await listNotifications(c.get('deps'), project_id, c.get('principal').domainId, {
      notificationType: notification_type,
      name: c.req.valid('query').notification_name,
    });
    return c.json({ notifications }, 200);
  })
  .openapi(deleteNotificationsRoute, async (c) => {
    const ids = parseIdList(c.req.valid('query').notification_id);
    await deleteNotifications(c.get('deps'), actorOf(c), ids);
    return c.body(null, 204);
  })
  .openapi(listDeliveriesRoute, async (c) => {
    const { project_id } = c.req.valid('param');
    const { notification_id, status, limit } = c.req.valid('query');
    const deliveries = await listDeliveries(c.get('deps'), project_id, {
      notificationId: notification_id,
      status,
      limit,
    });
    return c.json({ deliveries }, 200);
  });
