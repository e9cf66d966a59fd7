import fc from 'fast-check';
import {
  encodeSegment,
  expectationsFor,
  fillPath,
  type OpenApiDocument,
  type Operation,
  operationsOf,
  type Parameter,
  queryString,
  type RequestParts,
  type SampleContext,
} from './endpoints';
import { anyString, malformedJson, mutatedBodies, NASTY_STRINGS } from './hostile';
import { conforms, deref, type JsonSchema, type Resolver, resolverOf } from './json-schema';

/** One hostile request; the corpus expects a 4xx CTS error body for every one. */
export interface HostileRequest {
  category: string;
  op: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string | Uint8Array;
}

export interface CorpusContext {
  doc: OpenApiDocument;
  sample: SampleContext;
  /** Keys of the project the requests address. */
  keys: { admin: string; reader: string; reporter: string };
  /** An admin key of another project (a valid key that must get 403 here). */
  otherProjectKey: string;
}

/** A named generator of hostile requests and its share of the corpus. */
export interface CorpusCell {
  name: string;
  weight: number;
  arbitrary: fc.Arbitrary<HostileRequest>;
}

/** How zod's `z.coerce.number()` (and so the server) reads a numeric query parameter. */
function queryConforms(value: string, schema: JsonSchema, resolve: Resolver): boolean {
  const s = deref(schema, resolve);
  const types = Array.isArray(s.type) ? s.type : [s.type];
  if (types.includes('integer') || types.includes('number')) return conforms(Number(value), s, resolve);
  if (types.includes('boolean')) return value === 'true' || value === 'false';
  return conforms(value, s, resolve);
}

const NUMBERISH = [
  '0',
  '-1',
  '1.5',
  '201',
  '1e400',
  '-1e400',
  'NaN',
  'Infinity',
  '5abc',
  'abc',
  '1,2',
  ' ',
  '１０',
];

/** Query values the parameter's declared schema rejects (as the server coerces them). */
function badQueryValue(param: Parameter, resolve: Resolver): fc.Arbitrary<string> | undefined {
  const s = deref(param.schema, resolve);
  const types = Array.isArray(s.type) ? s.type : [s.type];
  const constrained =
    ['enum', 'const', 'pattern', 'minLength', 'maxLength'].some((key) => key in s) ||
    types.some((type) => type === 'integer' || type === 'number' || type === 'boolean');
  // Every string conforms to a bare `type: string`: there is nothing bad to send.
  if (!constrained) return undefined;
  const candidates: fc.Arbitrary<string>[] = [anyString(), fc.constantFrom(...NUMBERISH)];
  if (s.minLength !== undefined) candidates.push(fc.constant(''));
  if (s.maxLength !== undefined) {
    // Past the limit by a little or by a lot (a URL of up to ~200 KB; servers cut longer ones).
    candidates.push(
      fc.integer({ min: s.maxLength + 1, max: s.maxLength + 64 }).map((n) => 'é'.repeat(n)),
      fc.constantFrom('x', '\u0000', '😀').map((unit) => unit.repeat(65_536 / unit.length)),
    );
  }
  return fc.oneof(...candidates).filter((value) => !queryConforms(value, param.schema, resolve));
}

/**
 * Which values of a path parameter are good (anything else is a bad path parameter). A new path
 * parameter must be added here: without a rule the corpus cannot tell bad values from new objects.
 */
const GOOD_PATH_VALUE: Record<string, (value: string) => boolean> = {
  project_id: () => false, // any other project than the key's: 403
  version: (value) => value === 'v3',
  notification_type: (value) => value === 'smn',
  topic_name: (value) => /^[A-Za-z0-9][A-Za-z0-9_-]{0,254}$/.test(value),
  domain_id: () => false, // any other domain than the key's: 403
  resource_type: (value) => value === 'cts-tracker',
  resource_id: () => false, // the sample names no tracker: every value is a 404 (or a 400)
};

/** Values the server must not confuse with a route of its own (`GET /{version}` vs `GET /health`). */
const STATIC_SEGMENTS = /^(health|openapi\.json|console|v3|favicon\.ico|\.|\.\.|)$/;

function badPathValue(param: Parameter): fc.Arbitrary<string> {
  const good = GOOD_PATH_VALUE[param.name];
  if (!good) {
    throw new Error(
      `path parameter ${param.name} has no rule in GOOD_PATH_VALUE (test/prove/helpers/corpus.ts)`,
    );
  }
  return fc
    .oneof(
      anyString(40),
      fc.constantFrom(
        'v1',
        'v2',
        'v1.0',
        'v2.0',
        'V3',
        'v33',
        'SMN',
        'sms',
        '-x',
        '_x',
        'ffffffffffffffffffffffffffffffff',
      ),
      fc.stringMatching(/^[0-9a-f]{32}$/),
    )
    .filter((value) => value.length > 0 && !good(value) && !STATIC_SEGMENTS.test(value));
}

function headerSafe(headers: Record<string, string>): boolean {
  try {
    new Headers(headers);
    return true;
  } catch {
    return false;
  }
}

