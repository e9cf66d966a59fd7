import { v7 as uuidv7 } from 'uuid';
import {
  findActiveKeyByHash,
  findActiveKeyById,
  findProject,
  insertApiKey,
  insertFirstTracker,
  markApiKeyRevoked,
  selectApiKeys,
  selectProjects,
} from '../../store/project-queries';
import type { trackers } from '../../store/schema';
import type { Role } from '../../store/schema/projects';
import { insertProjectPlaced } from '../../store/shard-queries';
import { randomHex, sha256Hex } from '../crypto';
import type { Deps } from '../deps';
import { CtsError } from '../errors';
import { CONTROL_SHARD } from '../shards/router';
import { placeNewProject } from '../shards/shards';
import { accessKeyIdOf, keyIdOfAccessKey, secretAccessKeyOf } from './access-keys';
import { cachedPrincipal, forgetKey, rememberPrincipal } from './key-cache';

export const PROJECT_ID = /^[0-9a-f]{32}$/;
export const ROLES = ['reporter', 'reader', 'admin'] as const satisfies readonly Role[];

export interface Project {
  id: string;
  domainId: string;
  name: string;
  createdAt: number;
}

/** Who is calling: the key that authenticated, its project and role. */
export interface Principal {
  keyId: string;
  keyName: string;
  projectId: string;
  domainId: string;
  role: Role;
  /** The access key id when the request was signed with AK/SK (recorded in audit traces). */
  accessKeyId?: string;
}

export interface CreatedKey {
  id: string;
  projectId: string;
  role: Role;
  name: string;
  /** The secret; shown once, never stored. */
  token: string;
  /** The key as an AK/SK pair; absent when the server has no `CTS_SECRET` to derive the SK from. */
  accessKey?: { id: string; secret: string };
}

type ProjectDeps = Pick<Deps, 'control' | 'clock'> & { config?: Pick<Deps['config'], 'CTS_SECRET'> };

/** The row a new project's `system` management tracker starts as (enabled, no transfer). */
export function newSystemTracker(projectId: string, now: number): typeof trackers.$inferInsert {
  return {
    id: crypto.randomUUID(),
    projectId,
    trackerName: 'system',
    trackerType: 'system',
    status: 'enabled',
    createTime: now,
  };
}

/**
 * Creates a project (and its `system` tracker). The id is generated unless given. With shards
 * registered, the project is placed on `shard` or on the least-loaded one (shards.ts); its first
 * tracker is written there before the project exists, so a failure leaves no project without one.
 */
export async function createProject(
  deps: ProjectDeps & Pick<Deps, 'shards'>,
  input: { id?: string; name?: string; domainId?: string; shard?: string } = {},
): Promise<Project> {
  const id = input.id ?? randomHex(16);
  if (!PROJECT_ID.test(id))
    throw new CtsError(400, 'CTS.0003', 'project_id must be 32 lowercase hex characters.');
  const exists = () => new CtsError(409, 'CTS.0003', `Project ${id} already exists.`);
  if (await findProject(deps.control, id)) throw exists();
  const now = deps.clock();
  const project = { id, domainId: input.domainId ?? id, name: input.name ?? 'default', createdAt: now };
  const shardId = await placeNewProject(deps, input.shard);
  await insertFirstTracker(await deps.shards.dbOfShard(shardId ?? CONTROL_SHARD), newSystemTracker(id, now));
  if (!(await insertProjectPlaced(deps.control, project, shardId))) throw exists();
  return project;
}

export async function getProject(deps: Pick<Deps, 'control'>, id: string): Promise<Project | undefined> {
  return findProject(deps.control, id);
}

export async function listProjects(deps: Pick<Deps, 'control'>): Promise<Project[]> {
  return selectProjects(deps.control);
}

/**
 * Creates an API key. `token` may be supplied (bootstrap from `CTS_ADMIN_TOKEN`); otherwise
 * 256 random bits are generated. Only the SHA-256 of the token is stored.
 */
export async function createApiKey(
  deps: ProjectDeps,
  input: { projectId: string; role: Role; name?: string; token?: string },
): Promise<CreatedKey> {
  const project = await getProject(deps, input.projectId);
  if (!project) throw new CtsError(404, 'CTS.0003', `Project ${input.projectId} does not exist.`);
  const token = input.token ?? `cts_${randomHex(32)}`;
  const key = {
    id: uuidv7(),
    projectId: input.projectId,
    role: input.role,
    name: input.name ?? `${input.role}-key`,
    keyHash: await sha256Hex(token),
    createdAt: deps.clock(),
  };
  await insertApiKey(deps.control, key);
  const serverSecret = deps.config?.CTS_SECRET;
  const accessKey = serverSecret
    ? { id: accessKeyIdOf(key.id), secret: await secretAccessKeyOf(serverSecret, key.id) }
    : undefined;
  return { id: key.id, projectId: key.projectId, role: key.role, name: key.name, token, accessKey };
}

export async function listApiKeys(deps: Pick<Deps, 'control'>, projectId: string) {
  return selectApiKeys(deps.control, projectId);
}

/** Revokes a key; returns false when the project has no such active key. */
export async function revokeApiKey(deps: ProjectDeps, projectId: string, keyId: string): Promise<boolean> {
  const revoked = await markApiKeyRevoked(deps.control, projectId, keyId, deps.clock());
  forgetKey(deps.control, keyId);
  return revoked;
}

/** The principal of an access key id, or undefined when it names no active key. */
export async function principalOfAccessKey(
  deps: Pick<Deps, 'control'>,
  accessKeyId: string,
): Promise<Principal | undefined> {
  const keyId = keyIdOfAccessKey(accessKeyId);
  const row = keyId === undefined ? undefined : await findActiveKeyById(deps.control, keyId);
  return row && { ...row, accessKeyId };
}

/**
 * The principal a token stands for, or undefined when it is unknown or revoked (revoked in
 * another process: within `KEY_TTL_MS`, see key-cache.ts).
 */
export async function authenticate(deps: ProjectDeps, token: string): Promise<Principal | undefined> {
  const now = deps.clock();
  const cached = cachedPrincipal(deps.control, token, now);
  if (cached) return cached;
  const principal = await findActiveKeyByHash(deps.control, await sha256Hex(token));
  if (principal) rememberPrincipal(deps.control, token, principal, now);
  return principal;
}
