import { createRoute, z } from '@hono/zod-openapi';
import { checkBuckets } from '../domain/trackers/bucket-check';
import { canAdministerDomain } from './auth';
import { DomainParams } from './catalog';
import { errorResponses, newRouter, security } from './http';

const CheckBucketsBody = z.object({
  buckets: z
    .array(
      z.object({
        bucket_name: z.string().min(1).max(63),
        bucket_location: z.string().max(64).optional(),
        kms_id: z.string().max(128).optional(),
        is_support_trace_files_encryption: z.boolean().optional(),
      }),
    )
    .min(1)
    .max(10),
});

const CheckBucketResponse = z.object({
  success: z.boolean(),
  response_code: z.number().int(),
  error_code: z.string().optional(),
  error_message: z.string().optional(),
});

const checkObsBucketsRoute = createRoute({
  method: 'post',
  path: '/v3/{domain_id}/checkbucket',
  operationId: 'CheckObsBuckets',
  tags: ['Trackers'],
  summary: 'Check that trace files can be transferred to buckets',
  description:
    'Checks each bucket through the bucket store: it exists, and an object can be written there (a probe ' +
    'under `CloudTraces/`, deleted at once). `domain_id` must be the domain of the key; needs the admin role.',
  security,
  middleware: [canAdministerDomain],
  request: {
    params: DomainParams,
    body: { required: true, content: { 'application/json': { schema: CheckBucketsBody } } },
  },
  responses: {
    200: {
      description: 'One result per bucket, in the order sent',
      content: {
        'application/json': {
          schema: z.object({
            buckets: z.array(
              z.object({
                bucket_name: z.string(),
                bucket_location: z.string(),
                kms_id: z.string().optional(),
                is_support_trace_files_encryption: z.boolean(),
                check_bucket_response: CheckBucketResponse,
              }),
            ),
          }),
        },
      },
    },
    ...errorResponses,
  },
});

export const bucketCheckRoutes = newRouter().openapi(checkObsBucketsRoute, async (c) => {
  const buckets = await checkBuckets(c.get('deps'), c.req.valid('json').buckets);
  return c.json({ buckets }, 200);
});
