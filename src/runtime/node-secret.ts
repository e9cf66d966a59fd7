import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Config } from '../config';
import { databaseUrl } from './node-db';

/**
 * The server secret AK/SK secret keys are derived from (docs/adr/0003-access-keys.md):
 * `CTS_SECRET` when set; otherwise, for an embedded database, one generated on first use and kept
 * in `<data dir>/secret` (mode 0600) — outside the database, so a copy of the database alone
 * reveals no secret key. A remote database is shared with other servers (a Worker), which must all
 * derive the same keys: there the secret has to be configured, and without it AK/SK is off.
 * An in-memory database gets a secret as short-lived as itself.
 */
export function nodeServerSecret(config: Config): string | undefined {
  if (config.CTS_SECRET) return config.CTS_SECRET;
  const url = databaseUrl(config);
  if (!url.startsWith('file:')) return undefined;
  // A database that lives only in this process needs a secret that lives only as long.
  if (url.startsWith('file::memory:') || url.includes('mode=memory')) return randomBytes(32).toString('hex');
  const dir = resolve(config.CTS_DATA_DIR);
  const file = join(dir, 'secret');
  try {
    return readFileSync(file, 'utf8').trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  mkdirSync(dir, { recursive: true });
  const secret = randomBytes(32).toString('hex');
  try {
    // `wx`: two processes starting at once keep whichever secret was written first.
    writeFileSync(file, `${secret}\n`, { mode: 0o600, flag: 'wx' });
    return secret;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return readFileSync(file, 'utf8').trim();
  }
}
