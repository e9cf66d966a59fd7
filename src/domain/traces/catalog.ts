import { selectOperations, selectResourceTypes, selectUserNames } from '../../store/catalog-queries';
import type { Deps } from '../deps';
import { QUERY_WINDOW_MS } from './query';

/**
 * The SDK's listing operations, answered from what the project's traces of the queryable window
 * (the last 7 days) contain: the operations, users and resource types that really occurred.
 */

type CatalogDeps = Pick<Deps, 'db' | 'clock'>;

/** `ListOperations`: the trace names per service and resource type. */
export async function listOperations(
  deps: CatalogDeps,
  projectId: string,
  filter: { service_type?: string; resource_type?: string },
): Promise<Array<{ service_type: string; resource_type: string; operation_list: string[] }>> {
  const rows = await selectOperations(deps.db, projectId, deps.clock() - QUERY_WINDOW_MS, {
    serviceType: filter.service_type,
    resourceType: filter.resource_type,
  });
  const groups = new Map<string, { service_type: string; resource_type: string; operation_list: string[] }>();
  for (const row of rows) {
    const key = `${row.serviceType}\n${row.resourceType}`;
    let group = groups.get(key);
    if (!group) {
      group = { service_type: row.serviceType, resource_type: row.resourceType, operation_list: [] };
      groups.set(key, group);
    }
    group.operation_list.push(row.traceName);
  }
  return [...groups.values()];
}

/** `ListUserResources`: the users (`user.name`) who acted. */
export async function listUsers(deps: CatalogDeps, projectId: string): Promise<Array<{ name: string }>> {
  const names = await selectUserNames(deps.db, projectId, deps.clock() - QUERY_WINDOW_MS);
  return names.map((name) => ({ name }));
}

/** `ListTraceResources`: the resource types per service. */
export async function listResourceTypes(
  deps: CatalogDeps,
  projectId: string,
): Promise<Array<{ service_type: string; resource: string[] }>> {
  const rows = await selectResourceTypes(deps.db, projectId, deps.clock() - QUERY_WINDOW_MS);
  const groups = new Map<string, string[]>();
  for (const row of rows) {
    const list = groups.get(row.serviceType) ?? [];
    list.push(row.resourceType);
    groups.set(row.serviceType, list);
  }
  return [...groups].map(([service_type, resource]) => ({ service_type, resource }));
}
