import {
  deleteTrackers as deleteTrackerRows,
  insertTracker,
  maxSeq,
  selectTracker,
  selectTrackers,
  type TrackerPatch,
  type TrackerRow,
  updateTracker as updateTrackerRow,
} from '../../store/tracker-queries';
import { BucketError } from '../../transfer/bucket';
import type { Deps } from '../deps';
import { CtsError } from '../errors';
import { forgetNotificationRules } from '../notifications/matching';
import { getProject, newSystemTracker } from '../projects/projects';
import { type Actor, type AuditedOperation, recordAudit } from '../traces/audit';
import { checkDataTracker, settingsPatch } from './data-trackers';
import { type TrackerResponse, toTrackerResponse } from './response';
import {
  type CreateTrackerInput,
  checkTrackerInput,
  checkTrackerName,
  type ObsInfoInput,
  type UpdateTrackerInput,
} from './schema';

type TrackerDeps = Pick<Deps, 'db' | 'control' | 'shards' | 'clock' | 'buckets' | 'config'>;

const notFound = () => new CtsError(404, 'CTS.0214', 'The tracker does not exist.');

/**
 * Runs a management operation and records it as a `CTS` trace (reference §12.2): `normal` when
 * it succeeded, `warning` with the error when it was refused.
 */
async function audited<T>(
  deps: TrackerDeps,
  actor: Actor,
  operation: Omit<AuditedOperation, 'rating' | 'code' | 'response'> & { code: number },
  run: () => Promise<{ result: T; resourceId?: string; response?: unknown }>,
): Promise<T> {
  try {
    const { result, resourceId, response } = await run();
    await recordAudit(deps, actor, {
      ...operation,
      resourceId: resourceId ?? operation.resourceId,
      response,
    });
    return result;
  } catch (error) {
    if (error instanceof CtsError) {
      await recordAudit(deps, actor, {
        ...operation,
        rating: 'warning',
        code: error.status,
        response: { error_code: error.code, error_msg: error.message },
      });
    }
    throw error;
  }
}

/** Creates the bucket for `is_obs_created: true` (CTS.0215 when it exists, CTS.0216 when it fails). */
async function createBucket(deps: TrackerDeps, name: string): Promise<void> {
  try {
    if (await deps.buckets.exists(name))
      throw new CtsError(400, 'CTS.0215', 'The OBS bucket already exists.');
    await deps.buckets.create(name);
  } catch (error) {
    if (error instanceof CtsError) throw error;
    if (error instanceof BucketError && error.failure === 'unavailable')
      throw new CtsError(400, 'CTS.0001', 'The IAM or OBS service is abnormal.');
    throw new CtsError(400, 'CTS.0216', 'Failed to create a bucket.');
  }
}

/** The transfer columns an `obs_info` sets, on top of the current ones (absent fields are kept). */
function obsPatch(obs: ObsInfoInput | undefined, current?: TrackerRow): TrackerPatch {
  if (!obs) return {};
  const patch: TrackerPatch = {};
  if (obs.bucket_name !== undefined) {
    patch.bucketName = obs.bucket_name === '' ? null : obs.bucket_name;
    // Re-sending the current bucket keeps what we know about it; only a new name is created.
    const sameBucket = current !== undefined && current.bucketName === patch.bucketName;
    patch.isObsCreated =
      patch.bucketName !== null && (sameBucket ? current.isObsCreated : obs.is_obs_created === true);
  }
  if (obs.file_prefix_name !== undefined) patch.filePrefixName = obs.file_prefix_name;
  if (obs.compress_type !== undefined) patch.compressType = obs.compress_type as 'gzip' | 'json';
  if (obs.is_sort_by_service !== undefined) patch.isSortByService = obs.is_sort_by_service;
  return patch;
}

function requireTransferForValidation(isSupportValidate: boolean, bucketName: string | null | undefined) {
  if (isSupportValidate && !bucketName) {
    const message = 'is_support_validate requires OBS transfer (obs_info.bucket_name).';
    throw new CtsError(400, 'CTS.0003', `The message body is empty or invalid. ${message}`, [
      { field: 'is_support_validate', message },
    ]);
  }
}

