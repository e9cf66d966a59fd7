import type { Db } from '../../store/db';
import { findPlacement, type ShardRow, selectShards } from '../../store/shard-queries';

/** The id of the control database when it holds project data (every project, with no shard). */
export const CONTROL_SHARD = 'control';

/** A registered shard as the runtime needs it to open a client. */
export type ShardRef = Pick<ShardRow, 'id' | 'url' | 'tokenEnv'>;

/** Opens a client for a registered shard's database (the runtime's libSQL client). */
export type ConnectShard = (shard: ShardRef) => Promise<Db>;

export interface ShardDb {
  id: string;
  db: Db;
}

/**
 * Where each project's data lives (docs/adr/0005-scaling-past-one-database.md). One per process
 * (per isolate on Workers): placements are read from the control database once per project and
 * kept — a placement never changes — so routing a request costs a map lookup, not a round trip.
 */
export interface ShardRouter {
  /** The database holding `projectId`'s traces, trackers, notifications and digest state. */
  dbOf(projectId: string): Promise<Db>;
  /** The id of that database's shard (`CONTROL_SHARD` for a project placed on none). */
  shardOf(projectId: string): Promise<string>;
  /** The database of a shard (`CONTROL_SHARD` included); throws when no such shard is registered. */
  dbOfShard(shardId: string): Promise<Db>;
  /** Every database that may hold project data: the control database first, then the shards. */
  databases(): Promise<ShardDb[]>;
  /** Closes the clients this router opened (not the control database's). */
  close(): void;
}

/** Placements remembered per process at most (a forgotten one is read again). */
const MAX_CACHED_PLACEMENTS = 100_000;
/** How long the list of registered shards is trusted by `databases()` (the jobs). */
const SHARD_LIST_TTL_MS = 60_000;

export class UnknownShardError extends Error {
  override name = 'UnknownShardError';
}

/**
 * Only settled values are shared between callers, never a promise in flight: on Workers a promise
 * resolved by one request's I/O and awaited by another request can hang that request (workerd
 * ties I/O to the request that made it). Two first requests of a project may both read its
 * placement; that costs one extra indexed read, once.
 */
export function createShardRouter(control: Db, connect: ConnectShard): ShardRouter {
  const placements = new Map<string, string>();
  const open = new Map<string, Db>();
  let registry: { loadedAt: number; shards: Map<string, ShardRef> } | undefined;

  const loadRegistry = async (fresh: boolean): Promise<Map<string, ShardRef>> => {
    if (registry && !fresh && Date.now() - registry.loadedAt <= SHARD_LIST_TTL_MS) return registry.shards;
    const rows = await selectShards(control);
    registry = { loadedAt: Date.now(), shards: new Map(rows.map((row) => [row.id, row])) };
    return registry.shards;
  };

  const dbOfShard = async (shardId: string): Promise<Db> => {
    if (shardId === CONTROL_SHARD) return control;
    const opened = open.get(shardId);
    if (opened) return opened;
    // A shard registered since the list was read (by `cts shards add` elsewhere): read it again.
    const ref = (await loadRegistry(false)).get(shardId) ?? (await loadRegistry(true)).get(shardId);
    if (!ref) throw new UnknownShardError(`No shard ${shardId} is registered.`);
    const db = await connect(ref);
    const raced = open.get(shardId);
    if (raced) {
      db.$client.close();
      return raced;
    }
    open.set(shardId, db);
    return db;
  };

  const shardOf = async (projectId: string): Promise<string> => {
    const known = placements.get(projectId);
    if (known !== undefined) return known;
    const shardId = (await findPlacement(control, projectId)) ?? CONTROL_SHARD;
    if (placements.size >= MAX_CACHED_PLACEMENTS) placements.delete(placements.keys().next().value!);
    placements.set(projectId, shardId);
    return shardId;
  };

  return {
    dbOf(projectId) {
      const shardId = placements.get(projectId);
      if (shardId === CONTROL_SHARD) return Promise.resolve(control);
      const db = shardId === undefined ? undefined : open.get(shardId);
      if (db) return Promise.resolve(db);
      return shardOf(projectId).then(dbOfShard);
    },
    shardOf,
    dbOfShard,
    async databases() {
      const shards = [...(await loadRegistry(false)).keys()];
      const opened: ShardDb[] = [];
      for (const id of shards) opened.push({ id, db: await dbOfShard(id) });
      return [{ id: CONTROL_SHARD, db: control }, ...opened];
    },
    close() {
      for (const db of open.values()) db.$client.close();
      open.clear();
    },
  };
}

const noShardClients: ConnectShard = (shard) =>
  Promise.reject(new UnknownShardError(`Shard ${shard.id} cannot be opened here (no shard client).`));

/**
 * The database fields of deps for one control database: `db` starts as the control database,
 * and projects placed on shards are opened with `connect` (tests and tools that never register
 * a shard leave it out).
 */
export function databaseDeps(
  control: Db,
  connect: ConnectShard = noShardClients,
): { db: Db; control: Db; shards: ShardRouter } {
  return { db: control, control, shards: createShardRouter(control, connect) };
}
