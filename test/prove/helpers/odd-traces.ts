import fc from 'fast-check';
import { anyString, nested } from './hostile';

/** A trace as the odd-but-valid generator sends it (`trace_id` is set by the sender). */
export type SentTrace = Record<string, unknown> & { trace_id: string };

// biome-ignore lint/suspicious/noControlCharactersInRegex: the API forbids exactly these
const CONTROL = /[\u0000-\u001f\u007f]/;

/** Text the API accepts in a free-text field of at most `max` UTF-16 units: anything but control characters. */
export const oddText = (max: number): fc.Arbitrary<string> =>
  fc
    .oneof(
      anyString(Math.min(max, 120)),
      fc.constantFrom(
        "Robert'); DROP TABLE traces;--",
        '<script>alert(document.cookie)</script>',
        '=cmd|/C calc!A0',
      ),
    )
    .filter((text) => text.length <= max && !CONTROL.test(text));

/** JSON values with every kind of string, odd keys and numbers, up to 50 levels deep. */
const oddJson = (): fc.Arbitrary<unknown> =>
  fc.oneof(
    { weight: 4, arbitrary: fc.jsonValue({ maxDepth: 4, stringUnit: 'binary' }) },
    {
      weight: 1,
      arbitrary: fc.constantFrom<unknown>(
        { __proto__: null, constructor: { prototype: 1 }, toString: 'x' },
        JSON.parse('{"__proto__":{"polluted":true}}'),
        { '': '', ' ': ' ', '\u0000': '\u0000', '\ud800': '\udfff' },
        [1e308, -1e-308, 0, -0, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER, 0.1 + 0.2],
        '',
        'x'.repeat(200_000),
        JSON.parse(nested(50, 'array')),
        JSON.parse(nested(50, 'object')),
        false,
        null,
      ),
    },
  );

const optional = <T>(arbitrary: fc.Arbitrary<T>) =>
  fc.oneof(fc.constant(undefined), fc.constant(null), arbitrary);

/** Traces that are valid by the API's rules yet as odd as possible, in batches of 1-3. */
export function oddTraces(now: number): fc.Arbitrary<Array<Record<string, unknown>>> {
  const user = fc.record(
    {
      id: oddText(128),
      name: oddText(256),
      domain: fc.oneof(
        fc.constant(null),
        fc.record({ id: oddText(128), name: oddText(256) }, { requiredKeys: [] }),
      ),
      extra: oddJson(),
    },
    { requiredKeys: [] },
  );
  const trace = fc.record(
    {
      trace_name: fc.stringMatching(/^[A-Za-z][A-Za-z0-9._-]{0,63}$/),
      trace_rating: fc.constantFrom('normal', 'warning', 'incident'),
      trace_type: fc.constantFrom('ConsoleAction', 'ApiCall', 'SystemAction'),
      service_type: fc.stringMatching(/^[A-Z0-9]{2,32}$/),
      resource_type: fc.stringMatching(/^[A-Za-z0-9._-]{1,64}$/),
      // Within the query window, so that the round trip can be read back through the API.
      time: fc.integer({ min: now - 6 * 86_400_000, max: now }),
      tracker_name: fc.oneof(fc.constant(undefined), fc.constant('system')),
      user: optional(user),
      request: fc.oneof(fc.constant(undefined), oddJson()),
      response: fc.oneof(fc.constant(undefined), oddJson()),
      message: fc.oneof(fc.constant(undefined), oddJson()),
      code: optional(fc.oneof(fc.integer(), fc.constantFrom(0, -1, Number.MAX_SAFE_INTEGER), oddText(256))),
      api_version: optional(oddText(64)),
      resource_id: optional(oddText(350)),
      resource_name: optional(oddText(256)),
      source_ip: optional(oddText(64)),
      request_id: optional(oddText(128)),
      location_info: optional(oddText(1024)),
      endpoint: optional(oddText(1024)),
      resource_url: optional(oddText(2048)),
    },
    { requiredKeys: ['trace_name', 'trace_rating', 'trace_type', 'service_type', 'resource_type', 'time'] },
  );
  return fc.array(trace, { minLength: 1, maxLength: 3 });
}

/** The JSON value a client means by `value` (what `JSON.stringify` sends); absent → null. */
const asSent = (value: unknown): unknown => (value === undefined ? null : JSON.parse(JSON.stringify(value)));

/**
 * `request`, `response`, `message` as the API returns them (the SDK declares strings, ADR 0004): a
 * string as sent, any other value as the JSON text of what was sent; absent → null.
 */
const asText = (value: unknown): string | null => {
  const sent = asSent(value);
  return sent === null && value === undefined ? null : typeof sent === 'string' ? sent : JSON.stringify(sent);
};

/** What the API must return for a trace sent as `trace` (all 21 fields but `record_time`). */
export function expectedApiTrace(trace: SentTrace): Record<string, unknown> {
  const text = (name: string) => (trace[name] ?? null) as string | null;
  return {
    trace_id: trace.trace_id,
    trace_name: trace.trace_name,
    trace_rating: trace.trace_rating,
    trace_type: trace.trace_type,
    request: asText(trace.request),
    response: asText(trace.response),
    message: asText(trace.message),
    code: trace.code == null ? null : String(trace.code),
    api_version: text('api_version'),
    time: trace.time,
    user: trace.user == null ? null : asSent(trace.user),
    service_type: trace.service_type,
    resource_type: trace.resource_type,
    resource_id: text('resource_id'),
    resource_name: text('resource_name'),
    source_ip: text('source_ip'),
    request_id: text('request_id'),
    location_info: text('location_info'),
    endpoint: text('endpoint'),
    resource_url: text('resource_url'),
  };
}
