import { randomUUID } from 'node:crypto';
import { userInfo } from 'node:os';
import type { Deps } from '../domain/deps';
import { getProject } from '../domain/projects/projects';
import { type AuditedOperation, recordAudit } from '../domain/traces/audit';

/** The operating-system account running the CLI (what an operator can be asked about). */
function operatorName(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? 'unknown';
  }
}

/**
 * Records an operator's command (key created or revoked) in the project's trail, as CTS does for
 * its own operations: `SystemAction` by the user `cli` named after the OS account, no address.
 */
export async function recordCliAudit(
  deps: Deps,
  projectId: string,
  operation: AuditedOperation,
): Promise<void> {
  const project = await getProject(deps, projectId);
  if (!project) return;
  await recordAudit(
    deps,
    {
      keyId: 'cli',
      keyName: `cli:${operatorName()}`,
      projectId,
      domainId: project.domainId,
      role: 'admin',
      sourceIp: null,
      requestId: randomUUID(),
      traceType: 'SystemAction',
    },
    operation,
  );
}
