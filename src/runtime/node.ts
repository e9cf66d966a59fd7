import type { IncomingMessage } from 'node:http';
import { resolve } from 'node:path';
import type { Duplex } from 'node:stream';
import { type ServerType, serve } from '@hono/node-server';
import { createApp } from '../app';
import { type Config, parseConfig } from '../config';
import { consoleLogger, type Deps } from '../domain/deps';
import { bootstrap } from '../domain/projects/bootstrap';
import { databaseDeps } from '../domain/shards/router';
import { startNotificationLoop } from '../jobs/notifications';
import type { BucketStore } from '../transfer/bucket';
import { createS3BucketStore, s3OptionsFromConfig } from '../transfer/s3-bucket';
import { createFsBucketStore, sweepStaleTemporaryFiles } from './fs-bucket';
import { migrateDb, nodeShardConnector, openNodeDb } from './node-db';
import { nodeServerSecret } from './node-secret';
import { startJobScheduler } from './scheduler';

/** The Node dependencies for a configuration: embedded or remote libSQL, S3 or folder buckets. */
export async function buildNodeDeps(
  settings: Config,
  overrides: Partial<Deps> = {},
  env: Record<string, string | undefined> = process.env,
): Promise<Deps> {
  const db = overrides.db ?? (await openNodeDb(settings));
  const repaired = await migrateDb(db);
  const logger = overrides.logger ?? consoleLogger;
  if (repaired > 0)
    logger.warn('repaired stored traces holding invalid UTF-8 (U+FFFD now)', { rows: repaired });
  const config = { ...settings, CTS_SECRET: nodeServerSecret(settings) };
  return {
    ...databaseDeps(db, nodeShardConnector(settings, env)),
    config,
    buckets: overrides.buckets ?? nodeBucketStore(config),
    clock: overrides.clock ?? Date.now,
    logger,
    waitUntil: overrides.waitUntil ?? ((work) => void work.catch(() => {})),
    peerAddress: overrides.peerAddress ?? socketPeerAddress,
  };
}

/**
 * The TCP peer of a request: Node's socket (`@hono/node-server` passes the incoming message as
 * `env.incoming`), or the `remoteAddress` that the Deno and Bun listeners pass.
 */
export function socketPeerAddress(_request: Request, env: unknown): string | undefined {
  const bindings = env as { incoming?: IncomingMessage; remoteAddress?: string } | undefined;
  return bindings?.incoming?.socket?.remoteAddress ?? bindings?.remoteAddress;
}

/** S3 when `CTS_S3_ENDPOINT` is set, else folders under `<data dir>/buckets/`. */
export function nodeBucketStore(config: Config): BucketStore {
  if (config.CTS_S3_ENDPOINT) return createS3BucketStore(s3OptionsFromConfig(config));
  return createFsBucketStore(resolve(config.CTS_DATA_DIR, 'buckets'));
}

/** Serves `fetch` on host:port; resolves once listening, with the bound port and a way to stop. */
export type Listen = (
  fetch: (request: Request, env?: object) => Response | Promise<Response>,
  options: { hostname: string; port: number },
) => Promise<{ port: number; close(): Promise<void> }>;

/** Node's HTTP server (`@hono/node-server`). Deno and Bun pass their own (`deno.ts`, `bun.ts`). */
export const listenWithNode: Listen = (fetch, { hostname, port }) =>
  new Promise((ready) => {
    const server: ServerType = serve({ fetch: closingAfterRefusedBody(fetch), hostname, port }, (info) =>
      ready({ port: info.port, close: () => new Promise<void>((done) => server.close(() => done())) }),
    );
    server.on('clientError', answerUnparsableRequest);
  });

/** How much of a refused body is read and discarded before the connection closes, at most. */
const DRAIN_MAX_BYTES = 64 * 1024 * 1024;
const DRAIN_MAX_MS = 3_000;

/**
 * A body refused before it was read (413) leaves the rest of it on the wire: the connection
 * cannot carry another request, so the answer says `Connection: close`. Closing while the client
 * is still sending would make the kernel reset the connection (the client then loses the answer,
 * or gets EPIPE): the rest of the body is read and discarded first, within bounds, and the
 * answer follows — a lingering close, as nginx does.
 */
function closingAfterRefusedBody(fetch: Parameters<Listen>[0]): Parameters<Listen>[0] {
  return async (request, env) => {
    const response = await fetch(request, env);
    if (response.status !== 413) return response;
    const incoming = (env as { incoming?: IncomingMessage } | undefined)?.incoming;
    if (incoming && !incoming.complete) await drain(incoming);
    const closing = new Response(response.body, response);
    closing.headers.set('Connection', 'close');
    return closing;
  };
}

