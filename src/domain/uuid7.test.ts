import { validate, version } from 'uuid';
import { describe, expect, it } from 'vitest';
import { uuidv7 } from './uuid7';

describe('uuidv7', () => {
  it('makes valid, distinct version-7 UUIDs carrying the time, in creation order', () => {
    const now = Date.UTC(2026, 11, 1, 6, 0, 0, 123);
    const ids = Array.from({ length: 5000 }, (_, i) => uuidv7(now + Math.floor(i / 1000)));
    for (const id of ids.slice(0, 50)) {
      expect(validate(id)).toBe(true);
      expect(version(id)).toBe(7);
      expect(id[19]).toMatch(/[89ab]/);
    }
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(ids);
    expect(Number.parseInt(ids[0]!.replace('-', '').slice(0, 12), 16)).toBe(now);
  });

  it('keeps the order when the clock goes back', () => {
    const first = uuidv7(Date.UTC(2026, 11, 1, 7));
    const second = uuidv7(Date.UTC(2026, 11, 1, 6));
    expect(second > first).toBe(true);
  });
});
