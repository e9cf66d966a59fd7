/**
 * `npm start` runs the single-process server from one bundled file, `dist/node/main.mjs`, built
 * here from `src/runtime/main.ts` with esbuild in about a second: plain Node then runs it, without
 * the TypeScript loader, which costs about 50 MB of resident memory and some start time. Packages
 * stay in `node_modules` (imported, not bundled); the migrations are read from `drizzle/`.
 *
 *   npm run build:node              (what `npm start` runs first)
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/**
 * Bundles `entry` (a path from the repository root) to `outfile` (from the root too). The output
 * must stay two levels below the root (`dist/<name>/`): the code finds `drizzle/` from there.
 */
export async function bundleForNode(entry: string, outfile: string): Promise<string> {
  await build({
    absWorkingDir: ROOT,
    entryPoints: [join(ROOT, entry)],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    packages: 'external',
    keepNames: true,
    logLevel: 'warning',
  });
  return join(ROOT, outfile);
}

/** The server of `npm start`. */
export const NODE_SERVER = 'dist/node/main.mjs';

export function buildNodeServer(): Promise<string> {
  return bundleForNode('src/runtime/main.ts', NODE_SERVER);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await buildNodeServer();
