import { createRoute, z } from '@hono/zod-openapi';
import { listOperations, listResourceTypes, listUsers } from '../domain/traces/catalog';
import { canRead, canReadDomain } from './auth';
import { errorResponses, newRouter, security } from './http';
import { ProjectParams } from './traces';

/** `/v3/{domain_id}/...`: the SDK's account-level paths; a key answers for its project's domain. */
export const DomainParams = z.object({
  domain_id: z
    .string()
    .openapi({ param: { name: 'domain_id', in: 'path' }, example: '0123456789abcdef0123456789abcdef' }),
});

const OperationsQuery = z
  .strictObject({
    service_type: z
      .string()
      .regex(/^[A-Z0-9]{2,32}$/, 'must be a service_type')
      .optional()
      .openapi({ param: { name: 'service_type', in: 'query' }, example: 'ECS' }),
    resource_type: z
      .string()
      .min(1)
      .max(64)
      .optional()
      .openapi({ param: { name: 'resource_type', in: 'query' }, example: 'ecs' }),
  })
  .refine((query) => query.resource_type === undefined || query.service_type !== undefined, {
    message: 'service_type is required with resource_type',
    path: ['service_type'],
  });

const json = <T extends z.ZodType>(description: string, schema: T) => ({
  200: { description, content: { 'application/json': { schema } } },
});

const listOperationsRoute = createRoute({
  method: 'get',
  path: '/v3/{project_id}/operations',
  operationId: 'ListOperations',
  tags: ['Catalog'],
  summary: 'Operations that occurred, per service and resource type',
  description: "The trace names of the project's traces of the last 7 days.",
  security,
  middleware: [canRead],
  request: { params: ProjectParams, query: OperationsQuery },
  responses: {
    ...json(
      'Operations',
      z.object({
        operations: z.array(
          z.object({
            service_type: z.string(),
            resource_type: z.string(),
            operation_list: z.array(z.string()),
          }),
        ),
      }),
    ),
    ...errorResponses,
  },
});

const listUserResourcesRoute = createRoute({
  method: 'get',
  path: '/v3/{project_id}/user-resources',
  operationId: 'ListUserResources',
  tags: ['Catalog'],
  summary: 'Users who acted',
  description: "The distinct `user.name`s of the project's traces of the last 7 days.",
  security,
  middleware: [canRead],
  request: { params: ProjectParams, query: z.strictObject({}) },
  responses: {
    ...json('Users', z.object({ users: z.array(z.object({ name: z.string() })) })),
    ...errorResponses,
  },
});

const listTraceResourcesRoute = createRoute({
  method: 'get',
  path: '/v3/{domain_id}/resources',
  operationId: 'ListTraceResources',
  tags: ['Catalog'],
  summary: 'Resource types that occurred, per service',
  description:
    "The account-level path of the SDK: answered for the key's project (a key never reads another project), " +
    'from its traces of the last 7 days. `domain_id` must be the domain of the key.',
  security,
  middleware: [canReadDomain],
  request: { params: DomainParams, query: z.strictObject({}) },
  responses: {
    ...json(
      'Resource types',
      z.object({ resources: z.array(z.object({ service_type: z.string(), resource: z.array(z.string()) })) }),
    ),
    ...errorResponses,
  },
});

export const catalogRoutes = newRouter()
  .openapi(listOperationsRoute, async (c) => {
    const { project_id } = c.req.valid('param');
    const operations = await listOperations(c.get('deps'), project_id, c.req.valid('query'));
    return c.json({ operations }, 200);
  })
  .openapi(listUserResourcesRoute, async (c) => {
    const users = await listUsers(c.get('deps'), c.req.valid('param').project_id);
    return c.json({ users }, 200);
  })
  .openapi(listTraceResourcesRoute, async (c) => {
    const resources = await listResourceTypes(c.get('deps'), c.get('principal').projectId);
    return c.json({ resources }, 200);
  });