function build(
  op: Operation,
  category: string,
  ctx: CorpusContext,
  parts: RequestParts,
  options: {
    headers?: Record<string, string>;
    rawBody?: string | Uint8Array;
    auth?: boolean;
    pathOverride?: string;
  } = {},
): HostileRequest {
  const params = { project_id: ctx.sample.projectId, ...parts.params };
  const headers: Record<string, string> = {};
  if (op.secured && options.auth !== false) headers['X-Auth-Token'] = ctx.keys.admin;
  let body: string | Uint8Array | undefined = options.rawBody;
  if (body === undefined && parts.body !== undefined) body = JSON.stringify(parts.body);
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  Object.assign(headers, options.headers);
  for (const [name, value] of Object.entries(headers)) if (value === '\u0000drop') delete headers[name];
  return {
    category,
    op: op.key,
    method: op.method,
    path: (options.pathOverride ?? fillPath(op.path, params)) + queryString(parts.query),
    headers,
    body,
  };
}

/** Bytes of `text` with bytes that are not UTF-8 inserted where JSON allows no character. */
const invalidUtf8 = (text: string): fc.Arbitrary<Uint8Array> =>
  fc
    .constantFrom([0xff], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80], [0x80])
    .map((bad) => {
      const bytes = new TextEncoder().encode(text);
      return Uint8Array.from([...bad, ...bytes]);
    });

/**
 * The cells of the corpus for every operation of the document: bad bodies (malformed JSON,
 * values that break the declared schema, wrong shapes, invalid UTF-8), bad content types, bad
 * auth headers, bad query parameters (each declared one, repeated ones, missing required ones),
 * bad path parameters, and requests to routes that do not exist.
 */
export function corpusCells(ctx: CorpusContext): CorpusCell[] {
  const resolve = resolverOf(ctx.doc);
  const cells: CorpusCell[] = [];
  for (const op of operationsOf(ctx.doc)) {
    const { sample } = expectationsFor(op);
    const base = sample(ctx.sample);
    const name = (what: string) => `${op.key} — ${what}`;

    if (op.body) {
      const schema = op.body.schema;
      const valid = JSON.stringify(base.body ?? {});
      cells.push({
        name: name('malformed JSON'),
        weight: 3,
        arbitrary: fc
          .oneof(malformedJson(valid), invalidUtf8(valid))
          .map((raw) => build(op, 'malformed-json', ctx, { ...base, body: undefined }, { rawBody: raw })),
      });
      cells.push({
        name: name('body that breaks the declared schema'),
        weight: 8,
        arbitrary: mutatedBodies(base.body, schema, resolve).map((body) =>
          build(op, 'schema-violation', ctx, { ...base, body }),
        ),
      });
      cells.push({
        name: name('non-JSON content type'),
        weight: 1,
        arbitrary: fc
          .constantFrom(
            'text/plain',
            'text/html',
            'application/xml',
            'application/x-www-form-urlencoded',
            'multipart/form-data; boundary=x',
            'image/png',
            'application/octet-stream',
            '\u0000drop',
            ';;;',
            'application/json-seq',
          )
          .map((type) => build(op, 'content-type', ctx, base, { headers: { 'Content-Type': type } })),
      });
    }

    if (op.secured) {
      const badAuth = fc.oneof(
        fc.constant<Record<string, string>>({ 'X-Auth-Token': '\u0000drop' }),
        anyString(600).map((token) => ({ 'X-Auth-Token': token })),
        fc
          .tuple(
            fc.constantFrom('Basic', 'Digest', 'Token', 'Bearer', 'Bearer:', 'ApiKey', ''),
            anyString(80),
          )
          .map(([scheme, token]) => ({ 'X-Auth-Token': '\u0000drop', Authorization: `${scheme} ${token}` })),
        fc.constantFrom<Record<string, string>>(
          { 'X-Auth-Token': '\u0000drop', Authorization: `Token ${ctx.keys.admin}` },
          { 'X-Auth-Token': '\u0000drop', Authorization: `Basic ${btoa(`admin:${ctx.keys.admin}`)}` },
          { 'X-Auth-Token': '\u0000drop', Authorization: `Bearer ${ctx.keys.admin} extra` },
          { 'X-Auth-Token': '\u0000drop', Authorization: 'Bearer' },
          { 'X-Auth-Token': ctx.keys.admin.slice(0, -1) },
          { 'X-Auth-Token': `${ctx.keys.admin}x` },
          { 'X-Auth-Token': ctx.keys.admin.toUpperCase() },
          { 'X-Auth-Token': 'a'.repeat(513) },
          { 'X-Auth-Token': ctx.otherProjectKey },
          { 'X-Auth-Token': '\u0000drop', Authorization: `Bearer ${ctx.otherProjectKey}` },
        ),
      );
      cells.push({
        name: name('bad credentials'),
        weight: 2,
        arbitrary: badAuth.filter(headerSafe).map((headers) => build(op, 'auth', ctx, base, { headers })),
      });
    }

    const queryParams = op.parameters.filter((p) => p.in === 'query');
    const badQueries: fc.Arbitrary<RequestParts['query']>[] = [];
    for (const param of queryParams) {
      const bad = badQueryValue(param, resolve);
      if (bad) badQueries.push(bad.map((value) => ({ ...base.query, [param.name]: value })));
      const repeated = fc
        .tuple(anyString(20), anyString(20))
        .filter(([a, b]) => a !== b || !queryConforms(a, param.schema, resolve));
      badQueries.push(repeated.map(([a, b]) => ({ ...base.query, [param.name]: [a, b] })));
      if (param.required) {
        const { [param.name]: _, ...rest } = base.query ?? {};
        badQueries.push(fc.constant(rest));
      }
    }
    for (const extra of SEMANTIC_QUERIES[op.key]?.(ctx.sample) ?? []) badQueries.push(extra);
    if (badQueries.length > 0) {
      cells.push({
        name: name('bad query parameters'),
        weight: 2 + queryParams.length / 4,
        arbitrary: fc.oneof(...badQueries).map((query) => build(op, 'query', ctx, { ...base, query })),
      });
    }

    const pathParams = op.parameters.filter((p) => p.in === 'path');
    if (pathParams.length > 0) {
      cells.push({
        name: name('bad path parameters'),
        weight: 2,
        arbitrary: fc
          .oneof(
            ...pathParams.map((param) =>
              badPathValue(param).map((value) => ({ ...base.params, [param.name]: value })),
            ),
          )
          .map((params) => build(op, 'path', ctx, { ...base, params })),
      });
      cells.push({
        name: name('raw (unencoded) junk in the path'),
        weight: 0.5,
        arbitrary: fc
          .tuple(
            fc.constantFrom(...pathParams),
            fc.constantFrom('%', '%ZZ', '%00', '%C0%AF', '%ED%A0%80', '%2F..%2F', ';', '%25', '\\'),
          )
          .map(([param, raw]) =>
            build(op, 'raw-path', ctx, base, {
              pathOverride: op.path.replace(/\{([^}]+)\}/g, (_, n: string) =>
                n === param.name
                  ? raw
                  : encodeSegment({ project_id: ctx.sample.projectId, ...base.params }[n] ?? ''),
              ),
            }),
          ),
      });
    }
  }
  cells.push({ name: 'routes and methods that do not exist', weight: 3, arbitrary: unknownRoutes(ctx) });
  return cells;
}

