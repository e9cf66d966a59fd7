import { z } from 'zod';
import { CtsError, type FieldIssue } from '../errors';

/**
 * Request bodies of `POST`/`PUT /v3/{project_id}/tracker` (reference §2.1, §2.2, §2.5). The
 * shapes are checked here; the value rules that have their own CTS error code (tracker_name,
 * status, bucket_name, file_prefix_name) are checked by `checkTrackerInput` so that each bad
 * value gets the reference's code instead of the generic CTS.0003.
 */
export const ObsInfoInputSchema = z.object({
  bucket_name: z
    .string()
    .optional()
    .describe('3-63 characters [a-z0-9.-], starting with a letter or digit; "" removes the transfer.'),
  file_prefix_name: z.string().optional().describe('0-64 characters [A-Za-z0-9._-].'),
  is_obs_created: z.boolean().optional().describe('true: CTS creates the bucket.'),
  compress_type: z.string().optional().describe('gzip (default) or json.'),
  is_sort_by_service: z.boolean().optional().describe('Service directory level in the path (default true).'),
  bucket_lifecycle: z
    .number()
    .int()
    .min(1)
    .max(36500)
    .optional()
    .describe('Days; recorded and returned (object expiry is set on the bucket itself).'),
});

export const DATA_EVENTS = ['READ', 'WRITE'] as const;

export const CreateTrackerSchema = z.object({
  tracker_type: z.string().describe('system (the management tracker) or data'),
  tracker_name: z
    .string()
    .describe('system for the management tracker; a name of your choice for a data tracker'),
  agency_name: z.literal('cts_admin_trust').optional(),
  is_organization_tracker: z.boolean().optional(),
  management_event_selector: z
    .object({
      exclude_service: z
        .array(z.string().regex(/^[A-Z0-9]{2,32}$/, 'must be a service_type'))
        .max(100)
        .describe("These services' traces are not transferred."),
    })
    .optional(),
  is_lts_enabled: z.boolean().optional(),
  is_support_validate: z.boolean().optional().describe('Hourly signed digest files; needs OBS transfer.'),
  is_support_trace_files_encryption: z
    .boolean()
    .optional()
    .describe('KMS encryption of trace files is not supported: true is refused (CTS.0220).'),
  kms_id: z
    .string()
    .max(128)
    .regex(/^[A-Za-z0-9:/._-]*$/, 'must be a KMS key id (letters, digits and : / . _ -)')
    .optional(),
  obs_info: ObsInfoInputSchema.optional(),
  data_bucket: z
    .object({
      data_bucket_name: z.string().optional().describe('The bucket whose object operations are traced.'),
      data_event: z.array(z.string()).max(2).optional().describe('READ and/or WRITE'),
    })
    .optional()
    .describe('Data trackers only.'),
});

export const UpdateTrackerSchema = CreateTrackerSchema.extend({
  status: z.string().optional().describe('enabled or disabled'),
});

export const TRACKER_TYPES = ['system', 'data'] as const;

/** Strict: a misspelled parameter of ListTrackers / DeleteTracker is a 400, never "all trackers". */
export const TrackerNameQuerySchema = z.strictObject({
  tracker_name: z.string().optional(),
  tracker_type: z.enum(TRACKER_TYPES, { error: 'must be system or data' }).optional(),
});

export type ObsInfoInput = z.infer<typeof ObsInfoInputSchema>;
export type CreateTrackerInput = z.infer<typeof CreateTrackerSchema>;
export type UpdateTrackerInput = z.infer<typeof UpdateTrackerSchema>;

export const TRACKER_NAME_FORMAT = /^[A-Za-z0-9._-]{1,64}$/;
const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{2,62}$/;
const IP_ADDRESS = /^\d{1,3}(\.\d{1,3}){3}$/;
const FILE_PREFIX = /^[A-Za-z0-9._-]{0,64}$/;
export const COMPRESS_TYPES = ['gzip', 'json'] as const;
export const TRACKER_STATUSES = ['enabled', 'disabled'] as const;

const fail = (code: string, field: string, message: string) =>
  new CtsError(400, code, message, [{ field, message } satisfies FieldIssue]);

/** Bucket names as the reference and the console allow them (§2.5). */
export function isValidBucketName(name: string): boolean {
  return (
    BUCKET_NAME.test(name) &&
    !name.includes('..') &&
    !name.includes('.-') &&
    !name.includes('-.') &&
    !IP_ADDRESS.test(name)
  );
}

