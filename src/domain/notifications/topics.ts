import {
  deleteTopicRow,
  listTopicRows,
  notificationsUsingTopic,
  upsertTopic,
} from '../../store/notification-queries';
import type { TopicRow } from '../../store/schema/notifications';
import type { Deps } from '../deps';
import { badField, CtsError } from '../errors';
import { type Actor, recordAudit } from '../traces/audit';
import { TOPIC_NAME, topicUrn, webhookUrlProblem } from './topic-id';

export const TOPIC_NOT_FOUND = 'CTS.0403';

/** A topic in the API's shape. */
export interface Topic {
  topic_urn: string;
  name: string;
  endpoint: string;
  project_id: string;
  create_time: number;
}

export const toApiTopic = (row: TopicRow): Topic => ({
  topic_urn: row.urn,
  name: row.urn.slice(row.urn.lastIndexOf(':') + 1),
  endpoint: row.endpointUrl,
  project_id: row.projectId,
  create_time: row.createdAt,
});

function checkName(name: string) {
  if (!TOPIC_NAME.test(name)) {
    throw badField(
      'topic_name',
      'must be 1-255 letters, digits, hyphens and underscores, starting with a letter or digit',
    );
  }
}

/**
 * Defines a topic (`urn:smn:{region}:{project_id}:{name}`) that delivers to a webhook URL, or
 * repoints an existing one; queued deliveries to the topic then go to the new URL.
 */
export async function putTopic(
  deps: Deps,
  actor: Actor,
  input: { name: string; endpoint: string },
): Promise<{ topic: Topic; created: boolean }> {
  checkName(input.name);
  const problem = webhookUrlProblem(input.endpoint, { allowPrivate: deps.config.CTS_WEBHOOK_ALLOW_PRIVATE });
  if (problem) throw badField('endpoint', problem);
  const urn = topicUrn(deps.config.CTS_REGION, actor.projectId, input.name);
  const { row, created } = await upsertTopic(deps.db, {
    urn,
    projectId: actor.projectId,
    endpointUrl: input.endpoint,
    createdAt: deps.clock(),
  });
  const topic = toApiTopic(row);
  await recordAudit(deps, actor, {
    traceName: created ? 'createTopic' : 'updateTopic',
    resourceType: 'topic',
    resourceId: urn,
    resourceName: input.name,
    // Not the endpoint: readers see audit traces, and a webhook URL may hold a secret.
    response: { topic_urn: topic.topic_urn, name: topic.name },
    code: created ? 201 : 200,
  });
  return { topic, created };
}

export async function listTopics(deps: Pick<Deps, 'db'>, projectId: string): Promise<Topic[]> {
  return (await listTopicRows(deps.db, projectId)).map(toApiTopic);
}

/** Deletes a topic no notification uses (a rule would otherwise point nowhere). */
export async function deleteTopic(deps: Deps, actor: Actor, name: string): Promise<void> {
  checkName(name);
  const urn = topicUrn(deps.config.CTS_REGION, actor.projectId, name);
  const users = await notificationsUsingTopic(deps.db, actor.projectId, urn);
  if (users.length > 0) {
    throw badField('topic_name', `is used by notification(s) ${users.map((u) => u.name).join(', ')}`);
  }
  if (!(await deleteTopicRow(deps.db, actor.projectId, urn))) {
    throw new CtsError(404, TOPIC_NOT_FOUND, `The topic does not exist: ${urn}.`);
  }
  await recordAudit(deps, actor, {
    traceName: 'deleteTopic',
    resourceType: 'topic',
    resourceId: urn,
    resourceName: name,
    code: 204,
  });
}
