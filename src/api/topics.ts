import { createRoute, z } from '@hono/zod-openapi';
import { deleteTopic, listTopics, putTopic } from '../domain/notifications/topics';
import { auditRefusals } from './audit-refusals';
import { canAdminister } from './auth';
import { actorOf, errorResponses, limitManagementBody, newRouter, notFoundResponse, security } from './http';
import { ProjectParams } from './traces';

const TopicSchema = z
  .object({
    topic_urn: z.string().openapi({ example: 'urn:smn:local-1:0123456789abcdef0123456789abcdef:audit' }),
    name: z.string(),
    endpoint: z.string().openapi({ example: 'https://hooks.example.com/cts' }),
    project_id: z.string(),
    create_time: z.number().int(),
  })
  .openapi('Topic');

const TopicParams = ProjectParams.extend({
  topic_name: z.string().openapi({ param: { name: 'topic_name', in: 'path' }, example: 'audit' }),
});

const putTopicRoute = createRoute({
  method: 'put',
  path: '/v3/{project_id}/topics/{topic_name}',
  operationId: 'PutTopic',
  tags: ['Topics'],
  summary: 'Define or repoint a notification topic (not in CTS)',
  description:
    'Defines the topic `urn:smn:{region}:{project_id}:{topic_name}` (use it as a notification `topic_id`) ' +
    'delivering to `endpoint`, an http(s) URL without credentials. Repointing takes effect for queued deliveries too. ' +
    'Topics are admin-only, so a webhook URL with a secret path stays out of readers\u2019 sight.',
  security,
  middleware: [
    auditRefusals({ traceName: 'updateTopic', resourceType: 'topic' }),
    canAdminister,
    limitManagementBody,
  ],
  request: {
    params: TopicParams,
    body: {
      required: true,
      content: { 'application/json': { schema: z.object({ endpoint: z.string().min(1).max(2048) }) } },
    },
  },
  responses: {
    200: { description: 'Repointed', content: { 'application/json': { schema: TopicSchema } } },
    201: { description: 'Created', content: { 'application/json': { schema: TopicSchema } } },
    ...errorResponses,
  },
});

const listTopicsRoute = createRoute({
  method: 'get',
  path: '/v3/{project_id}/topics',
  operationId: 'ListTopics',
  tags: ['Topics'],
  summary: 'List notification topics (not in CTS)',
  security,
  middleware: [canAdminister],
  request: { params: ProjectParams },
  responses: {
    200: {
      description: 'Topics',
      content: { 'application/json': { schema: z.object({ topics: z.array(TopicSchema) }) } },
    },
    ...errorResponses,
  },
});

const deleteTopicRoute = createRoute({
  method: 'delete',
  path: '/v3/{project_id}/topics/{topic_name}',
  operationId: 'DeleteTopic',
  tags: ['Topics'],
  summary: 'Delete a notification topic no notification uses (not in CTS)',
  security,
  middleware: [auditRefusals({ traceName: 'deleteTopic', resourceType: 'topic' }), canAdminister],
  request: { params: TopicParams },
  responses: { 204: { description: 'Deleted' }, ...errorResponses, ...notFoundResponse },
});

export const topicRoutes = newRouter()
  .openapi(putTopicRoute, async (c) => {
    const { topic_name } = c.req.valid('param');
    const { topic, created } = await putTopic(c.get('deps'), actorOf(c), {
      name: topic_name,
      endpoint: c.req.valid('json').endpoint,
    });
    return created ? c.json(topic, 201) : c.json(topic, 200);
  })
  .openapi(listTopicsRoute, async (c) => {
    return c.json({ topics: await listTopics(c.get('deps'), c.req.valid('param').project_id) }, 200);
  })
  .openapi(deleteTopicRoute, async (c) => {
    await deleteTopic(c.get('deps'), actorOf(c), c.req.valid('param').topic_name);
    return c.body(null, 204);
  });
