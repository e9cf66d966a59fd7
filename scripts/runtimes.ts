/**
 * The Bun and Deno executables of the `bun` and `deno` devDependencies, found without their
 * install scripts (`.npmrc` has `ignore-scripts=true`): `bun`'s own `bin/bun.exe` is a text
 * placeholder until its postinstall moves the platform binary there.
 *
 *   tsx scripts/runtimes.ts bun|deno [args...]    runs it with the arguments
 */
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..');

const CANDIDATES = {
  bun: ['node_modules/@oven/bun-linux-x64/bin/bun', 'node_modules/bun/bin/bun.exe'],
  deno: ['node_modules/@deno/linux-x64-glibc/deno', 'node_modules/deno/deno'],
};

/** The path of the real executable (a placeholder is a few hundred bytes, a runtime ~100 MB). */
export function runtimeBinary(name: keyof typeof CANDIDATES): string {
  const found = CANDIDATES[name]
    .map((path) => resolve(ROOT, path))
    .find((path) => existsSync(path) && statSync(path).size > 1_000_000);
  if (!found)
    throw new Error(`No ${name} executable in node_modules (looked at ${CANDIDATES[name].join(', ')})`);
  return found;
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  const [name, ...args] = process.argv.slice(2);
  if (name !== 'bun' && name !== 'deno') {
    console.error('Usage: tsx scripts/runtimes.ts bun|deno [args...]');
    process.exit(2);
  }
  const result = spawnSync(runtimeBinary(name), args, { stdio: 'inherit' });
  process.exit(result.status ?? 1);
}
