import type {
  ExportedHandler,
  Request as WorkerRequest,
  Response as WorkerResponse,
} from '@cloudflare/workers-types/latest/index.d.ts';
import { createClient } from '@libsql/client/web';
import { createApp } from '../app';
import { type Config, ConfigError, type ConfigIssue, configError, parseConfig } from '../config';
import { consoleLogger, type Deps } from '../domain/deps';
import { bootstrap } from '../domain/projects/bootstrap';
import { listProjects } from '../domain/projects/projects';
import { type ConnectShard, databaseDeps, UnknownShardError } from '../domain/shards/router';
import { runScheduledJobs } from '../jobs';
import { createDb, type Db } from '../store/db';
import { coalesceWrites } from '../store/write-queue';
import { createS3BucketStore, s3OptionsFromConfig } from '../transfer/s3-bucket';

/** Vars and secrets, named like the Node environment variables (see README). */
export type Bindings = Partial<Record<keyof Config, string>>;

interface Isolate {
  deps: Deps;
  app: ReturnType<typeof createApp>;
}

/**
 * The Worker's configuration: the shared schema, plus what a Worker cannot run without.
 * Bindings from `[vars]` may be numbers or booleans; the schema reads strings.
 */
export function parseWorkerConfig(env: Record<string, unknown>): Config {
  const raw = Object.fromEntries(
    Object.entries(env).map(([k, v]) => [k, typeof v === 'number' || typeof v === 'boolean' ? String(v) : v]),
  );
  const issues: ConfigIssue[] = [];
  let config: Config | undefined;
  try {
    config = parseConfig(raw);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    issues.push(...error.issues);
  }
  const url = raw.CTS_DATABASE_URL;
  if (typeof url !== 'string' || url === '' || url.startsWith('file:')) {
    issues.push({
      setting: 'CTS_DATABASE_URL',
      message: `${url ? 'a file: database cannot be opened' : 'required'} on Cloudflare Workers: set the libsql:, https: or wss: URL of a libSQL server (Turso or sqld)`,
    });
  }
  if (!config || issues.length > 0) throw configError(issues);
  return config;
}

/** Dependencies of this isolate: a remote libSQL database and S3 buckets, nothing on disk. */
async function startIsolate(env: Bindings): Promise<Isolate> {
  const config = parseWorkerConfig(env);
  const client = createClient({ url: config.CTS_DATABASE_URL!, authToken: config.CTS_DATABASE_AUTH_TOKEN });
  const deps: Deps = {
    ...databaseDeps(queuedDb(client), workerShardConnector(env)),
    config,
    buckets: createS3BucketStore(s3OptionsFromConfig(config)),
    clock: Date.now,
    logger: consoleLogger,
    // Replaced per request and per cron run by the execution context's waitUntil.
    waitUntil: (work) => void work.catch(() => {}),
    // Cloudflare sets it to the connecting client (a client cannot: the edge overwrites it).
    peerAddress: (request) => request.headers.get('cf-connecting-ip') ?? undefined,
  };
  await bootstrapWorker(deps, config);
  return { deps, app: createApp(deps) };
}

/**
 * Opens a registered shard over HTTP with the auth token of the binding it names (a secret).
 * A Worker has no disk: a `file:` shard (fine for `npm start`) cannot be opened here.
 */
function workerShardConnector(env: Bindings): ConnectShard {
  return async (shard) => {
    if (shard.url.startsWith('file:'))
      throw new UnknownShardError(`Shard ${shard.id} is a file: database, which a Worker cannot open.`);
    const token = shard.tokenEnv ? (env as Record<string, unknown>)[shard.tokenEnv] : undefined;
    return queuedDb(
      createClient({ url: shard.url, authToken: typeof token === 'string' ? token : undefined }),
    );
  };
}

/**
 * The isolate's writes to a database go one group at a time, each group led by a request whose
 * own write is in it and kept alive by its `waitUntil` (store/write-queue.ts): `sqld` stopped
 * answering every writer when 16 requests wrote at once (ADR 0005).
 */
function queuedDb(client: ReturnType<typeof createClient>): Db {
  const db = createDb(client);
  coalesceWrites(db, { requestScoped: true });
  return db;
}

