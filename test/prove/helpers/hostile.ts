import fc from 'fast-check';
import { conforms, deref, type JsonSchema, type Resolver } from './json-schema';

/** Strings attackers and broken clients send: injections, markup, unicode edge cases, control bytes. */
export const NASTY_STRINGS: readonly string[] = [
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  '\u0000'.repeat(64),
  '\r\n',
  'line\nbreak',
  '\t',
  '\u007f',
  '\u001b[31mred',
  "'; DROP TABLE traces; --",
  '" OR 1=1 --',
  "' OR '1'='1",
  '1; SELECT * FROM api_keys',
  "%' UNION SELECT key_hash FROM api_keys --",
  '<script>alert(1)</script>',
  '<img src=x onerror=alert(1)>',
  '"><svg onload=alert(1)>',
  'javascript:alert(1)',
  '{{7*7}}',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a template-injection probe, sent as data
  '${7*7}',
  '../../../../etc/passwd',
  '..\\..\\windows',
  '%00',
  '%2e%2e%2f',
  '\ud800',
  '\udfff',
  'a\ud800b',
  '\udc00\ud800',
  '\ud83d\ude00',
  '\u202eevil\u202c',
  'abc\u200bdef',
  '\u200d\u200c\ufeff',
  '\ufeffx',
  '\ufffe\uffff',
  '\u2028\u2029',
  'م\u200fرحبا',
  '👩🏽‍🚀👨‍👩‍👧‍👦',
  'e\u0301\u0301\u0301\u0301',
  'Z̷̛̩͎a̴̗͝l̸̰̈́g̵͙̓o̵̝͑',
  '𝕳𝖊𝖑𝖑𝖔',
  '\u{10ffff}',
  'NaN',
  'Infinity',
  '-0',
  '1e309',
  '0x10',
  '9007199254740993',
  'null',
  'true',
  '[]',
  '{}',
  '__proto__',
  'constructor',
  'A'.repeat(65),
  'a'.repeat(257),
  'x'.repeat(4096),
];

/** Any string fast-check can make, including lone surrogates (`binary` units), plus the nasty list. */
export const anyString = (maxLength = 80): fc.Arbitrary<string> =>
  fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...NASTY_STRINGS) },
    { weight: 3, arbitrary: fc.string({ unit: 'binary', maxLength }) },
    { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength }) },
    {
      weight: 1,
      arbitrary: fc
        .tuple(fc.constantFrom(...NASTY_STRINGS), fc.string({ unit: 'binary', maxLength: 8 }))
        .map(([a, b]) => a + b),
    },
  );

/** A huge string (64 KiB - 1 MiB), cheap to build. */
export const hugeString = (): fc.Arbitrary<string> =>
  fc
    .tuple(fc.integer({ min: 16, max: 20 }), fc.constantFrom('A', '\u0000', 'é', '\ud800', '😀', '<'))
    .map(([power, unit]) => unit.repeat(2 ** power / unit.length));

/** A JSON value nested `depth` levels deep (arrays or objects), built without recursion. */
export function nested(depth: number, kind: 'array' | 'object'): string {
  return kind === 'array'
    ? `${'['.repeat(depth)}1${']'.repeat(depth)}`
    : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
}

