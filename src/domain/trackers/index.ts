/**
 * Trackers (CTS v3 §2, §6): the `system` management tracker of a project, its transfer
 * configuration and status, and what it archived.
 *
 * For the console (Tracker List):
 * - `listTrackers(deps, projectId)` → `TrackerResponse[]`, the API's body (§2.6): `status`,
 *   `detail` (only when `status` is `error`), `obs_info`, `lts`, `is_support_validate`.
 * - `createTracker(deps, actor, input)`, `updateTracker(deps, actor, input)`,
 *   `deleteTrackers(deps, actor, trackerName?)` — the API's operations with its validation and error
 *   codes (throw `CtsError`); each records a `CTS` trace as `actor` (use `actorOf(c)`-like actors).
 *   Enable/disable is `updateTracker` with `status`; turning transfer off is
 *   `obs_info: { bucket_name: '' }`.
 * - `getTransferLag(deps, projectId)` → per tracker `{ trackerName, status, detail, transferring,
 *   backlog, oldestPending: { time, recordTime } | null, lastTransferAt, lastError }`: how many
 *   traces wait for transfer and since when.
 * - `listArchiveDays(deps, projectId, trackerName)` → `[{ day: 'YYYY-MM-DD', serviceType, files,
 *   traces, bytes }]`, newest day first: what was archived per UTC upload day and service.
 * - `listArchivedFiles(deps, projectId, trackerName, { day?, serviceType?, limit?, before? })` →
 *   `ArchivedFile[]` newest first (`id`, `bucket`, `objectKey`, `name`, `serviceType`, `size`,
 *   `sha256`, `traceCount`, `oldestTime`, `newestTime`, `uploadedAt`, `compressed`); page with
 *   `before` = the last file's `id`.
 * - `readArchivedFile(deps, projectId, fileId)` → `{ file, body, contentType }` to download one
 *   file exactly as stored (gzip when `file.compressed`).
 */
export {
  type ArchiveDay,
  type ArchivedFile,
  listArchiveDays,
  listArchivedFiles,
  readArchivedFile,
} from './archive';
export { getTransferLag, type TransferLag } from './lag';
export { type TrackerResponse, toTrackerResponse } from './response';
export {
  type CreateTrackerInput,
  CreateTrackerSchema,
  isValidBucketName,
  TrackerNameQuerySchema,
  type UpdateTrackerInput,
  UpdateTrackerSchema,
} from './schema';
export { createTracker, deleteTrackers, listTrackers, updateTracker } from './trackers';