/** `tracker_name` of a management tracker: CTS.0203 when malformed, CTS.0204 when not `system`. */
export function checkTrackerName(name: string): void {
  if (!TRACKER_NAME_FORMAT.test(name))
    throw fail('CTS.0203', 'tracker_name', 'The value of tracker_name parameter is in an incorrect format.');
}

/** The refusals of a data tracker's `data_bucket` (reference §13, CTS.0210, CTS.0219, CTS.0225). */
function checkDataBucket(input: CreateTrackerInput | UpdateTrackerInput, creating: boolean): void {
  const bucket = input.data_bucket;
  if (!bucket?.data_bucket_name) {
    if (creating || bucket)
      throw fail('CTS.0210', 'data_bucket.data_bucket_name', 'The OBS bucket to track cannot be empty.');
    return;
  }
  if (!isValidBucketName(bucket.data_bucket_name))
    throw fail('CTS.0231', 'data_bucket.data_bucket_name', 'Invalid bucket name.');
  if (!bucket.data_event?.length)
    throw fail('CTS.0219', 'data_bucket.data_event', 'The operation type cannot be empty.');
  if (bucket.data_event.some((event) => !DATA_EVENTS.includes(event as never)))
    throw fail(
      'CTS.0225',
      'data_bucket.data_event',
      'Only WRITE and/or READ operations on the OBS bucket can be tracked.',
    );
  if (input.obs_info?.bucket_name && input.obs_info.bucket_name === bucket.data_bucket_name)
    throw fail(
      'CTS.0213',
      'obs_info.bucket_name',
      'The OBS bucket used for trace transfer cannot be a tracked OBS bucket.',
    );
}

/** Checks the value rules of a create/modify body, each with the reference's error code. */
export function checkTrackerInput(input: CreateTrackerInput | UpdateTrackerInput, creating = false): void {
  if (!TRACKER_TYPES.includes(input.tracker_type as never)) {
    throw fail(
      'CTS.0003',
      'tracker_type',
      'The message body is empty or invalid. tracker_type must be system or data.',
    );
  }
  checkTrackerName(input.tracker_name);
  if (input.tracker_type === 'system') {
    if (input.tracker_name !== 'system')
      throw fail(
        'CTS.0204',
        'tracker_name',
        'The tracker_name parameter of a management tracker can only be set to system.',
      );
    if (input.data_bucket !== undefined)
      throw fail(
        'CTS.0003',
        'data_bucket',
        'The message body is empty or invalid. data_bucket is for data trackers.',
      );
  } else {
    if (input.tracker_name === 'system')
      throw fail(
        'CTS.0203',
        'tracker_name',
        'A data tracker cannot be named system (the management tracker).',
      );
    checkDataBucket(input, creating);
  }
  if (input.is_support_trace_files_encryption === true)
    throw fail('CTS.0220', 'is_support_trace_files_encryption', 'KMS is not supported.');
  if ('status' in input && input.status !== undefined && !TRACKER_STATUSES.includes(input.status as never)) {
    throw fail('CTS.0205', 'status', 'The status parameter can only be set to enabled or disabled.');
  }
  const obs = input.obs_info;
  if (!obs) return;
  if (obs.bucket_name !== undefined && obs.bucket_name !== '' && !isValidBucketName(obs.bucket_name)) {
    throw fail(
      'CTS.0231',
      'obs_info.bucket_name',
      'Invalid bucket name. A bucket name must be a string of 3 to 63 characters, including only lowercase letters, digits, hyphens (-), or periods (.). It must start with a digit or a lowercase letter.',
    );
  }
  if (obs.file_prefix_name !== undefined && !FILE_PREFIX.test(obs.file_prefix_name)) {
    throw fail(
      'CTS.0218',
      'obs_info.file_prefix_name',
      'The value of file_prefix_name is in an incorrect format.',
    );
  }
  if (obs.compress_type !== undefined && !COMPRESS_TYPES.includes(obs.compress_type as never)) {
    throw fail(
      'CTS.0003',
      'obs_info.compress_type',
      'The message body is empty or invalid. obs_info.compress_type must be gzip or json.',
    );
  }
  if (obs.is_obs_created && !obs.bucket_name) {
    throw fail(
      'CTS.0003',
      'obs_info.bucket_name',
      'The message body is empty or invalid. obs_info.bucket_name is required when is_obs_created is true.',
    );
  }
}
