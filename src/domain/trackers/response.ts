import type { Config } from '../../config';
import type { TrackerRow } from '../../store/tracker-queries';

/** The tracker as the API returns it (reference §2.6, `TrackerResponseBody`). */
export interface TrackerResponse {
  id: string;
  create_time: number;
  domain_id: string;
  project_id: string;
  tracker_name: string;
  tracker_type: string;
  status: 'enabled' | 'disabled' | 'error';
  /** Only when `status` is `error`: `noBucket` or `bucketPolicyError`. */
  detail?: string;
  is_support_validate: boolean;
  is_organization_tracker: boolean;
  is_support_trace_files_encryption: boolean;
  kms_id?: string;
  agency_name?: string;
  management_event_selector: { exclude_service: string[] };
  /** Resource tags (`BatchCreateResourceTags`), when it has any. */
  tags?: Array<{ key: string; value: string }>;
  /** Data trackers only. */
  data_bucket?: { data_bucket_name: string; data_event: string[]; search_enabled: boolean };
  lts: { is_lts_enabled: boolean; log_group_name: string; log_topic_name: string };
  obs_info: {
    bucket_name: string;
    file_prefix_name: string;
    is_obs_created: boolean;
    is_authorized_bucket: boolean;
    bucket_lifecycle: number;
    bucket_location: string;
    compress_type: 'gzip' | 'json';
    is_sort_by_service: boolean;
  };
}

/** LTS is not built in; the names are CTS's fixed defaults (reference §6.5). */
export const LTS_LOG_GROUP = 'CTS';
export const LTS_LOG_TOPIC = 'system-trace';

export function toTrackerResponse(
  row: TrackerRow,
  domainId: string,
  config: Pick<Config, 'CTS_S3_ENDPOINT' | 'CTS_S3_REGION'>,
): TrackerResponse {
  const bucket = row.bucketName ?? '';
  return {
    id: row.id,
    create_time: row.createTime,
    domain_id: domainId,
    project_id: row.projectId,
    tracker_name: row.trackerName,
    tracker_type: row.trackerType,
    status: row.status,
    ...(row.status === 'error' ? { detail: row.detail ?? 'noBucket' } : {}),
    is_support_validate: row.isSupportValidate,
    is_organization_tracker: row.isOrganizationTracker,
    is_support_trace_files_encryption: row.isSupportTraceFilesEncryption,
    ...(row.kmsId ? { kms_id: row.kmsId } : {}),
    ...(row.agencyName ? { agency_name: row.agencyName } : {}),
    management_event_selector: { exclude_service: row.excludeServices ?? [] },
    ...(row.tags?.length ? { tags: row.tags } : {}),
    ...(row.trackerType === 'data'
      ? {
          data_bucket: {
            data_bucket_name: row.dataBucketName ?? '',
            data_event: row.dataEvents ?? [],
            // Its traces are queryable (ListTraces with trace_type=data) like any others.
            search_enabled: true,
          },
        }
      : {}),
    lts: { is_lts_enabled: row.isLtsEnabled, log_group_name: LTS_LOG_GROUP, log_topic_name: LTS_LOG_TOPIC },
    obs_info: {
      bucket_name: bucket,
      file_prefix_name: row.filePrefixName,
      is_obs_created: row.isObsCreated,
      // No separate grant step exists here: a bucket CTS created itself is the one it is known
      // to own; an existing bucket proves itself (or not, see `status`) on the first transfer.
      is_authorized_bucket: bucket !== '' && row.isObsCreated,
      // Recorded as sent; object expiry is the bucket's business (reference §6.3), not set by CTS.
      bucket_lifecycle: row.bucketLifecycle ?? 0,
      bucket_location: bucket !== '' && config.CTS_S3_ENDPOINT ? config.CTS_S3_REGION : '',
      compress_type: row.compressType,
      is_sort_by_service: row.isSortByService,
    },
  };
}