function drain(incoming: IncomingMessage): Promise<void> {
  return new Promise((done) => {
    let bytes = 0;
    const finish = () => {
      clearTimeout(timer);
      incoming.off('data', count).off('end', finish).off('close', finish).off('error', finish);
      done();
    };
    const count = (chunk: Buffer) => {
      bytes += chunk.length;
      if (bytes > DRAIN_MAX_BYTES) finish();
    };
    const timer = setTimeout(finish, DRAIN_MAX_MS);
    incoming.on('data', count).once('end', finish).once('close', finish).once('error', finish);
    incoming.resume();
  });
}

/**
 * A request Node's HTTP parser refuses (control characters or oversized headers, broken framing)
 * never reaches the app; it still gets a CTS error body, not Node's bare `400`.
 */
function answerUnparsableRequest(error: NodeJS.ErrnoException, socket: Duplex): void {
  if (!socket.writable || error.code === 'ECONNRESET') {
    socket.destroy();
    return;
  }
  const tooLarge = error.code === 'HPE_HEADER_OVERFLOW';
  const body = JSON.stringify({
    error_code: 'CTS.0003',
    error_msg: tooLarge ? 'The request headers are too large.' : 'The request is not valid HTTP.',
  });
  socket.end(
    `HTTP/1.1 ${tooLarge ? '431 Request Header Fields Too Large' : '400 Bad Request'}\r\n` +
      `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

export interface RunningServer {
  url: string;
  deps: Deps;
  close(): Promise<void>;
}

/**
 * Applies the migrations to every registered shard (the control database's are applied by
 * `buildNodeDeps`). A shard that cannot be reached is reported and skipped: its projects answer
 * 503 until it is back, the others are served (`cts migrate` migrates it then).
 */
export async function migrateShards(deps: Deps): Promise<Array<{ id: string; error?: string }>> {
  const results: Array<{ id: string; error?: string }> = [];
  for (const { id, db } of (await deps.shards.databases()).slice(1)) {
    try {
      const repaired = await migrateDb(db);
      if (repaired > 0)
        deps.logger.warn('repaired stored traces holding invalid UTF-8', { shard: id, rows: repaired });
      results.push({ id });
    } catch (error) {
      deps.logger.error('shard not migrated', { shard: id, error: String(error) });
      results.push({ id, error: String(error) });
    }
  }
  return results;
}

/** Starts the single-process server: migrations, bootstrap, HTTP (Node's, or `listen`'s). */
export async function startNodeServer(
  env: Record<string, string | undefined>,
  overrides: Partial<Deps> = {},
  listen: Listen = listenWithNode,
): Promise<RunningServer> {
  const config = parseConfig(env);
  const deps = await buildNodeDeps(config, overrides, env);
  await migrateShards(deps);
  if (!config.CTS_S3_ENDPOINT)
    await sweepStaleTemporaryFiles(resolve(config.CTS_DATA_DIR, 'buckets'), Date.now());
  const boot = await bootstrap(deps, {
    projectId: config.CTS_PROJECT_ID,
    adminToken: config.CTS_ADMIN_TOKEN,
  });
  const app = createApp(deps);
  // One delivery loop per database: each drains its own outbox (the jobs cover shards added later).
  const notificationLoops = (await deps.shards.databases()).map(({ db }) =>
    startNotificationLoop({ ...deps, db }),
  );
  const jobs = startJobScheduler(deps, config.CTS_JOBS_INTERVAL_SECONDS * 1000);
  // The runtime's own second argument (Node's incoming message, ...) stays available to Hono helpers.
  const server = await listen((request, env) => app.fetch(request, env), {
    hostname: config.HOST,
    port: config.PORT,
  });
  const url = `http://${config.HOST.includes(':') ? `[${config.HOST}]` : config.HOST}:${server.port}`;
  deps.logger.info('Cloud Trace Service listening', { url, projectId: boot.project.id });
  if (boot.generatedKey) {
    // Printed once, on the first start only: the key is stored as a hash and cannot be shown again.
    const pair = boot.generatedKey.accessKey;
    console.log(
      `\nFirst start: created project ${boot.project.id} with an admin API key (shown only now):\n\n  ${boot.generatedKey.token}\n\n` +
        (pair
          ? `The same key for AK/SK-signing tools (the CTS SDKs):\n  access key id: ${pair.id}\n  secret access key: ${pair.secret}\n\n`
          : '') +
        `Try: curl -H "X-Auth-Token: <key>" ${url}/v3/${boot.project.id}/traces\n`,
    );
  }
  return {
    url,
    deps,
    close: async () => {
      const closed = server.close();
      await Promise.all(notificationLoops.map((loop) => loop.stop()));
      await jobs.stop();
      deps.shards.close();
      deps.db.$client.close();
      await closed;
    },
  };
}
