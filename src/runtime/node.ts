import type { IncomingMessage } from 'node:http';
import { resolve } from 'node:path';
import type { Duplex } from 'node:stream';
import { type ServerType, serve } from '@hono/node-server';
import { createApp } from '../app';
import { type Config, parseConfig } from '../config';
import { consoleLogger, type Deps } from '../domain/deps';
import { bootstrap } from '../domain/projects/bootstrap';
import { startNotificationLoop } from '../jobs/notifications';
import type { BucketStore } from '../transfer/bucket';
import { createS3BucketStore, s3OptionsFromConfig } from '../transfer/s3-bucket';
import { createFsBucketStore, sweepStaleTemporaryFiles } from './fs-bucket';
import { migrateDb, openNodeDb } from './node-db';
import { nodeServerSecret } from './node-secret';
import { startJobScheduler } from './scheduler';

/** The Node dependencies for a configuration: embedded or remote libSQL, S3 or folder buckets. */
export async function buildNodeDeps(settings: Config, overrides: Partial<Deps> = {}): Promise<Deps> {
  const db = overrides.db ?? (await openNodeDb(settings));
  const repaired = await migrateDb(db);
  const logger = overrides.logger ?? consoleLogger;
  if (repaired > 0)
    logger.warn('repaired stored traces holding invalid UTF-8 (U+FFFD now)', { rows: repaired });
  const config = { ...settings, CTS_SECRET: nodeServerSecret(settings) };
  return {
    db,
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

/**
 * A body refused before it was read (413) leaves the rest of it on the wire: the connection
 * cannot carry another request, so the answer says `Connection: close` (Node then ends the
 * socket after the response instead of advertising keep-alive and dropping it later).
 */
function closingAfterRefusedBody(fetch: Parameters<Listen>[0]): Parameters<Listen>[0] {
  return async (request, env) => {
    const response = await fetch(request, env);
    if (response.status !== 413) return response;
    const closing = new Response(response.body, response);
    closing.headers.set('Connection', 'close');
    return closing;
  };
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

/** Starts the single-process server: migrations, bootstrap, HTTP (Node's, or `listen`'s). */
export async function startNodeServer(
  env: Record<string, string | undefined>,
  overrides: Partial<Deps> = {},
  listen: Listen = listenWithNode,
): Promise<RunningServer> {
  const config = parseConfig(env);
  const deps = await buildNodeDeps(config, overrides);
  if (!config.CTS_S3_ENDPOINT)
    await sweepStaleTemporaryFiles(resolve(config.CTS_DATA_DIR, 'buckets'), Date.now());
  const boot = await bootstrap(deps, {
    projectId: config.CTS_PROJECT_ID,
    adminToken: config.CTS_ADMIN_TOKEN,
  });
  const app = createApp(deps);
  const notificationLoop = startNotificationLoop(deps);
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
      await notificationLoop.stop();
      await jobs.stop();
      deps.db.$client.close();
      await closed;
    },
  };
}
