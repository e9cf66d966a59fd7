import { buildNodeServer } from '../scripts/build-node';

/** Once per test run: the bundled server of `npm start`, which the process tests start. */
export default async function setup(): Promise<void> {
  await buildNodeServer();
}
