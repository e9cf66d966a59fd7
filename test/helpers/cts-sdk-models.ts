import { z } from 'zod';

/**
 * The response models of the official CTS v3 SDK (`huaweicloud/huaweicloud-sdk-nodejs-v3`,
 * `services/cts/v3/model/*.ts`), written from reading them: every field with its declared JSON
 * name and type, enums where the SDK has one. Objects are strict, so a misnamed or extra field fails
 * (the one extension we return, a tracker's `tags`, is named). Optional fields may be null (what
 * every SDK deserialises into an absent value).
 */

const str = z.string().nullish();
const num = z.number().nullish();
const bool = z.boolean().nullish();
const strings = z.array(z.string()).nullish();

const BaseUser = z.strictObject({ id: str, name: str });
const UserInfo = z.strictObject({
  id: str,
  name: str,
  user_name: str,
  domain: BaseUser.nullish(),
  account_id: str,
  access_key_id: str,
  principal_urn: str,
  principal_id: str,
  principal_is_root_user: z.enum(['true', 'false']).nullish(),
  type: str,
  invoked_by: strings,
  session_context: z
    .strictObject({ attributes: z.strictObject({ created_at: str, mfa_authenticated: str }).nullish() })
    .nullish(),
});

export const Traces = z.strictObject({
  resource_id: str,
  trace_name: str,
  trace_rating: z.enum(['normal', 'warning', 'incident']).nullish(),
  trace_type: str,
  request: str,
  response: str,
  code: str,
  api_version: str,
  message: str,
  record_time: num,
  trace_id: str,
  time: num,
  user: UserInfo.nullish(),
  service_type: str,
  resource_type: str,
  source_ip: str,
  resource_name: str,
  request_id: str,
  location_info: str,
  endpoint: str,
  resource_url: str,
  enterprise_project_id: str,
  resource_account_id: str,
  read_only: bool,
  operation_id: str,
});

export const ListTracesResponse = z.strictObject({
  traces: z.array(Traces),
  meta_data: z.strictObject({ count: num, marker: str }),
});

const ObsInfo = z.strictObject({
  bucket_name: str,
  file_prefix_name: str,
  is_obs_created: bool,
  is_authorized_bucket: bool,
  bucket_lifecycle: num,
  compress_type: z.enum(['gzip', 'json']).nullish(),
  is_sort_by_service: bool,
  // Not in the SDK's `ObsInfo` model but in the API reference (§2.6): ignored by the SDK.
  bucket_location: str,
});

export const TrackerResponseBody = z.strictObject({
  id: str,
  create_time: num,
  kms_id: str,
  is_support_validate: bool,
  is_organization_tracker: bool,
  agency_name: z.enum(['cts_admin_trust']).nullish(),
  management_event_selector: z.strictObject({ exclude_service: strings }).nullish(),
  lts: z.strictObject({ is_lts_enabled: bool, log_group_name: str, log_topic_name: str }).nullish(),
  tracker_type: z.enum(['system', 'data']).nullish(),
  domain_id: str,
  project_id: str,
  tracker_name: str,
  // The SDK's enum is enabled/disabled "| string": `error` (with `detail`) is the reference's third.
  status: z.enum(['enabled', 'disabled', 'error']).nullish(),
  detail: str,
  is_support_trace_files_encryption: bool,
  group_id: str,
  stream_id: str,
  obs_info: ObsInfo.nullish(),
  data_bucket: z
    .strictObject({
      data_bucket_name: str,
      search_enabled: bool,
      data_event: z.array(z.enum(['READ', 'WRITE'])).nullish(),
    })
    .nullish(),
  // Our extension (not in the SDK model): the tracker's resource tags.
  tags: z.array(z.strictObject({ key: z.string(), value: z.string() })).nullish(),
});

export const ListTrackersResponse = z.strictObject({ trackers: z.array(TrackerResponseBody) });

const Operations = z.strictObject({ service_type: str, resource_type: str, trace_names: strings });
const NotificationUsers = z.strictObject({ user_group: str, user_list: strings });
const Filter = z.strictObject({
  condition: z.enum(['AND', 'OR']).nullish(),
  is_support_filter: bool,
  rule: strings,
});

export const NotificationsResponseBody = z.strictObject({
  notification_name: str,
  operation_type: z.enum(['customized', 'complete']).nullish(),
  agency_name: z.enum(['cts_admin_trust']).nullish(),
  operations: z.array(Operations).nullish(),
  notify_user_list: z.array(NotificationUsers).nullish(),
  status: z.enum(['enabled', 'disabled']).nullish(),
  topic_id: str,
  notification_id: str,
  notification_type: z.enum(['smn', 'fun']).nullish(),
  project_id: str,
  create_time: num,
  filter: Filter.nullish(),
  // Our extensions (not in the SDK model): the owner's domain, and the webhook signing secret that
  // only CreateNotification's answer carries.
  domain_id: str,
  secret: str,
});

export const ListNotificationsResponse = z.strictObject({
  notifications: z.array(NotificationsResponseBody),
});

export const ListQuotasResponse = z.strictObject({
  resources: z.array(z.strictObject({ type: str, used: num, quota: num })),
});

export const ListOperationsResponse = z.strictObject({
  operations: z.array(z.strictObject({ service_type: str, resource_type: str, operation_list: strings })),
});

export const ListUserResourcesResponse = z.strictObject({ users: z.array(z.strictObject({ name: str })) });

export const ListTraceResourcesResponse = z.strictObject({
  resources: z.array(z.strictObject({ service_type: str, resource: strings })),
});

export const CheckObsBucketsResponse = z.strictObject({
  buckets: z.array(
    z.strictObject({
      bucket_name: str,
      bucket_location: str,
      kms_id: str,
      is_support_trace_files_encryption: bool,
      check_bucket_response: z
        .strictObject({ error_code: str, error_message: str, response_code: num, success: bool })
        .nullish(),
    }),
  ),
});

/** Responses without a body model (204s, the tracker PUT's 200). */
export const EmptyResponse = z.strictObject({});
