import { selectTrackers, type TrackerPatch, type TrackerRow } from '../../store/tracker-queries';
import { BucketError } from '../../transfer/bucket';
import type { Deps } from '../deps';
import { CtsError } from '../errors';
import type { CreateTrackerInput, UpdateTrackerInput } from './schema';

/** Data trackers a project may have (the `data_tracker` quota of ListQuotas). */
export const DATA_TRACKER_QUOTA = 100;

const fail = (code: string, field: string, message: string) =>
  new CtsError(400, code, message, [{ field, message }]);

/**
 * The rules of a data tracker that need the project's other trackers or the bucket store: the
 * quota (CTS.0200), one tracker per bucket and event type (CTS.0209), a tracked bucket that exists
 * (CTS.0211) and stays the same (CTS.0212).
 */
export async function checkDataTracker(
  deps: Pick<Deps, 'db' | 'buckets'>,
  projectId: string,
  input: CreateTrackerInput | UpdateTrackerInput,
  current?: TrackerRow,
): Promise<void> {
  const others = (await selectTrackers(deps.db, projectId)).filter(
    (row) => row.trackerType === 'data' && row.trackerName !== input.tracker_name,
  );
  if (!current && others.length >= DATA_TRACKER_QUOTA)
    throw new CtsError(400, 'CTS.0200', 'The number of trackers has reached the upper limit.');
  const bucketName = input.data_bucket?.data_bucket_name ?? current?.dataBucketName ?? null;
  const events = input.data_bucket?.data_event ?? current?.dataEvents ?? [];
  if (
    current &&
    input.data_bucket?.data_bucket_name &&
    input.data_bucket.data_bucket_name !== current.dataBucketName
  )
    throw fail('CTS.0212', 'data_bucket.data_bucket_name', 'The tracked OBS bucket cannot be modified.');
  const clash = others.find(
    (row) =>
      row.dataBucketName === bucketName && (row.dataEvents ?? []).some((event) => events.includes(event)),
  );
  if (clash)
    throw fail(
      'CTS.0209',
      'data_bucket.data_event',
      `A type of operations on an OBS bucket can be tracked by only one tracker (${clash.trackerName}).`,
    );
  if (!current && bucketName) {
    let exists: boolean;
    try {
      exists = await deps.buckets.exists(bucketName);
    } catch (error) {
      if (error instanceof BucketError)
        throw new CtsError(400, 'CTS.0001', 'The IAM or OBS service is abnormal.');
      throw error;
    }
    if (!exists)
      throw fail('CTS.0211', 'data_bucket.data_bucket_name', 'The tracked OBS bucket does not exist.');
  }
}

/** The stored-as-sent settings of a create/modify body (absent fields keep their values). */
export function settingsPatch(input: CreateTrackerInput | UpdateTrackerInput): TrackerPatch {
  const patch: TrackerPatch = {};
  if (input.agency_name !== undefined) patch.agencyName = input.agency_name;
  if (input.is_organization_tracker !== undefined)
    patch.isOrganizationTracker = input.is_organization_tracker;
  if (input.management_event_selector !== undefined)
    patch.excludeServices = [...new Set(input.management_event_selector.exclude_service)];
  if (input.is_support_trace_files_encryption !== undefined)
    patch.isSupportTraceFilesEncryption = input.is_support_trace_files_encryption;
  if (input.kms_id !== undefined) patch.kmsId = input.kms_id === '' ? null : input.kms_id;
  if (input.obs_info?.bucket_lifecycle !== undefined) patch.bucketLifecycle = input.obs_info.bucket_lifecycle;
  if (input.data_bucket?.data_bucket_name !== undefined)
    patch.dataBucketName = input.data_bucket.data_bucket_name;
  if (input.data_bucket?.data_event !== undefined)
    patch.dataEvents = [...new Set(input.data_bucket.data_event)];
  return patch;
}
