import type { Deps } from '../deps';
import { type CreatedKey, createApiKey, createProject, listProjects, type Project } from './projects';

export interface Bootstrapped {
  project: Project;
  /** Present only on the first start, when a key was generated (never when it came from configuration). */
  generatedKey?: CreatedKey;
  firstStart: boolean;
}

/**
 * First start: creates the default project (`CTS_PROJECT_ID` or a generated id) and its admin
 * key (`CTS_ADMIN_TOKEN`, or a generated one returned once). Later starts change nothing.
 */
export async function bootstrap(
  deps: Pick<Deps, 'control' | 'shards' | 'clock'>,
  options: { projectId?: string; adminToken?: string },
): Promise<Bootstrapped> {
  const [existing] = await listProjects(deps);
  if (existing) return { project: existing, firstStart: false };
  const project = await createProject(deps, { id: options.projectId, name: 'default' });
  const key = await createApiKey(deps, {
    projectId: project.id,
    role: 'admin',
    name: 'bootstrap-admin',
    token: options.adminToken,
  });
  return { project, generatedKey: options.adminToken ? undefined : key, firstStart: true };
}