/** Rules of DESIGN §3 the schema cannot state: `from > to` and a `next` that names no trace are 400. */
const SEMANTIC_QUERIES: Record<string, (ctx: SampleContext) => fc.Arbitrary<RequestParts['query']>[]> = {
  'GET /v3/{project_id}/traces': (ctx) => [
    fc
      .tuple(fc.integer({ min: 1, max: 7 * 86_400_000 }), fc.integer({ min: 0, max: 86_400_000 }))
      .map(([gap, back]) => ({ to: String(ctx.now - back - gap), from: String(ctx.now - back) })),
    fc.stringMatching(/^[A-Za-z0-9._:-]{1,64}$/).map((next) => ({ next: `nx-${next}`.slice(0, 64) })),
  ],
};

const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'] as const;

/** Requests whose (method, path) matches no declared route: 404 (or 405) with a CTS body. */
function unknownRoutes(ctx: CorpusContext): fc.Arbitrary<HostileRequest> {
  const ops = operationsOf(ctx.doc);
  const templates = ops.map((op) => ({
    method: op.method,
    pattern: new RegExp(`^${op.path.replace(/\{[^}]+\}/g, '[^/]+')}/?$`),
  }));
  const declared = (method: string, path: string) =>
    templates.some((t) => t.method === method && t.pattern.test(path));
  const segment = fc.oneof(
    fc.constantFrom(
      'v3',
      'v1.0',
      'v2.0',
      ctx.sample.projectId,
      'traces',
      'tracker',
      'trackers',
      'admin',
      '.',
      '..',
    ),
    anyString(16).map(encodeSegment),
    fc.constantFrom(...NASTY_STRINGS.slice(0, 30)).map(encodeSegment),
  );
  return fc
    .tuple(fc.constantFrom(...METHODS), fc.array(segment, { minLength: 2, maxLength: 6 }), fc.boolean())
    .map(([method, segments, slash]) => ({ method, path: `/${segments.join('/')}${slash ? '/' : ''}` }))
    .filter(({ method, path }) => {
      const normalized = new URL(`http://x${path}`).pathname;
      return (
        !declared(method, normalized) &&
        !normalized.startsWith('/console') &&
        normalized !== '/openapi.json' &&
        normalized.split('/').filter(Boolean).length >= 2
      );
    })
    .map(({ method, path }) => ({
      category: 'unknown-route',
      op: '(none)',
      method,
      path,
      headers: {
        'X-Auth-Token': ctx.keys.admin,
        ...(method === 'GET' ? {} : { 'Content-Type': 'application/json' }),
      },
      body: method === 'GET' || method === 'OPTIONS' ? undefined : '{"traces":[]}',
    }));
}

/** `fc.sample` made reproducible: the same `count` requests for a seed. */
export function sampleRequests(cell: CorpusCell, count: number, seed: number): HostileRequest[] {
  return fc.sample(cell.arbitrary, { numRuns: count, seed });
}
