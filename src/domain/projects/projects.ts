import { and, eq, isNull } from 'drizzle-orm';
import { v7 as uuidv7 } from 'uuid';
import { apiKeys, projects, trackers } from '../../store/schema';
import type { Role } from '../../store/schema/projects';
import { randomHex, sha256Hex } from '../crypto';
import type { Deps } from '../deps';
import { CtsError } from '../errors';

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
}

export interface CreatedKey {
  id: string;
  projectId: string;
  role: Role;
  name: string;
  /** The secret; shown once, never stored. */
  token: string;
}

type ProjectDeps = Pick<Deps, 'db' | 'clock'>;

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

/** Creates a project (and its `system` tracker). The id is generated unless given. */
export async function createProject(
  deps: ProjectDeps,
  input: { id?: string; name?: string; domainId?: string } = {},
): Promise<Project> {
  const id = input.id ?? randomHex(16);
  if (!PROJECT_ID.test(id))
    throw new CtsError(400, 'CTS.0003', 'project_id must be 32 lowercase hex characters.');
  const now = deps.clock();
  const project = { id, domainId: input.domainId ?? id, name: input.name ?? 'default', createdAt: now };
  const inserted = await deps.db.insert(projects).values(project).onConflictDoNothing().returning();
  if (inserted.length === 0) throw new CtsError(409, 'CTS.0003', `Project ${id} already exists.`);
  await deps.db.insert(trackers).values(newSystemTracker(id, now)).onConflictDoNothing();
  return project;
}

export async function getProject(deps: Pick<Deps, 'db'>, id: string): Promise<Project | undefined> {
  return deps.db.query.projects.findFirst({ where: eq(projects.id, id) });
}

export async function listProjects(deps: Pick<Deps, 'db'>): Promise<Project[]> {
  return deps.db.select().from(projects).orderBy(projects.createdAt);
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
  await deps.db.insert(apiKeys).values(key);
  return { id: key.id, projectId: key.projectId, role: key.role, name: key.name, token };
}

export async function listApiKeys(deps: Pick<Deps, 'db'>, projectId: string) {
  return deps.db
    .select({
      id: apiKeys.id,
      role: apiKeys.role,
      name: apiKeys.name,
      createdAt: apiKeys.createdAt,
      revokedAt: apiKeys.revokedAt,
    })
    .from(apiKeys)
    .where(eq(apiKeys.projectId, projectId))
    .orderBy(apiKeys.createdAt);
}

/** Revokes a key; returns false when the project has no such active key. */
export async function revokeApiKey(deps: ProjectDeps, projectId: string, keyId: string): Promise<boolean> {
  const revoked = await deps.db
    .update(apiKeys)
    .set({ revokedAt: deps.clock() })
    .where(and(eq(apiKeys.id, keyId), eq(apiKeys.projectId, projectId), isNull(apiKeys.revokedAt)))
    .returning({ id: apiKeys.id });
  return revoked.length > 0;
}

/** The principal a token stands for, or undefined when it is unknown or revoked. */
export async function authenticate(deps: Pick<Deps, 'db'>, token: string): Promise<Principal | undefined> {
  const keyHash = await sha256Hex(token);
  const [row] = await deps.db
    .select({
      keyId: apiKeys.id,
      keyName: apiKeys.name,
      projectId: apiKeys.projectId,
      role: apiKeys.role,
      domainId: projects.domainId,
    })
    .from(apiKeys)
    .innerJoin(projects, eq(projects.id, apiKeys.projectId))
    .where(and(eq(apiKeys.keyHash, keyHash), isNull(apiKeys.revokedAt)))
    .limit(1);
  return row;
}