/**
 * `CTS_ADMIN_TOKEN` (+ `CTS_PROJECT_ID`) makes the first project, as `npm start` does. Run once
 * per isolate: one SELECT once the project exists. The schema comes from `cts migrate`: a
 * Worker never runs DDL.
 */
async function bootstrapWorker(deps: Deps, config: Config): Promise<void> {
  if (!config.CTS_ADMIN_TOKEN) return;
  try {
    const boot = await bootstrap(deps, {
      projectId: config.CTS_PROJECT_ID,
      adminToken: config.CTS_ADMIN_TOKEN,
    });
    if (boot.firstStart) deps.logger.info('bootstrapped the first project', { projectId: boot.project.id });
  } catch (error) {
    if (/no such table/i.test(messages(error))) {
      throw configError([
        {
          setting: 'CTS_DATABASE_URL',
          message: 'the database has no CTS schema yet: run `cts migrate` with this CTS_DATABASE_URL',
        },
      ]);
    }
    // Another isolate that started at the same moment won the insert: its project is ours.
    if ((await listProjects(deps)).length === 0) throw error;
  }
}

/** The message of an error and of its causes (drizzle wraps the driver's error). */
function messages(error: unknown): string {
  const parts: string[] = [];
  for (let e = error; e != null && parts.length < 5; e = (e as { cause?: unknown }).cause)
    parts.push(String(e));
  return parts.join(' <- ');
}

let current: { env: Bindings; isolate: Promise<Isolate> } | undefined;

/** Built once per isolate (not per request); a failed start is retried by the next event. */
function isolateFor(env: Bindings): Promise<Isolate> {
  if (current?.env !== env) {
    const isolate = startIsolate(env);
    current = { env, isolate };
    isolate.catch(() => {
      if (current?.isolate === isolate) current = undefined;
    });
  }
  return current.isolate;
}

/**
 * A CTS error body instead of an opaque exception: a bad configuration names each setting; any
 * other start failure (database unreachable, ...) is logged under the request id.
 */
function startFailed(request: Request, error: unknown): Response {
  const requestId = crypto.randomUUID();
  const write = request.method !== 'GET' && request.method !== 'HEAD';
  const body: Record<string, unknown> = {
    error_code: write ? 'CTS.0004' : 'CTS.0005',
    error_msg: write ? 'Failed to write data.' : 'Failed to read data.',
    request_id: requestId,
  };
  if (error instanceof ConfigError) {
    consoleLogger.error('misconfigured', { requestId, error: error.message });
    body.error_msg = `The service is misconfigured: ${error.issues.map((i) => `${i.setting} ${i.message}`).join('; ')}.`;
    body.details = error.issues.map((i) => ({ field: i.setting, message: i.message }));
  } else {
    consoleLogger.error('worker start failed', { requestId, error: messages(error) });
  }
  return Response.json(body, { status: 500, headers: { 'X-Request-Id': requestId } });
}

// The DOM and workerd typings of Request/Response differ only in Cloudflare extras (`cf`).
const fromWorker = (request: WorkerRequest) => request as unknown as Request;
const toWorker = (response: Response) => response as unknown as WorkerResponse;

export default {
  async fetch(request, env, ctx) {
    let isolate: Isolate;
    try {
      isolate = await isolateFor(env);
    } catch (error) {
      return toWorker(startFailed(fromWorker(request), error));
    }
    return toWorker(await isolate.app.fetch(fromWorker(request), env, ctx));
  },

  /** The cron trigger: one bounded run of the jobs as of the scheduled time; the next tick continues. */
  async scheduled(controller, env, ctx) {
    let isolate: Isolate;
    try {
      isolate = await isolateFor(env);
    } catch (error) {
      consoleLogger.error('scheduled jobs not run: the worker cannot start', { error: messages(error) });
      throw error;
    }
    const deps: Deps = {
      ...isolate.deps,
      waitUntil: (work) =>
        ctx.waitUntil(
          work.catch((error) =>
            isolate.deps.logger.error('background work failed', { error: messages(error) }),
          ),
        ),
    };
    ctx.waitUntil(
      runScheduledJobs(deps, { now: controller.scheduledTime }).then((summary) =>
        summary.ok
          ? deps.logger.info('scheduled jobs', { ...summary })
          : deps.logger.error('scheduled jobs failed', { ...summary }),
      ),
    );
  },
} satisfies ExportedHandler<Bindings>;
