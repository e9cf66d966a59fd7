import { createRoute, z } from '@hono/zod-openapi';
import { eq, sql } from 'drizzle-orm';
import type { Context } from 'hono';
import { CtsError } from '../domain/errors';
import { DATA_TRACKER_QUOTA } from '../domain/trackers/data-trackers';
import { notifications, trackers } from '../store/schema';
import { canRead } from './auth';
import { errorResponses, newRouter, notFoundResponse, publicErrorResponses, security } from './http';
import { ProjectParams } from './traces';

const VersionSchema = z
  .object({
    id: z.string(),
    links: z.array(z.object({ href: z.string(), rel: z.string() })),
    version: z.string(),
    min_version: z.string(),
    status: z.enum(['CURRENT', 'SUPPORTED', 'DEPRECATED']),
    updated: z.string(),
  })
  .openapi('Version');

const version = (origin: string) => ({
  id: 'v3',
  links: [{ href: `${origin}/v3/`, rel: 'self' }],
  version: '',
  min_version: '',
  status: 'CURRENT' as const,
  updated: '2025-10-24T00:00:00Z',
});

const versionsRoute = createRoute({
  method: 'get',
  path: '/',
  operationId: 'ListApiVersions',
  tags: ['Versions'],
  summary: 'List API versions',
  security: [], // public
  responses: {
    200: {
      description: 'Versions',
      content: { 'application/json': { schema: z.object({ versions: z.array(VersionSchema) }) } },
    },
    ...publicErrorResponses,
  },
});

const versionRoute = createRoute({
  method: 'get',
  path: '/{version}',
  operationId: 'ShowApiVersion',
  tags: ['Versions'],
  summary: 'Describe one API version',
  security: [], // public
  request: { params: z.object({ version: z.string().openapi({ example: 'v3' }) }) },
  responses: {
    200: {
      description: 'Version',
      content: { 'application/json': { schema: z.object({ version: VersionSchema }) } },
    },
    ...notFoundResponse,
    ...publicErrorResponses,
  },
});

const healthRoute = createRoute({
  method: 'get',
  path: '/health',
  operationId: 'CheckHealth',
  tags: ['Operations'],
  summary: 'Liveness and database reachability',
  security: [], // public
  responses: {
    200: {
      description: 'Healthy',
      content: { 'application/json': { schema: z.object({ status: z.literal('ok') }) } },
    },
    ...publicErrorResponses,
  },
});

export const TRACKER_QUOTA = 1;
export const NOTIFICATION_QUOTA = 100;

const quotasRoute = createRoute({
  method: 'get',
  path: '/v3/{project_id}/quotas',
  operationId: 'ListQuotas',
  tags: ['Quotas'],
  summary: 'Tenant quotas',
  security,
  middleware: [canRead],
  request: { params: ProjectParams },
  responses: {
    200: {
      description: 'Quotas',
      content: {
        'application/json': {
          schema: z.object({
            resources: z.array(
              z.object({ type: z.string(), used: z.number().int(), quota: z.number().int() }),
            ),
          }),
        },
      },
    },
    ...errorResponses,
  },
});

const originOf = (url: string) => new URL(url).origin;

function describeVersion(name: string, url: string, c: Context) {
  if (name !== 'v3') throw new CtsError(404, 'CTS.0100', 'API version query is not supported in CTS.');
  return c.json({ version: version(originOf(url)) }, 200);
}

export const metaRoutes = newRouter()
  .openapi(healthRoute, async (c) => {
    try {
      await c.get('deps').db.run(sql`select 1`);
    } catch {
      throw new CtsError(503, 'CTS.0005', 'The database is unreachable.');
    }
    return c.json({ status: 'ok' as const }, 200);
  })
  .openapi(versionsRoute, (c) => c.json({ versions: [version(originOf(c.req.url))] }, 200))
  .openapi(versionRoute, (c) => describeVersion(c.req.valid('param').version, c.req.url, c))
  .openapi(quotasRoute, async (c) => {
    const { project_id } = c.req.valid('param');
    const { db } = c.get('deps');
    const count = sql<number>`count(*)`;
    const [trackerCounts, [notificationCount]] = await Promise.all([
      db
        .select({ type: trackers.trackerType, n: count })
        .from(trackers)
        .where(eq(trackers.projectId, project_id))
        .groupBy(trackers.trackerType),
      db.select({ n: count }).from(notifications).where(eq(notifications.projectId, project_id)),
    ]);
    const used = (type: string) => trackerCounts.find((row) => row.type === type)?.n ?? 0;
    return c.json(
      {
        resources: [
          { type: 'system_tracker', used: used('system'), quota: TRACKER_QUOTA },
          { type: 'data_tracker', used: used('data'), quota: DATA_TRACKER_QUOTA },
          { type: 'smn_notification', used: notificationCount?.n ?? 0, quota: NOTIFICATION_QUOTA },
        ],
      },
      200,
    );
  })
  // `GET /v3/`, the `self` link of the version documents, answers like `GET /v3`. Not in the
  // document: OpenAPI linters hold a trailing-slash path to be a mistake (no-path-trailing-slash).
  .get('/:version/', (c) => describeVersion(c.req.param('version'), c.req.url, c));