async function respond(deps: TrackerDeps, row: TrackerRow): Promise<TrackerResponse> {
  return toTrackerResponse(
    row,
    (await getProject(deps, row.projectId))?.domainId ?? row.projectId,
    deps.config,
  );
}

const alreadyExists = (trackerType: string) =>
  trackerType === 'system'
    ? new CtsError(400, 'CTS.0201', 'A management tracker has been created.')
    : new CtsError(400, 'CTS.0208', 'The tracker already exists.');

/**
 * `POST /v3/{project_id}/tracker`: (re)creates the `system` tracker (reference §2.1), or creates a
 * data tracker (SDK `CreateTracker`, `tracker_type: data`, several per project within a quota).
 */
export async function createTracker(
  deps: TrackerDeps,
  actor: Actor,
  input: CreateTrackerInput,
): Promise<TrackerResponse> {
  const projectId = actor.projectId;
  return audited(
    deps,
    actor,
    {
      traceName: 'createTracker',
      resourceType: 'tracker',
      resourceName: input.tracker_name,
      request: input,
      code: 201,
    },
    async () => {
      checkTrackerInput(input, true);
      if (await selectTracker(deps.db, projectId, input.tracker_name))
        throw alreadyExists(input.tracker_type);
      if (input.tracker_type === 'data') await checkDataTracker(deps, projectId, input);
      const obs = obsPatch(input.obs_info);
      requireTransferForValidation(input.is_support_validate ?? false, obs.bucketName);
      if (obs.bucketName && obs.isObsCreated) await createBucket(deps, obs.bucketName);
      const row: TrackerRow = {
        ...(newSystemTracker(projectId, deps.clock()) as TrackerRow),
        trackerName: input.tracker_name,
        trackerType: input.tracker_type,
        bucketLifecycle: null,
        agencyName: null,
        isOrganizationTracker: false,
        isSupportTraceFilesEncryption: false,
        kmsId: null,
        excludeServices: null,
        dataBucketName: null,
        dataEvents: null,
        tags: null,
        ...settingsPatch(input),
        detail: null,
        isLtsEnabled: input.is_lts_enabled ?? false,
        isSupportValidate: input.is_support_validate ?? false,
        bucketName: obs.bucketName ?? null,
        filePrefixName: obs.filePrefixName ?? '',
        isObsCreated: obs.isObsCreated ?? false,
        compressType: obs.compressType ?? 'gzip',
        isSortByService: obs.isSortByService ?? true,
        // Like a disabled period, the time without a tracker is not transferred.
        transferCursor: await maxSeq(deps.db),
        transferPlanEnd: null,
        transferPlanAt: null,
        lastTransferAt: null,
        lastError: null,
        digestWindowStart: null,
        lastDigestBucket: null,
        lastDigestKey: null,
        lastDigestHash: null,
        lastDigestSignature: null,
        lastDigestEnd: null,
      };
      if (!(await insertTracker(deps.db, row))) throw alreadyExists(input.tracker_type);
      forgetNotificationRules(deps.db, projectId);
      const response = await respond(deps, row);
      return { result: response, resourceId: row.id, response };
    },
  );
}

/** `PUT /v3/{project_id}/tracker`: changes configuration and status; takes effect at once (§2.2). */
export async function updateTracker(
  deps: TrackerDeps,
  actor: Actor,
  input: UpdateTrackerInput,
): Promise<void> {
  const projectId = actor.projectId;
  await audited(
    deps,
    actor,
    {
      traceName: 'updateTracker',
      resourceType: 'tracker',
      resourceName: input.tracker_name,
      request: input,
      code: 200,
    },
    async () => {
      checkTrackerInput(input);
      const current = await selectTracker(deps.db, projectId, input.tracker_name);
      if (!current || current.trackerType !== input.tracker_type) throw notFound();
      if (current.trackerType === 'data') await checkDataTracker(deps, projectId, input, current);
      const patch: TrackerPatch = { ...obsPatch(input.obs_info, current), ...settingsPatch(input) };
      if (input.is_lts_enabled !== undefined) patch.isLtsEnabled = input.is_lts_enabled;
      if (input.is_support_validate !== undefined) patch.isSupportValidate = input.is_support_validate;
      const bucketName = 'bucketName' in patch ? patch.bucketName : current.bucketName;
      requireTransferForValidation(patch.isSupportValidate ?? current.isSupportValidate, bucketName);
      if (patch.bucketName && patch.isObsCreated && patch.bucketName !== current.bucketName)
        await createBucket(deps, patch.bucketName);
      if (input.status === 'disabled') {
        patch.status = 'disabled';
        patch.detail = null;
      } else if (input.status === 'enabled') {
        patch.status = 'enabled';
        patch.detail = null;
        if (current.status === 'disabled') {
          // Traces recorded while disabled are not transferred: the cursor jumps past them.
          patch.transferCursor = await maxSeq(deps.db);
          patch.transferPlanEnd = null;
          patch.transferPlanAt = null;
        }
      }
      if (patch.bucketName === null) patch.isObsCreated = false;
      // A body of fields that change nothing (e.g. `obs_info: {}`) is a successful no-op.
      if (Object.keys(patch).length > 0) await updateTrackerRow(deps.db, current.id, patch);
      // A disabled tracker stops notifications at once, not when the rule cache expires.
      forgetNotificationRules(deps.db, current.projectId);
      return { result: undefined, resourceId: current.id };
    },
  );
}

