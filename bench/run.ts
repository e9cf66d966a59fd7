/**
 * `npm run bench [name...]`: runs every `bench/*.bench.ts` (or the named ones) one after another,
 * each in its own process so that one suite's memory and caches do not colour the next.
 * Each suite prints its figures next to a baseline measured in the same run. The server is the
 * bundle `npm start` runs (`dist/node/main.mjs`), built first.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { buildNodeServer } from '../scripts/build-node';

const dir = fileURLToPath(new URL('.', import.meta.url));
const wanted = process.argv.slice(2);
const suites = readdirSync(dir)
  .filter((file) => file.endsWith('.bench.ts'))
  .map((file) => file.slice(0, -'.bench.ts'.length))
  .filter((name) => wanted.length === 0 || wanted.includes(name))
  .sort();

if (suites.length === 0) {
  console.error(`No bench suite matches ${wanted.join(', ')}`);
  process.exit(2);
}
await buildNodeServer();
let failed = 0;
for (const name of suites) {
  console.log(`\n=== bench: ${name} ===`);
  const run = spawnSync(process.execPath, ['--import', 'tsx', `${dir}${name}.bench.ts`], {
    stdio: 'inherit',
  });
  if (run.status !== 0) failed++;
}
process.exit(failed === 0 ? 0 : 1);
