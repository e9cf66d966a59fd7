import { z } from 'zod';
import {
  countPlacements,
  countProjects,
  insertShard,
  type ShardRow,
  selectShards,
} from '../../store/shard-queries';
import type { Deps } from '../deps';
import { CtsError } from '../errors';
import { CONTROL_SHARD, type ShardRef } from './router';

/** What `cts shards add` takes, validated like the configuration (an operator typed it). */
export const NewShardSchema = z.object({
  id: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]{0,31}$/, 'must be 1–32 lowercase letters, digits and hyphens')
    .refine((id) => id !== CONTROL_SHARD, `"${CONTROL_SHARD}" names the control database`)
    .optional(),
  url: z
    .string()
    .regex(/^(file:|libsql:|https?:|wss?:)/, 'must start with file:, libsql:, http(s): or ws(s):'),
  tokenEnv: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]{0,127}$/, 'must be an environment variable name')
    .optional(),
});

export type NewShard = z.infer<typeof NewShardSchema>;

export interface ShardSummary {
  id: string;
  url: string;
  tokenEnv: string | null;
  projects: number;
}

type ShardDeps = Pick<Deps, 'control' | 'clock'>;

/**
 * Registers a shard: `prepare` (the runtime: open the database and apply the migrations) runs
 * first, so a database that cannot be reached or migrated is never registered. The id defaults
 * to `shard-<n>`, one past the number of shards.
 */
export async function addShard(
  deps: ShardDeps,
  input: NewShard,
  prepare: (shard: ShardRef) => Promise<void>,
): Promise<ShardRow> {
  const parsed = NewShardSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new CtsError(400, 'CTS.0003', `Invalid shard ${issue.path.join('.')}: ${issue.message}.`);
  }
  const existing = await selectShards(deps.control);
  const row: ShardRow = {
    id: parsed.data.id ?? `shard-${existing.length + 1}`,
    url: parsed.data.url,
    tokenEnv: parsed.data.tokenEnv ?? null,
    createdAt: deps.clock(),
  };
  if (existing.some((shard) => shard.id === row.id || shard.url === row.url))
    throw new CtsError(409, 'CTS.0003', `A shard with the id ${row.id} or the URL ${row.url} exists.`);
  await prepare(row).catch((error: unknown) => {
    throw new CtsError(
      503,
      'CTS.0005',
      `The shard ${row.url} cannot be reached or migrated: ${rootCause(error)}.`,
    );
  });
  if (!(await insertShard(deps.control, row)))
    throw new CtsError(409, 'CTS.0003', `A shard with the id ${row.id} exists.`);
  return row;
}

/** The innermost `cause` of an error, as one line: what an operator needs to act on. */
function rootCause(error: unknown): string {
  let inner = error;
  while (inner instanceof Error && inner.cause !== undefined) inner = inner.cause;
  return inner instanceof Error ? inner.message : String(inner);
}

/** The control database (as a shard) and every registered shard, with their projects. */
export async function listShards(deps: Pick<Deps, 'control'>): Promise<ShardSummary[]> {
  const [shards, placed, total] = await Promise.all([
    selectShards(deps.control),
    countPlacements(deps.control),
    countProjects(deps.control),
  ]);
  const elsewhere = shards.reduce((sum, shard) => sum + (placed.get(shard.id) ?? 0), 0);
  return [
    { id: CONTROL_SHARD, url: '(the control database)', tokenEnv: null, projects: total - elsewhere },
    ...shards.map((shard) => ({ ...shard, projects: placed.get(shard.id) ?? 0 })),
  ];
}

/**
 * Where a new project goes: `explicit` when given (a tenant that needs its own database), else
 * the registered shard with the fewest projects (the oldest on a tie). With no shard registered
 * the project lives in the control database: undefined, no placement is written.
 */
export async function placeNewProject(
  deps: Pick<Deps, 'control'>,
  explicit?: string,
): Promise<string | undefined> {
  const shards = await selectShards(deps.control);
  if (explicit !== undefined) {
    if (explicit !== CONTROL_SHARD && !shards.some((shard) => shard.id === explicit))
      throw new CtsError(404, 'CTS.0003', `No shard ${explicit} is registered.`);
    return shards.length === 0 && explicit === CONTROL_SHARD ? undefined : explicit;
  }
  if (shards.length === 0) return undefined;
  const placed = await countPlacements(deps.control);
  let best = shards[0]!;
  for (const shard of shards) if ((placed.get(shard.id) ?? 0) < (placed.get(best.id) ?? 0)) best = shard;
  return best.id;
}
