import { createRoute, z } from '@hono/zod-openapi';
import {
  CreateTrackerSchema,
  createTracker,
  deleteTrackers,
  listTrackers,
  TrackerNameQuerySchema,
  UpdateTrackerSchema,
  updateTracker,
} from '../domain/trackers';
import { auditRefusals } from './audit-refusals';
import { canAdminister, canRead } from './auth';
import { actorOf, errorResponses, limitManagementBody, newRouter, notFoundResponse, security } from './http';
import { ProjectParams } from './traces';

const TrackerSchema = z
  .object({
    id: z.string(),
    create_time: z.number().int(),
    domain_id: z.string(),
    project_id: z.string(),
    tracker_name: z.string(),
    tracker_type: z.string(),
    status: z.enum(['enabled', 'disabled', 'error']),
    detail: z
      .string()
      .optional()
      .openapi({ description: 'Only when status is error: noBucket or bucketPolicyError.' }),
    is_support_validate: z.boolean(),
    is_organization_tracker: z.boolean(),
    is_support_trace_files_encryption: z.boolean(),
    kms_id: z.string().optional(),
    agency_name: z.string().optional(),
    management_event_selector: z.object({ exclude_service: z.array(z.string()) }),
    tags: z
      .array(z.object({ key: z.string(), value: z.string() }))
      .optional()
      .openapi({ description: 'Resource tags, when there are any.' }),
    data_bucket: z
      .object({ data_bucket_name: z.string(), data_event: z.array(z.string()), search_enabled: z.boolean() })
      .optional()
      .openapi({ description: 'Data trackers only.' }),
    lts: z.object({ is_lts_enabled: z.boolean(), log_group_name: z.string(), log_topic_name: z.string() }),
    obs_info: z.object({
      bucket_name: z.string(),
      file_prefix_name: z.string(),
      is_obs_created: z.boolean(),
      is_authorized_bucket: z.boolean(),
      bucket_lifecycle: z.number().int(),
      bucket_location: z.string(),
      compress_type: z.enum(['gzip', 'json']),
      is_sort_by_service: z.boolean(),
    }),
  })
  .openapi('Tracker');

const trackerNameQuery = TrackerNameQuerySchema.extend({
  tracker_name: z
    .string()
    .optional()
    .openapi({ param: { name: 'tracker_name', in: 'query' }, example: 'system' }),
  tracker_type: z
    .enum(['system', 'data'], { error: 'must be system or data' })
    .optional()
    .openapi({ param: { name: 'tracker_type', in: 'query' }, example: 'data' }),
});

const createTrackerRoute = createRoute({
  method: 'post',
  path: '/v3/{project_id}/tracker',
  operationId: 'CreateTracker',
  tags: ['Trackers'],
  summary: 'Create the management tracker or a data tracker',
  description:
    'Creates the `system` tracker (it exists from project creation; after a delete this brings it back), or a ' +
    'data tracker (`tracker_type: data`, a name of your choice, `data_bucket` naming an existing bucket and READ/WRITE). ' +
    '`obs_info.is_obs_created: true` creates the bucket.',
  security,
  middleware: [
    auditRefusals({ traceName: 'createTracker', resourceType: 'tracker' }),
    canAdminister,
    limitManagementBody,
  ],
  request: {
    params: ProjectParams,
    body: { required: true, content: { 'application/json': { schema: CreateTrackerSchema } } },
  },
  responses: {
    201: { description: 'Created', content: { 'application/json': { schema: TrackerSchema } } },
    ...errorResponses,
  },
});

const updateTrackerRoute = createRoute({
  method: 'put',
  path: '/v3/{project_id}/tracker',
  operationId: 'UpdateTracker',
  tags: ['Trackers'],
  summary: 'Modify, enable or disable the tracker',
  description:
    'Fields left out keep their values; the new settings take effect at once. A disabled tracker keeps ' +
    'recording traces for the 7-day list, but transfers nothing (not even after it is enabled again).',
  security,
  middleware: [
    auditRefusals({ traceName: 'updateTracker', resourceType: 'tracker' }),
    canAdminister,
    limitManagementBody,
  ],
  request: {
    params: ProjectParams,
    body: { required: true, content: { 'application/json': { schema: UpdateTrackerSchema } } },
  },
  responses: {
    200: { description: 'Modified (no body)' },
    ...errorResponses,
    ...notFoundResponse,
  },
});

const listTrackersRoute = createRoute({
  method: 'get',
  path: '/v3/{project_id}/trackers',
  operationId: 'ListTrackers',
  tags: ['Trackers'],
  summary: 'Query trackers',
  security,
  middleware: [canRead],
  request: { params: ProjectParams, query: trackerNameQuery },
  responses: {
    200: {
      description: 'Trackers',
      content: { 'application/json': { schema: z.object({ trackers: z.array(TrackerSchema) }) } },
    },
    ...errorResponses,
  },
});

const deleteTrackersRoute = createRoute({
  method: 'delete',
  path: '/v3/{project_id}/trackers',
  operationId: 'DeleteTracker',
  tags: ['Trackers'],
  summary: 'Delete trackers',
  description:
    '`tracker_type` defaults to `data`: without `tracker_name` every data tracker is deleted. The management ' +
    'tracker is deleted with `tracker_type=system` or `tracker_name=system` (without `tracker_type`); ' +
    '`tracker_type=data` never touches it. Recorded traces stay.',
  security,
  middleware: [auditRefusals({ traceName: 'deleteTracker', resourceType: 'tracker' }), canAdminister],
  request: { params: ProjectParams, query: trackerNameQuery },
  responses: {
    204: { description: 'Deleted' },
    ...errorResponses,
    ...notFoundResponse,
  },
});

export const trackerRoutes = newRouter()
  .openapi(createTrackerRoute, async (c) => {
    const tracker = await createTracker(c.get('deps'), actorOf(c), c.req.valid('json'));
    return c.json(tracker, 201);
  })
  .openapi(updateTrackerRoute, async (c) => {
    await updateTracker(c.get('deps'), actorOf(c), c.req.valid('json'));
    return c.body(null, 200);
  })
  .openapi(listTrackersRoute, async (c) => {
    const { project_id } = c.req.valid('param');
    const { tracker_name, tracker_type } = c.req.valid('query');
    const trackers = await listTrackers(c.get('deps'), project_id, tracker_name, tracker_type);
    return c.json({ trackers }, 200);
  })
  .openapi(deleteTrackersRoute, async (c) => {
    await deleteTrackers(c.get('deps'), actorOf(c), c.req.valid('query'));
    return c.body(null, 204);
  });
