import { createRoute, z } from '@hono/zod-openapi';
import { addTrackerTags, removeTrackerTags, TagsBodySchema } from '../domain/trackers/tags';
import { auditRefusals } from './audit-refusals';
import { canAdminister } from './auth';
import { actorOf, errorResponses, limitManagementBody, newRouter, notFoundResponse, security } from './http';

const TagParams = z.object({
  project_id: z.string().openapi({ param: { name: 'project_id', in: 'path' } }),
  resource_type: z.string().openapi({ param: { name: 'resource_type', in: 'path' }, example: 'cts-tracker' }),
  resource_id: z
    .string()
    .max(64)
    .openapi({ param: { name: 'resource_id', in: 'path' }, description: 'The tracker id.' }),
});

const tagRoute = (method: 'post' | 'delete', action: 'create' | 'delete') =>
  createRoute({
    method,
    path: `/v3/{project_id}/{resource_type}/{resource_id}/tags/${action}`,
    operationId: action === 'create' ? 'BatchCreateResourceTags' : 'BatchDeleteResourceTags',
    tags: ['Trackers'],
    summary: action === 'create' ? 'Add tags to a tracker' : 'Remove tags from a tracker',
    description:
      action === 'create'
        ? 'Sets each tag (a key already there takes the new value); at most 20 tags per tracker. `resource_type` is `cts-tracker`.'
        : 'Removes the tags of these keys (only where the value matches, when one is given). `resource_type` is `cts-tracker`.',
    security,
    middleware: [
      auditRefusals({
        traceName: action === 'create' ? 'createResourceTags' : 'deleteResourceTags',
        resourceType: 'tracker',
      }),
      canAdminister,
      limitManagementBody,
    ],
    request: {
      params: TagParams,
      body: { required: true, content: { 'application/json': { schema: TagsBodySchema } } },
    },
    responses: { 204: { description: 'Done' }, ...errorResponses, ...notFoundResponse },
  });

export const tagRoutes = newRouter()
  .openapi(tagRoute('post', 'create'), async (c) => {
    const { resource_type, resource_id } = c.req.valid('param');
    const target = { resourceType: resource_type, resourceId: resource_id };
    await addTrackerTags(c.get('deps'), actorOf(c), target, c.req.valid('json').tags);
    return c.body(null, 204);
  })
  .openapi(tagRoute('delete', 'delete'), async (c) => {
    const { resource_type, resource_id } = c.req.valid('param');
    const target = { resourceType: resource_type, resourceId: resource_id };
    await removeTrackerTags(c.get('deps'), actorOf(c), target, c.req.valid('json').tags);
    return c.body(null, 204);
  });
