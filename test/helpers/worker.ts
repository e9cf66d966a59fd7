/**
 * The built Worker bundle in workerd (Miniflare's programmatic API), and the `cts` CLI as a
 * child process: what a deployment runs, started by the tests.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Miniflare } from 'miniflare';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const run = promisify(execFile);

/** Builds the bundle exactly as `npm run build:worker` does, into `outdir`; returns its path. */
export async function buildWorker(outdir: string): Promise<string> {
  await run(
    process.execPath,
    [join(ROOT, 'node_modules/wrangler/bin/wrangler.js'), 'deploy', '--dry-run', '--outdir', outdir],
    { cwd: ROOT, env: { ...process.env, WRANGLER_SEND_METRICS: 'false', CI: 'true' } },
  );
  return join(outdir, 'worker.js');
}

/** `wrangler.toml`'s compatibility date, so the tests run what a deployment runs. */
export function compatibilityDate(): string {
  const toml = readFileSync(join(ROOT, 'wrangler.toml'), 'utf8');
  const match = toml.match(/^compatibility_date\s*=\s*"([^"]+)"/m);
  if (!match?.[1]) throw new Error('wrangler.toml has no compatibility_date');
  return match[1];
}

/** Runs `cts <args>` (the package's bin) with the given environment; rejects on a non-zero exit. */
export async function runCli(args: string[], env: Record<string, string>) {
  return run(process.execPath, [join(ROOT, 'bin/cts.mjs'), ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
  });
}

/**
 * Workers running `scriptPath`, each with its own bindings (reach one with `getWorker(name)`).
 * Their console output goes to `onOutput` (default: this process's output).
 */
export function startWorkers(
  scriptPath: string,
  workers: Record<string, Record<string, string>>,
  onOutput?: (chunk: string) => void,
): Miniflare {
  return new Miniflare({
    ...(onOutput && {
      handleRuntimeStdio(stdout: Readable, stderr: Readable) {
        stdout.on('data', (chunk: Buffer) => onOutput(chunk.toString()));
        stderr.on('data', (chunk: Buffer) => onOutput(chunk.toString()));
      },
    }),
    workers: Object.entries(workers).map(([name, bindings]) => ({
      name,
      modules: true,
      scriptPath,
      modulesRoot: dirname(scriptPath),
      compatibilityDate: compatibilityDate(),
      bindings,
    })),
  });
}
