import { z } from 'zod';
import { selectTrackerById, updateTracker } from '../../store/tracker-queries';
import type { Deps } from '../deps';
import { CtsError } from '../errors';
import { type Actor, recordAudit } from '../traces/audit';

/** Tags a tracker may carry (the tag service's limit per resource). */
export const MAX_TAGS = 20;

// Tag keys and values as the tag service allows them: letters (any script), digits, spaces and
// `_ . : = + - @`; a key has no leading or trailing space.
const TAG_TEXT = /^[\p{L}\p{N} _.:=+\-@]*$/u;
/** The pattern as the document states it: the source alone (the generator appended the `/u` flag). */
const TAG_PATTERN = { pattern: TAG_TEXT.source };

export const TagSchema = z.object({
  key: z
    .string()
    .min(1)
    .max(128)
    .regex(TAG_TEXT, 'must be letters, digits, spaces or _ . : = + - @')
    .meta(TAG_PATTERN)
    .refine((key) => key.trim() === key, 'must not start or end with a space'),
  value: z
    .string()
    .max(255)
    .regex(TAG_TEXT, 'must be letters, digits, spaces or _ . : = + - @')
    .meta(TAG_PATTERN)
    .optional(),
});

export const TagsBodySchema = z.object({ tags: z.array(TagSchema).min(1).max(MAX_TAGS) });

export type Tag = z.infer<typeof TagSchema>;

/** The only resource type whose tags CTS manages. */
export const TAGGED_RESOURCE_TYPE = 'cts-tracker';

type TagDeps = Pick<Deps, 'db' | 'shards' | 'clock'>;

async function taggedTracker(deps: TagDeps, actor: Actor, resourceType: string, resourceId: string) {
  if (resourceType !== TAGGED_RESOURCE_TYPE)
    throw new CtsError(400, 'CTS.0003', `resource_type must be ${TAGGED_RESOURCE_TYPE}.`, [
      { field: 'resource_type', message: `must be ${TAGGED_RESOURCE_TYPE}` },
    ]);
  const tracker = await selectTrackerById(deps.db, resourceId);
  // Another project's tracker is as absent as a missing one.
  if (!tracker || tracker.projectId !== actor.projectId)
    throw new CtsError(404, 'CTS.0214', 'The tracker does not exist.');
  return tracker;
}

/**
 * `BatchCreateResourceTags`: sets each tag on the tracker (a key already there takes the new
 * value); more than `MAX_TAGS` in all is refused. Recorded as a `CTS` trace.
 */
export async function addTrackerTags(
  deps: TagDeps,
  actor: Actor,
  target: { resourceType: string; resourceId: string },
  tags: Tag[],
): Promise<void> {
  const tracker = await taggedTracker(deps, actor, target.resourceType, target.resourceId);
  const merged = new Map((tracker.tags ?? []).map((tag) => [tag.key, tag.value]));
  for (const tag of tags) merged.set(tag.key, tag.value ?? '');
  if (merged.size > MAX_TAGS)
    throw new CtsError(400, 'CTS.0003', `A tracker can have at most ${MAX_TAGS} tags.`, [
      { field: 'tags', message: `at most ${MAX_TAGS} tags per tracker` },
    ]);
  await updateTracker(deps.db, tracker.id, { tags: [...merged].map(([key, value]) => ({ key, value })) });
  await recordAudit(deps, actor, {
    traceName: 'createResourceTags',
    resourceType: 'tracker',
    resourceId: tracker.id,
    resourceName: tracker.trackerName,
    request: { tags },
    code: 204,
  });
}

/**
 * `BatchDeleteResourceTags`: removes the tags of these keys (only where the value matches, when a
 * value is given). Removing a tag that is not there is not an error.
 */
export async function removeTrackerTags(
  deps: TagDeps,
  actor: Actor,
  target: { resourceType: string; resourceId: string },
  tags: Tag[],
): Promise<void> {
  const tracker = await taggedTracker(deps, actor, target.resourceType, target.resourceId);
  const removed = (tag: { key: string; value: string }) =>
    tags.some((t) => t.key === tag.key && (t.value === undefined || t.value === tag.value));
  await updateTracker(deps.db, tracker.id, { tags: (tracker.tags ?? []).filter((tag) => !removed(tag)) });
  await recordAudit(deps, actor, {
    traceName: 'deleteResourceTags',
    resourceType: 'tracker',
    resourceId: tracker.id,
    resourceName: tracker.trackerName,
    request: { tags },
    code: 204,
  });
}
