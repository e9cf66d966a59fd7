import type { Config } from '../config';
import type { Db } from '../store/db';
import type { BucketStore } from '../transfer/bucket';
import type { ShardRouter } from './shards/router';

export interface Logger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/** Everything the app and the jobs need from the outside world, built by a runtime entry. */
export interface Deps {
  /**
   * The database of the project at hand: its shard once a request or a job is about one project
   * (`depsOfProject`), the control database before that. With no shard registered, the only one.
   */
  db: Db;
  /** Projects, API keys, console sessions, digest signing keys, shards and placements. */
  control: Db;
  /** Which database holds each project's data (docs/adr/0005-scaling-past-one-database.md). */
  shards: ShardRouter;
  config: Config;
  buckets: BucketStore;
  /** Current time, epoch ms. Injected so tests and `cts jobs run --now` can move it. */
  clock: () => number;
  logger: Logger;
  /** Keeps background work alive after the response (Workers' `waitUntil`); Node just lets it run. */
  waitUntil: (work: Promise<unknown>) => void;
  /**
   * The address of a request's TCP peer as the runtime knows it (`env` is what the runtime passed
   * the app): the socket on Node, Deno and Bun, `CF-Connecting-IP` (set by Cloudflare) on Workers.
   * Absent: no address is known (in-process tests).
   */
  peerAddress?: (request: Request, env: unknown) => string | undefined;
  /** Outgoing HTTP (notification webhooks); the runtime's global `fetch` when absent. */
  fetch?: typeof fetch;
}

/** `deps` for work on one project: `db` is the database its data lives in. */
export async function depsOfProject<D extends Pick<Deps, 'db' | 'shards'>>(
  deps: D,
  projectId: string,
): Promise<D> {
  const db = await deps.shards.dbOf(projectId);
  return db === deps.db ? deps : { ...deps, db };
}

export const consoleLogger: Logger = {
  info: (message, fields) => console.log(JSON.stringify({ level: 'info', message, ...fields })),
  warn: (message, fields) => console.warn(JSON.stringify({ level: 'warn', message, ...fields })),
  error: (message, fields) => console.error(JSON.stringify({ level: 'error', message, ...fields })),
};
