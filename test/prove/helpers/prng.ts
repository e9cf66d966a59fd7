/**
 * A small seeded PRNG (mulberry32) so that every random choice of a proof suite — kill times,
 * batch sizes, trace contents — replays exactly from the printed seed.
 */
export interface Prng {
  readonly seed: number;
  /** Uniform in [0, 1). */
  next(): number;
  /** Integer in [min, max]. */
  int(min: number, max: number): number;
  pick<T>(items: readonly T[]): T;
  chance(probability: number): boolean;
}

export function prng(seed: number): Prng {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    seed,
    next,
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
    pick: (items) => items[Math.floor(next() * items.length)]!,
    chance: (probability) => next() < probability,
  };
}

/** The seed from `CTS_PROVE_SEED`, or `fallback`; the suites print it so a failure can be replayed. */
export function seedFromEnv(fallback: number): number {
  const raw = process.env.CTS_PROVE_SEED;
  if (raw === undefined || raw === '') return fallback;
  const seed = Number(raw);
  if (!Number.isInteger(seed)) throw new Error(`CTS_PROVE_SEED must be an integer, got ${raw}`);
  return seed;
}

/** True when the long variants were asked for (`CTS_PROVE_LONG=1`). */
export const proveLong = (): boolean => ['1', 'true', 'yes'].includes(process.env.CTS_PROVE_LONG ?? '');
