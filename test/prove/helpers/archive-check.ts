import type { ArchiveObject } from './s3';
import type { DbState, ReportingClients } from './workload';

export interface ArchiveFindings {
  problems: string[];
  /** Objects in the bucket that the database does not record (uploaded, not committed). */
  orphans: number;
  /** Orphans that do not even parse: an upload the kill cut short (s3rver is not atomic). */
  torn: number;
  /** Distinct trace ids in the archive. */
  archived: number;
  /** Trace ids of this workload in the database. */
  inDatabase: number;
}

const FIELDS = 21;

/**
 * The crash and outage invariants over a database state and the archive as read back:
 * - every trace the server acknowledged is in the database or in a committed archive file;
 * - no trace is twice in the database, twice in one file, or in two files (retries reuse keys);
 * - every committed file is complete and holds exactly the traces as sent, all 21 fields;
 * - `final`: nothing is left half-done — every object is committed and parses.
 */
export function checkArchive(
  state: DbState,
  archive: Map<string, ArchiveObject>,
  clients: ReportingClients,
  options: { final: boolean },
): ArchiveFindings {
  const problems: string[] = [];
  const committed = new Map(state.files.map((file) => [file.key, file]));
  const whereArchived = new Map<string, string[]>();
  const inCommitted = new Set<string>();
  let orphans = 0;
  let torn = 0;
  for (const object of archive.values()) {
    // A temporary file of a write the kill cut short (filesystem bucket): never listed as an
    // object, so never read as one; counted, since nothing removes it.
    if (object.key.endsWith('.tmp')) {
      torn++;
      continue;
    }
    const record = committed.get(object.key);
    if (!record) orphans++;
    if (!object.traces) {
      if (record || options.final) problems.push(`${object.key} ${object.problem}`);
      else torn++;
      continue;
    }
    if (record && record.count !== object.traces.length) {
      problems.push(
        `${object.key} holds ${object.traces.length} traces, the database recorded ${record.count}`,
      );
    }
    const inFile = new Set<string>();
    for (const trace of object.traces) {
      const id = String(trace.trace_id);
      if (inFile.has(id)) problems.push(`${object.key} holds ${id} twice`);
      inFile.add(id);
      whereArchived.set(id, [...(whereArchived.get(id) ?? []), object.key]);
      if (record) inCommitted.add(id);
      if (Object.keys(trace).length !== FIELDS) {
        problems.push(`${object.key}: ${id} has ${Object.keys(trace).length} fields, not ${FIELDS}`);
      }
      const expected = clients.expected(id);
      if (expected) {
        const { record_time, ...rest } = trace;
        if (
          typeof record_time !== 'number' ||
          JSON.stringify(sortKeys(rest)) !== JSON.stringify(sortKeys(expected))
        ) {
          problems.push(
            `${object.key}: ${id} differs from what was sent: ${JSON.stringify(trace).slice(0, 300)}`,
          );
        }
      }
    }
  }
  for (const [id, keys] of whereArchived) {
    if (keys.length > 1) problems.push(`${id} is archived ${keys.length} times: ${keys.join(', ')}`);
  }
  for (const [id, n] of state.traces) if (n > 1) problems.push(`${id} is ${n} times in the database`);
  for (const id of clients.acked) {
    if (!state.traces.has(id) && !inCommitted.has(id)) {
      problems.push(
        `acknowledged trace ${id} is lost (${whereArchived.has(id) ? 'only in an uncommitted file' : 'nowhere'})`,
      );
    }
  }
  if (options.final && orphans > 0) problems.push(`${orphans} objects are not recorded in the database`);
  let inDatabase = 0;
  for (const id of state.traces.keys()) if (clients.sent.has(id)) inDatabase++;
  return { problems, orphans, torn, archived: whereArchived.size, inDatabase };
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]),
    );
  }
  return value;
}
