import type { Db } from '../../store/db';
import type { Principal } from './projects';

/**
 * Recently authenticated API keys, per database (so each app and each test has its own), so that
 * a service reporting one trace per call does not pay a SHA-256 and a key lookup on every request
 * (together ~15 % of the CPU of a single-trace report: profile, ADR 0001).
 *
 * Only keys that authenticated are kept (unknown tokens cannot fill the cache), for at most
 * `KEY_TTL_MS`: that bounds how long a key revoked elsewhere (`cts keys revoke` in another process,
 * another Worker isolate) still works here. A revocation made through this process takes effect at
 * once (`forgetKey`).
 */
export const KEY_TTL_MS = 5_000;
const MAX_CACHED_KEYS = 10_000;

interface Cached {
  principal: Principal;
  loadedAt: number;
}

const caches = new WeakMap<Db, Map<string, Cached>>();

function cacheOf(db: Db): Map<string, Cached> {
  let cache = caches.get(db);
  if (!cache) {
    cache = new Map();
    caches.set(db, cache);
  }
  return cache;
}

/** The principal `token` authenticated as less than `KEY_TTL_MS` ago, if any. */
export function cachedPrincipal(db: Db, token: string, now: number): Principal | undefined {
  const cache = cacheOf(db);
  const cached = cache.get(token);
  if (!cached) return undefined;
  if (Math.abs(now - cached.loadedAt) < KEY_TTL_MS) return cached.principal;
  cache.delete(token);
  return undefined;
}

export function rememberPrincipal(db: Db, token: string, principal: Principal, now: number): void {
  const cache = cacheOf(db);
  cache.delete(token);
  if (cache.size >= MAX_CACHED_KEYS) cache.delete(cache.keys().next().value!);
  cache.set(token, { principal, loadedAt: now });
}

/** Drops a revoked key: its token stops working at once in this process. */
export function forgetKey(db: Db, keyId: string): void {
  const cache = cacheOf(db);
  for (const [token, cached] of cache) if (cached.principal.keyId === keyId) cache.delete(token);
}
