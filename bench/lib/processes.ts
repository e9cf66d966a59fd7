/** The processes of the HTTP benchmarks: client children and the real Node server. */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NODE_SERVER } from '../../scripts/build-node';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Runs a bench child (`bench/lib/<script>`) and returns its last output line, parsed. */
export function child<T>(script: string, args: Array<string | number>): Promise<T> {
  return new Promise((resolve, reject) => {
    const proc = spawn(
      process.execPath,
      ['--expose-gc', '--import', 'tsx', join(ROOT, 'bench/lib', script), ...args.map(String)],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    proc.stdout.on('data', (chunk) => {
      out += chunk;
    });
    proc.on('exit', (code) => {
      const line = out.trim().split('\n').at(-1) ?? '';
      if (code === 0) resolve(JSON.parse(line) as T);
      else reject(new Error(`${script} ${args.join(' ')} exited with ${code}:\n${out}`));
    });
  });
}

export interface ServerProcess {
  url: string;
  proc: ChildProcess;
  /** SIGTERM, and resolves once it exited. */
  stop(): Promise<void>;
}

/**
 * The real server (`dist/node/main.mjs`, as `npm start` runs it) on a free port with `env` on top
 * of this process's; scheduled jobs off so that they do not run in the middle of a measurement.
 */
export function startServer(env: Record<string, string>): Promise<ServerProcess> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [join(ROOT, NODE_SERVER)], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
      env: {
        ...process.env,
        HOST: '127.0.0.1',
        PORT: '0',
        CTS_JOBS_INTERVAL_SECONDS: '86400',
        CTS_RETENTION_DAYS: '30',
        ...env,
      },
    });
    let out = '';
    const stop = async () => {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.removeAllListeners('exit');
      const exited = new Promise((done) => proc.once('exit', done));
      proc.kill('SIGTERM');
      await exited;
    };
    proc.stdout!.on('data', (chunk) => {
      out += chunk;
      const url = out.match(/"url":"(http:\/\/127\.0\.0\.1:\d+)"/)?.[1];
      if (url) resolve({ url, proc, stop });
    });
    proc.on('exit', (code) => reject(new Error(`server exited with ${code}:\n${out}`)));
  });
}
