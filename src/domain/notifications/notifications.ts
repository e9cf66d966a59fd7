import { v7 as uuidv7 } from 'uuid';
import {
  deleteNotificationRows,
  findNotification,
  findTopic,
  insertNotification,
  listNotificationRows,
  updateNotificationRow,
} from '../../store/notification-queries';
import type { NotificationRow } from '../../store/schema/notifications';
import { randomHex } from '../crypto';
import type { Deps } from '../deps';
import { badField, CtsError } from '../errors';
import { type Actor, recordAudit } from '../traces/audit';
import { forgetNotificationRules } from './matching';
import {
  type CreateNotificationInput,
  LIMITS,
  NOTIFICATION_TYPES,
  type Notification,
  type UpdateNotificationInput,
} from './schema';
import { parseTopicId, webhookUrlProblem } from './topic-id';

/** Error codes the reference does not define (it has none for these cases). */
export const NOTIFICATION_NOT_FOUND = 'CTS.0401';
export const NOTIFICATION_QUOTA_REACHED = 'CTS.0402';
export const MAX_IDS_PER_DELETE = 100;

const nameTaken = () => new CtsError(400, 'CTS.0400', 'NotificationV3 name is existed already.');

/** A stored rule in the API's shape (reference §4.5); `topic_id`/`filter` only when set. */
export function toApiNotification(row: NotificationRow, domainId: string): Notification {
  return {
    notification_id: row.id,
    notification_name: row.name,
    notification_type: 'smn',
    operation_type: row.operationType,
    operations: JSON.parse(row.operations),
    notify_user_list: JSON.parse(row.notifyUserList),
    status: row.status,
    ...(row.topicId ? { topic_id: row.topicId } : {}),
    ...(row.filter ? { filter: JSON.parse(row.filter) } : {}),
    project_id: row.projectId,
    domain_id: domainId,
    create_time: row.createTime,
  };
}

/** Checks what the schema cannot: a URL allowed by configuration, or a topic URN of this project. */
export async function checkTopicId(deps: Pick<Deps, 'db' | 'config'>, projectId: string, topicId: string) {
  const ref = parseTopicId(topicId);
  if (!ref) throw badField('topic_id', 'must be an http(s) URL or a topic URN');
  if (ref.kind === 'url') {
    const problem = webhookUrlProblem(ref.url, { allowPrivate: deps.config.CTS_WEBHOOK_ALLOW_PRIVATE });
    if (problem) throw badField('topic_id', problem);
    return;
  }
  if (ref.region !== deps.config.CTS_REGION)
    throw badField('topic_id', `must be in region ${deps.config.CTS_REGION}`);
  if (ref.projectId !== projectId) throw badField('topic_id', 'must be a topic of this project');
  const topic = await findTopic(deps.db, ref.urn);
  if (!topic) {
    throw badField(
      'topic_id',
      `names no topic; define it first with PUT /v3/${projectId}/topics/${ref.name}`,
    );
  }
}

type Definition = CreateNotificationInput | UpdateNotificationInput;

function definitionColumns(input: Definition) {
  return {
    name: input.notification_name,
    operationType: input.operation_type,
    // `complete` covers every operation: a list sent with it means nothing, so none is kept.
    operations: JSON.stringify(input.operation_type === 'complete' ? [] : (input.operations ?? [])),
    notifyUserList: JSON.stringify(input.notify_user_list ?? []),
    topicId: input.topic_id ?? null,
    filter: input.filter ? JSON.stringify(input.filter) : null,
  };
}

/** Creates a rule; the result carries its signing `secret`, returned this once only. */
export async function createNotification(
  deps: Deps,
  actor: Actor,
  input: CreateNotificationInput,
): Promise<Notification & { secret: string }> {
  if (input.topic_id) await checkTopicId(deps, actor.projectId, input.topic_id);
  const now = deps.clock();
  const row = {
    // v7: time-ordered, so the list (by create_time, id) keeps creation order.
    id: uuidv7(),
    projectId: actor.projectId,
    ...definitionColumns(input),
    status: input.status ?? (input.topic_id ? 'enabled' : 'disabled'),
    secret: `ctsn_${randomHex(32)}`,
    createTime: now,
    updatedAt: now,
  } as const;
  const outcome = await insertNotification(deps.db, row, LIMITS.notificationsPerProject);
  if (outcome === 'name-taken') throw nameTaken();
  if (outcome === 'quota-reached') {
    throw new CtsError(
      400,
      NOTIFICATION_QUOTA_REACHED,
      `The number of key event notifications has reached the upper limit (${LIMITS.notificationsPerProject}).`,
    );
  }
  forgetNotificationRules(deps.db, actor.projectId);
  const created = toApiNotification(
    { ...row, lastDeliveryAt: null, lastDeliveryStatus: null, lastDeliveryError: null },
    actor.domainId,
  );
  await recordAudit(deps, actor, {
    traceName: 'createNotification',
    resourceType: 'notification',
    resourceId: row.id,
    resourceName: row.name,
    request: input,
    response: created,
    code: 201,
  });
  return { ...created, secret: row.secret };
}

