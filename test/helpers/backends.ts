/**
 * The two database paths every API suite runs on: the embedded libSQL client (in-memory), and a
 * real libSQL server (`sqld`) over HTTP — the path the Worker and a remote deployment take.
 *
 *   const backends = useBackends();            // at file level: starts/stops sqld for the file
 *   describe.each(backends)('reports ($name)', (backend) => {
 *     beforeEach(async () => { env = await makeTestEnv({ dbUrl: backend.dbUrl() }); });
 *   });
 *
 * Suites on sqld share one database per file; each test env has its own project, which is all
 * the isolation the API has anyway.
 */
import { afterAll, beforeAll } from 'vitest';
import { type SqldServer, startSqld } from './sqld';

export interface Backend {
  name: string;
  /** The URL for `makeTestEnv({ dbUrl })`; undefined means in-memory. */
  dbUrl(): string | undefined;
}

export function useBackends(): Backend[] {
  let sqld: SqldServer | undefined;
  beforeAll(async () => {
    sqld = await startSqld();
  });
  afterAll(async () => {
    await sqld?.stop();
  });
  return [
    { name: 'embedded libSQL', dbUrl: () => undefined },
    {
      name: 'sqld over HTTP',
      dbUrl: () => {
        if (!sqld) throw new Error('sqld is not running');
        return sqld.url;
      },
    },
  ];
}
