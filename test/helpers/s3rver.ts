import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver from 's3rver';

/** A running s3rver: the settings to reach it and a way to stop it. */
export interface S3rverHandle {
  /** `http://127.0.0.1:<port>` */
  endpoint: string;
  port: number;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** The same, as `CTS_S3_*` settings for `parseConfig`. */
  config: Record<string, string>;
  /** Where s3rver keeps its files (removed by stop unless it was passed in). */
  directory: string;
  /** Stops the server and removes its data; call it in afterAll. Safe to call twice. */
  stop(): Promise<void>;
}

/**
 * Starts s3rver on a free 127.0.0.1 port with its data in a fresh temporary folder, silent.
 * Buckets named in `buckets` exist from the start.
 */
export async function startS3rver(
  options: {
    buckets?: string[];
    /** A fixed port, e.g. to bring a stopped server back where clients expect it. */
    port?: number;
    /** An existing data folder (kept by stop), e.g. a stopped server's. */
    directory?: string;
  } = {},
): Promise<S3rverHandle> {
  const ownDirectory = options.directory === undefined;
  const directory = options.directory ?? mkdtempSync(join(tmpdir(), 'cts-s3rver-'));
  const server = new S3rver({
    address: '127.0.0.1',
    port: options.port ?? 0,
    silent: true,
    directory,
    // s3rver's defaults: any signature made with these credentials is accepted.
    configureBuckets: (options.buckets ?? []).map((name) => ({ name })),
  });
  const { port } = await server.run();
  const endpoint = `http://127.0.0.1:${port}`;
  const credentials = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER', region: 'us-east-1' };
  let stopped = false;
  return {
    endpoint,
    port,
    ...credentials,
    directory,
    config: {
      CTS_S3_ENDPOINT: endpoint,
      CTS_S3_REGION: credentials.region,
      CTS_S3_ACCESS_KEY_ID: credentials.accessKeyId,
      CTS_S3_SECRET_ACCESS_KEY: credentials.secretAccessKey,
      CTS_S3_FORCE_PATH_STYLE: 'true',
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      // Keep-alive sockets of the SDK would otherwise hold close() open.
      server.httpServer?.closeAllConnections();
      await server.close();
      if (ownDirectory) rmSync(directory, { recursive: true, force: true });
    },
  };
}