/** Any JSON-ish value of a wrong shape: scalars, arrays, objects, deep nesting. */
export const anyJsonValue = (): fc.Arbitrary<unknown> =>
  fc.oneof(
    fc.constantFrom(null, true, false, 0, -1, 1.5, -0, 1e308, Number.MAX_SAFE_INTEGER + 2, [], {}),
    anyString(),
    fc.integer(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.jsonValue({ maxDepth: 3 }),
    fc.integer({ min: 65, max: 3000 }).map((d) => JSON.parse(nested(d, 'array')) as unknown),
  );

/**
 * Values that violate `schema` — candidates of every kind, kept only when the schema (as the
 * published document states it) rejects them.
 */
export function violating(schema: JsonSchema, resolve: Resolver): fc.Arbitrary<unknown> | undefined {
  const s = deref(schema, resolve);
  // A schema that accepts everything (`{}`) has no violating value; filtering for one would spin.
  const constraining = [
    'type',
    'enum',
    'const',
    'pattern',
    'minLength',
    'maxLength',
    'minimum',
    'maximum',
    'minItems',
    'maxItems',
    'required',
    'anyOf',
    'oneOf',
    'allOf',
  ];
  if (!constraining.some((key) => key in s)) return undefined;
  const candidates: fc.Arbitrary<unknown>[] = [anyJsonValue(), anyString()];
  if (s.maxLength !== undefined) {
    candidates.push(
      fc.integer({ min: s.maxLength + 1, max: s.maxLength + 300 }).map((n) => 'a'.repeat(n)),
      hugeString(),
    );
  }
  if (s.enum)
    candidates.push(fc.constantFrom(...s.enum.map((e) => `${String(e)} `), 'NORMAL', 'enabled\u0000'));
  if (s.minimum !== undefined || s.maximum !== undefined) {
    candidates.push(
      fc.constantFrom(
        (s.minimum ?? 0) - 1,
        (s.maximum ?? 0) + 1,
        (s.minimum ?? 0) + 0.5,
        String(s.minimum ?? 0),
        Number.MAX_SAFE_INTEGER * 4,
      ),
    );
  }
  if (s.minItems !== undefined) candidates.push(fc.constant([]));
  if (s.maxItems !== undefined && s.maxItems < 5000) {
    const items = s.items ? deref(s.items, resolve) : {};
    candidates.push(fc.constant(new Array(s.maxItems + 1).fill(items.type === 'object' ? {} : 'x')));
  }
  return fc.oneof(...candidates).filter((value) => !conforms(value, s, resolve));
}

/** A string of text that `JSON.parse` rejects: truncations, junk, comments, BOM, single quotes, NaN. */
export const malformedJson = (valid: string): fc.Arbitrary<string> =>
  fc
    .oneof(
      fc.integer({ min: 0, max: Math.max(0, valid.length - 1) }).map((n) => valid.slice(0, n)),
      fc
        .tuple(
          fc.integer({ min: 0, max: valid.length }),
          fc.constantFrom(',', '}', ']', '"', ':', "'", '\\', 'x', '\u0000'),
        )
        .map(([at, junk]) => valid.slice(0, at) + junk + valid.slice(at)),
      // (A leading BOM is not here: the body's UTF-8 decoding drops it, as RFC 8259 allows.)
      fc.constantFrom(
        `${valid}garbage`,
        `${valid},`,
        valid.replaceAll('"', "'"),
        `/* c */${valid}`,
        '{"traces":[NaN]}',
        '{"traces":[Infinity]}',
        '{"traces":[undefined]}',
        "{'traces':[]}",
        '{traces:[]}',
        '{"traces":[1,]}',
        '{"a":"\\x41"}',
        '{"a":"\\u12"}',
        '{"a":"\u0001"}',
        `{"a":"${'\\'.repeat(3)}"}`,
        '',
        ' ',
        '\u0000',
        nested(100_000, 'array').slice(0, -1),
      ),
      fc.string({ unit: 'binary', minLength: 1, maxLength: 200 }),
    )
    .filter((text) => {
      try {
        JSON.parse(text);
        return false;
      } catch {
        return true;
      }
    });

type Path = Array<string | number>;

/** Every location in `value` that `schema` describes, with the schema of that location. */
export function locations(value: unknown, schema: JsonSchema, resolve: Resolver, path: Path = []) {
  const out: Array<{ path: Path; schema: JsonSchema; required: boolean }> = [];
  const s = deref(schema, resolve);
  const walk = s.anyOf?.find((branch) => conforms(value, branch, resolve)) ?? s;
  if (Array.isArray(value) && walk.items) {
    value.forEach((item, i) => {
      out.push({ path: [...path, i], schema: walk.items!, required: true });
      out.push(...locations(item, walk.items!, resolve, [...path, i]));
    });
  } else if (value !== null && typeof value === 'object' && walk.properties) {
    for (const [name, child] of Object.entries(walk.properties)) {
      const required = walk.required?.includes(name) ?? false;
      if (!(name in (value as object))) continue;
      out.push({ path: [...path, name], schema: child, required });
      out.push(...locations((value as Record<string, unknown>)[name], child, resolve, [...path, name]));
    }
  }
  return out;
}

/** A deep copy of `value` with the location `path` set to `replacement` (or removed). */
export function replaceAt(value: unknown, path: Path, replacement: unknown, remove = false): unknown {
  const copy = structuredClone(value);
  if (path.length === 0) return replacement;
  let parent = copy as Record<string | number, unknown>;
  for (const key of path.slice(0, -1)) parent = parent[key] as Record<string | number, unknown>;
  const last = path.at(-1)!;
  if (remove) {
    if (Array.isArray(parent)) parent.splice(Number(last), 1);
    else delete parent[last];
  } else parent[last] = replacement;
  return copy;
}

/**
 * Bodies that differ from the valid `base` at one location — a wrong value there, or a required
 * field removed — and that the body schema therefore rejects.
 */
export function mutatedBodies(base: unknown, schema: JsonSchema, resolve: Resolver): fc.Arbitrary<unknown> {
  const spots = locations(base, schema, resolve);
  const options: fc.Arbitrary<unknown>[] = [];
  for (const spot of spots) {
    const wrong = violating(spot.schema, resolve);
    if (wrong) options.push(wrong.map((value) => replaceAt(base, spot.path, value)));
    if (spot.required) options.push(fc.constant(replaceAt(base, spot.path, undefined, true)));
  }
  options.push(violating(schema, resolve) ?? fc.constant(null));
  return fc.oneof(...options).filter((body) => !conforms(body, schema, resolve));
}
