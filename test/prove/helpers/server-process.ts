import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { NODE_SERVER } from '../../../scripts/build-node';

export const REPO_ROOT = fileURLToPath(new URL('../../..', import.meta.url));

/** A fixed project and admin key for the child servers (bootstrap settings, DESIGN §4). */
export const PROVE_PROJECT_ID = 'a1b2c3d4e5f60718293a4b5c6d7e8f90';
export const PROVE_ADMIN_TOKEN = 'cts_prove_admin_token_0123456789abcdef';

/** A free TCP port on 127.0.0.1 (bound and released; reused across restarts of one server). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

export interface ServerProcess {
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  /** The last lines the server printed (stdout and stderr), for failure messages. */
  output(): string;
  /** Resolves with the first line matching `pattern` printed from now on. */
  waitForLine(pattern: RegExp, timeoutMs: number): Promise<string>;
  /** Calls `listener` for every line printed from now on; returns the unsubscribe function. */
  onLine(listener: (line: string) => void): () => void;
  /** SIGKILL by the child's own pid; resolves once it has exited. */
  kill(): Promise<void>;
  /** SIGTERM (the server's clean shutdown), SIGKILL after `graceMs`; resolves with the exit code. */
  stop(graceMs?: number): Promise<number | null>;
  readonly exited: boolean;
}

/**
 * Starts the real single-process server as `npm start` runs it (`node dist/node/main.mjs`, built
 * by the test run's global setup) as a child of this process — the node binary itself, never npx,
 * so that killing its pid kills the server — and waits until `/health` answers. Only `env` and
 * PATH/HOME reach the child.
 */
export async function startServerProcess(options: {
  env: Record<string, string>;
  port?: number;
  readyTimeoutMs?: number;
}): Promise<ServerProcess> {
  const port = options.port ?? (await freePort());
  const child = spawn(process.execPath, [NODE_SERVER], {
    cwd: REPO_ROOT,
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: process.env.HOME ?? '/tmp',
      HOST: '127.0.0.1',
      PORT: String(port),
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const handle = wrap(child, port);
  try {
    await waitUntilHealthy(handle, options.readyTimeoutMs ?? 30_000);
  } catch (error) {
    await handle.kill();
    throw error;
  }
  return handle;
}

function wrap(child: ChildProcess, port: number): ServerProcess {
  const lines: string[] = [];
  const listeners = new Set<(line: string) => void>();
  let exited = false;
  const exit = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      exited = true;
      resolve(code);
    }),
  );
  const feed = (stream: NodeJS.ReadableStream | null) => {
    let pending = '';
    stream?.setEncoding('utf8');
    stream?.on('data', (chunk: string) => {
      pending += chunk;
      const parts = pending.split('\n');
      pending = parts.pop() ?? '';
      for (const line of parts) {
        lines.push(line);
        if (lines.length > 200) lines.shift();
        for (const listener of listeners) listener(line);
      }
    });
  };
  feed(child.stdout);
  feed(child.stderr);
  const onLine = (listener: (line: string) => void) => {
    listeners.add(listener);
    return () => void listeners.delete(listener);
  };
  const kill = async () => {
    if (!exited) child.kill('SIGKILL');
    await exit;
  };
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    pid: child.pid ?? -1,
    output: () => lines.join('\n'),
    onLine,
    waitForLine(pattern, timeoutMs) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          off();
          reject(new Error(`no line matching ${pattern} within ${timeoutMs} ms`));
        }, timeoutMs);
        const off = onLine((line) => {
          if (!pattern.test(line)) return;
          clearTimeout(timer);
          off();
          resolve(line);
        });
      });
    },
    kill,
    async stop(graceMs = 5_000) {
      if (!exited) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      const code = await exit;
      clearTimeout(timer);
      return code;
    },
    get exited() {
      return exited;
    },
  };
}

async function waitUntilHealthy(server: ServerProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (server.exited) throw new Error(`the server exited during start:\n${server.output()}`);
    try {
      const res = await fetch(`${server.url}/health`, { signal: AbortSignal.timeout(2_000) });
      if (res.status === 200) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`the server did not become healthy within ${timeoutMs} ms:\n${server.output()}`);
}

/** Samples the resident set size of a process, in MiB (Linux `/proc`). */
export async function rssMiB(pid: number): Promise<number> {
  const { readFile } = await import('node:fs/promises');
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const match = status.match(/^VmRSS:\s+(\d+)\s+kB/m);
  if (!match) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(match[1]) / 1024;
}