/** `GET /v3/{project_id}/trackers`: all of the project's trackers, or the one named (§2.3). */
export async function listTrackers(
  deps: Pick<Deps, 'db' | 'control' | 'config'>,
  projectId: string,
  trackerName?: string,
  trackerType?: 'system' | 'data',
): Promise<TrackerResponse[]> {
  if (trackerName !== undefined) checkTrackerName(trackerName);
  const rows = (await selectTrackers(deps.db, projectId, trackerName)).filter(
    (row) => trackerType === undefined || row.trackerType === trackerType,
  );
  const domainId = (await getProject(deps, projectId))?.domainId ?? projectId;
  return rows.map((row) => toTrackerResponse(row, domainId, deps.config));
}

/**
 * What `DELETE /v3/{project_id}/trackers` deletes. The SDK's meaning: `tracker_type` defaults to
 * `data`, and without `tracker_name` every data tracker goes; `tracker_type=system` (with or
 * without `tracker_name=system`) is the management tracker. For OTC clients, which know no
 * `tracker_type`, `tracker_name=system` alone still names the management tracker (a data tracker
 * cannot be called so). `tracker_type=data` never touches the management tracker.
 */
export function deletionTarget(query: { tracker_name?: string; tracker_type?: 'system' | 'data' }): {
  trackerType: 'system' | 'data';
  trackerName?: string;
} {
  const name = query.tracker_name;
  if (query.tracker_type === 'system' || (query.tracker_type === undefined && name === 'system'))
    return { trackerType: 'system', trackerName: name ?? 'system' };
  return { trackerType: 'data', trackerName: name };
}

/** `DELETE /v3/{project_id}/trackers` (§2.4, SDK `DeleteTracker`): traces stay; `POST` brings `system` back. */
export async function deleteTrackers(
  deps: TrackerDeps,
  actor: Actor,
  query: { tracker_name?: string; tracker_type?: 'system' | 'data' } = {},
): Promise<void> {
  const projectId = actor.projectId;
  const { trackerType, trackerName } = deletionTarget(query);
  await audited(
    deps,
    actor,
    {
      traceName: 'deleteTracker',
      resourceType: 'tracker',
      resourceName: trackerName,
      request: query,
      code: 204,
    },
    async () => {
      if (trackerName !== undefined) checkTrackerName(trackerName);
      if (trackerType === 'system' && trackerName !== 'system')
        throw new CtsError(
          400,
          'CTS.0204',
          'The tracker_name parameter of a management tracker can only be set to system.',
          [{ field: 'tracker_name', message: 'must be system when tracker_type is system' }],
        );
      const deleted = await deleteTrackerRows(deps.db, projectId, trackerType, trackerName);
      // Naming a tracker that is not there is a 404; "every data tracker" of none is done.
      if (deleted.length === 0 && trackerName !== undefined) throw notFound();
      forgetNotificationRules(deps.db, projectId);
      return {
        result: undefined,
        resourceId: deleted.map((row) => row.id).join(','),
        response: { deleted: deleted.map((row) => row.trackerName) },
      };
    },
  );
}
