import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { TraceFileBuilder } from '../src/transfer/trace-file';

// Items of every size around the builder's 128 KB chunks, with multi-byte characters, interleaved
// over several files at once as the transfer does (one builder per service).
function items(seed: number, n: number): string[] {
  return Array.from({ length: n }, (_, i) => {
    const size = [10, 1_100, 40_000, 131_071, 131_072, 300_000][(i * 7 + seed) % 6]!;
    return JSON.stringify({ i, seed, text: `Zoë 用户 🚀 ${'x'.repeat(size)}` });
  });
}

describe('TraceFileBuilder', () => {
  for (const compress of [true, false]) {
    it(`writes exactly the JSON array of the items added (${compress ? 'gzip' : 'json'})`, async () => {
      const files = [0, 1, 2].map((seed) => ({
        builder: new TraceFileBuilder(compress),
        items: items(seed, 40),
      }));
      for (let i = 0; i < 40; i++) {
        for (const file of files) await file.builder.add(file.items[i]!);
      }
      const empty = new TraceFileBuilder(compress);
      for (const file of [...files, { builder: empty, items: [] }]) {
        const stored = await file.builder.finish();
        const text = new TextDecoder().decode(compress ? gunzipSync(stored) : stored);
        expect(text).toBe(`[${file.items.join(',')}]`);
        expect(file.builder.count).toBe(file.items.length);
        // The JSON added and its separators: all but the closing bracket (nothing for an empty file).
        const length = new TextEncoder().encode(text).byteLength;
        expect(file.builder.bytes).toBe(file.items.length === 0 ? 0 : length - 1);
      }
    });
  }
});