const notFound = (ids: string[]) =>
  new CtsError(404, NOTIFICATION_NOT_FOUND, `The notification does not exist: ${ids.join(', ')}.`);

/** Replaces a rule's definition and status (reference §4.2). */
export async function updateNotification(
  deps: Deps,
  actor: Actor,
  input: UpdateNotificationInput,
): Promise<Notification> {
  const before = await findNotification(deps.db, actor.projectId, input.notification_id);
  if (!before) throw notFound([input.notification_id]);
  if (input.topic_id && input.topic_id !== before.topicId)
    await checkTopicId(deps, actor.projectId, input.topic_id);
  const values = { ...definitionColumns(input), status: input.status };
  const after = await updateNotificationRow(deps.db, actor.projectId, before.id, {
    ...values,
    updatedAt: deps.clock(),
  });
  if (after === 'name-taken') throw nameTaken();
  if (!after) throw notFound([input.notification_id]);
  forgetNotificationRules(deps.db, actor.projectId);
  const updated = toApiNotification(after, actor.domainId);
  // reference §12.2: a change of status alone is `updateNotificationStatus`.
  const statusOnly =
    before.status !== after.status &&
    (['name', 'operationType', 'operations', 'notifyUserList', 'topicId', 'filter'] as const).every(
      (key) => before[key] === after[key],
    );
  await recordAudit(deps, actor, {
    traceName: statusOnly ? 'updateNotificationStatus' : 'updateNotification',
    resourceType: 'notification',
    resourceId: after.id,
    resourceName: after.name,
    request: input,
    response: updated,
  });
  return updated;
}

/** The rules of `GET /v3/{project_id}/notifications/{notification_type}` (reference §4.3). */
export async function listNotifications(
  deps: Pick<Deps, 'db'>,
  projectId: string,
  domainId: string,
  query: { notificationType: string; name?: string },
): Promise<Notification[]> {
  if (!(NOTIFICATION_TYPES as readonly string[]).includes(query.notificationType)) {
    throw badField('notification_type', `must be one of ${NOTIFICATION_TYPES.join(', ')}`);
  }
  const rows = await listNotificationRows(deps.db, projectId, query.name);
  return rows.map((row) => toApiNotification(row, domainId));
}

/** Parses `notification_id=a,b`: trimmed, deduplicated, at most 100. */
export function parseIdList(text: string): string[] {
  const ids = [
    ...new Set(
      text
        .split(',')
        .map((id) => id.trim())
        .filter((id) => id !== ''),
    ),
  ];
  if (ids.length === 0) throw badField('notification_id', 'must name at least one notification');
  if (ids.length > MAX_IDS_PER_DELETE) {
    throw badField('notification_id', `must name at most ${MAX_IDS_PER_DELETE} notifications`);
  }
  if (ids.some((id) => id.length > 64)) throw badField('notification_id', 'ids are at most 64 characters');
  return ids;
}

/**
 * Deletes rules (and their queued deliveries). All or nothing: when any id is unknown the call
 * is a 404 naming them and nothing is deleted.
 */
export async function deleteNotifications(deps: Deps, actor: Actor, ids: string[]): Promise<void> {
  const rows = await listNotificationRows(deps.db, actor.projectId);
  const byId = new Map(rows.map((row) => [row.id, row]));
  const missing = ids.filter((id) => !byId.has(id));
  if (missing.length > 0) throw notFound(missing);
  const deleted = await deleteNotificationRows(deps.db, actor.projectId, ids);
  forgetNotificationRules(deps.db, actor.projectId);
  for (const id of deleted) {
    await recordAudit(deps, actor, {
      traceName: 'deleteNotification',
      resourceType: 'notification',
      resourceId: id,
      resourceName: byId.get(id)?.name,
      request: { notification_id: ids.join(',') },
      code: 204,
    });
  }
}
