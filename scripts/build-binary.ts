/**
 * `npm run build:binary`: the single-process server (`src/runtime/bun.ts`) as one self-contained
 * executable, `dist/cts` (Bun's `--compile`), with the libSQL native addon and the migrations
 * embedded. Run with Bun: `bun scripts/build-binary.ts [outfile]`.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

declare const Bun: {
  build(options: Record<string, unknown>): Promise<{ success: boolean; logs: unknown[] }>;
};

interface PluginBuild {
  onLoad(
    options: { filter: RegExp },
    load: (args: { path: string }) => { contents: string; loader: string },
  ): void;
}

const ROOT = resolve(import.meta.dirname, '..');
const outfile = resolve(ROOT, process.argv[2] ?? 'dist/cts');

/** The libSQL addon package of this machine (the binary runs where it was built). */
function libsqlTarget(): string {
  if (process.platform === 'linux' && (process.arch === 'x64' || process.arch === 'arm64'))
    return `linux-${process.arch}-gnu`;
  if (process.platform === 'darwin') return `darwin-${process.arch}`;
  throw new Error(`No libSQL addon known for ${process.platform}-${process.arch}`);
}

/** Replaces `from` by `to` in a source file, loudly failing when the code no longer matches. */
function patch(path: string, from: string, to: string) {
  const source = readFileSync(path, 'utf8');
  if (!source.includes(from)) throw new Error(`build:binary: ${path} no longer contains ${from}`);
  return { contents: source.replace(from, to), loader: path.endsWith('.ts') ? 'ts' : 'js' };
}

const embed = {
  name: 'cts-embed',
  setup(build: PluginBuild) {
    // `libsql` picks its addon with a computed require, which a bundler cannot follow: name it.
    build.onLoad({ filter: /[\\/]node_modules[\\/]libsql[\\/]index\.js$/ }, ({ path }) =>
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the literal source text in libsql
      patch(path, 'require(`@libsql/${target}`)', `require("@libsql/${libsqlTarget()}/index.node")`),
    );
    // Inside the executable the bundle sits at the root of its file system, next to the
    // embedded `drizzle/` folder (`assets` below), not two folders below it.
    build.onLoad({ filter: /[\\/]src[\\/]runtime[\\/]node-db\.ts$/ }, ({ path }) =>
      patch(path, "new URL('../../drizzle', import.meta.url)", "new URL('./drizzle', import.meta.url)"),
    );
  },
};

const result = await Bun.build({
  entrypoints: [resolve(ROOT, 'src/runtime/bun.ts')],
  root: ROOT,
  compile: { outfile, assets: ['drizzle'] },
  minify: true,
  plugins: [embed],
});
if (!result.success) {
  console.error(result.logs);
  process.exit(1);
}
console.log(`Built ${outfile}`);
