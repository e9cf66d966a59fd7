import { describe, expect, it } from 'vitest';
import {
  fitText,
  isWellFormed,
  jsonTextMayHoldLoneSurrogate,
  loneSurrogatePaths,
  toWellFormed,
  wellFormedJson,
  wellFormedJsonText,
} from './text';

describe('stored text', () => {
  it('finds and repairs unpaired surrogates, keeping pairs', () => {
    expect(isWellFormed('a\ud83d\ude00b')).toBe(true);
    expect(isWellFormed('a\udc00b')).toBe(false);
    expect(isWellFormed('a\ud800')).toBe(false);
    expect(toWellFormed('\ud800\ud83d\ude00\udc00')).toBe('\ufffd\ud83d\ude00\ufffd');
  });

  it('fits a value we record: well-formed, no control characters, within the limit', () => {
    expect(fitText('a\u0000b\tc\udc00', 64)).toBe('a\ufffdb\ufffdc\ufffd');
    expect(fitText('x'.repeat(3000), 64)).toHaveLength(64);
    expect(fitText('ab\ud83d\ude00', 3)).toBe('ab'); // never half a pair
    expect(fitText(null, 10)).toBeNull();
  });

  it('repairs JSON values (keys too) and JSON text, leaving an escaped backslash alone', () => {
    expect(wellFormedJson({ 'a\udc00': ['x\ud800', 'ok\\udc00', '\ud83d\ude00', '\\\udc00\udc01'] })).toEqual(
      {
        'a\ufffd': ['x\ufffd', 'ok\\udc00', '\ud83d\ude00', '\\\ufffd\ufffd'],
      },
    );
    const nested = JSON.stringify([['a\udc00b', JSON.stringify({ x: 'y\udc00' })]]);
    // The outer string is repaired; the inner JSON text holds the 6 characters `\udc00`, valid UTF-8.
    expect(wellFormedJsonText(nested)).toBe('[["a\\ufffdb","{\\"x\\":\\"y\\\\udc00\\"}"]]');
    expect(wellFormedJson(undefined)).toBeUndefined();
  });

  it('names every field that holds an unpaired surrogate', () => {
    expect(loneSurrogatePaths({ a: [1, { b: 'x\udc00' }], 'k\ud800': 1, ok: '\ud83d\ude00' })).toEqual([
      'k\ufffd',
      'a[1].b',
    ]);
    expect(loneSurrogatePaths('\udc00')).toEqual(['(body)']);
    expect(loneSurrogatePaths({ r: { s: '\udc00' } }, 'traces[0]')).toEqual(['traces[0].r.s']);
  });

  it('clears a JSON text by one scan only when no escape could make an unpaired surrogate', () => {
    // Whatever the text, parsing can only yield one through a \uDxxx escape (in a string or a key).
    const texts = [
      '{"a":"x\\udc00"}',
      '{"\\uD800k":1}',
      '["\\ud83d\\ude00"]',
      '{"a":"\\\\udc00"}',
      '{"a":"é😀"}',
    ];
    const mayHold = texts.map(jsonTextMayHoldLoneSurrogate);
    expect(mayHold).toEqual([true, true, true, true, false]);
    for (const [i, text] of texts.entries()) {
      // Never a miss: a text it clears parses to no unpaired surrogate.
      if (loneSurrogatePaths(JSON.parse(text)).length > 0) expect(mayHold[i]).toBe(true);
    }
    // A pair written as escapes, or an escaped backslash, is a false alarm that the walk settles.
    expect(loneSurrogatePaths(JSON.parse(texts[2]!))).toEqual([]);
    expect(loneSurrogatePaths(JSON.parse(texts[3]!))).toEqual([]);
  });
});
