import { v7 } from 'uuid';

/**
 * UUIDv7 (RFC 9562) made by the `uuid` package — 48-bit millisecond time, then a 31-bit counter
 * that starts random each millisecond and counts up within it (ids of one process sort in the
 * order they were made), then random bits — with the random bytes taken from a pool filled 256
 * ids at a time: one `crypto.getRandomValues` call an id (the package's default) was ~2.5 % of
 * the CPU of a 1,000-trace report (profile, ADR 0001). Given its own bytes, the package keeps no
 * counter, so the counter is kept here, as the package does it for its default ids.
 */

const POOL_BYTES = 4096;
const pool = new Uint8Array(POOL_BYTES);
let used = POOL_BYTES;
let lastMs = Number.NEGATIVE_INFINITY;
let seq = 0;

/** A new UUIDv7 string, in creation order within this process. */
export function uuidv7(now = Date.now()): string {
  if (used + 16 > POOL_BYTES) {
    crypto.getRandomValues(pool);
    used = 0;
  }
  const random = pool.subarray(used, used + 16);
  used += 16;
  if (now > lastMs) {
    seq = ((random[6]! & 0x7f) << 24) | (random[7]! << 16) | (random[8]! << 8) | random[9]!;
    lastMs = now;
  } else {
    // The same millisecond (or the clock went back): count on from the last id.
    seq = (seq + 1) | 0;
    if (seq === 0) lastMs++;
  }
  return v7({ random, msecs: lastMs, seq });
}
