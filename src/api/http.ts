import { OpenAPIHono, z } from '@hono/zod-openapi';
import type { Context, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { HTTPException } from 'hono/http-exception';
import type { ZodError } from 'zod';
import type { Deps } from '../domain/deps';
import { CtsError, type FieldIssue } from '../domain/errors';
import type { Principal } from '../domain/projects/projects';
import { jsonTextMayHoldLoneSurrogate, loneSurrogatePaths } from '../domain/text';
import type { Actor } from '../domain/traces/audit';
import { isBusyError, isUnreachableError } from '../store/db';
import { clientIpOf } from './client-ip';

export interface AppEnv {
  Variables: { deps: Deps; requestId: string; principal: Principal; audited?: boolean };
}

export const ErrorBodySchema = z
  .object({
    error_code: z.string().openapi({ example: 'CTS.0003' }),
    error_msg: z.string().openapi({ example: 'The message body is empty or invalid.' }),
    request_id: z.string().optional(),
    details: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
  })
  .openapi('Error');

const errorResponse = (description: string) => ({
  description,
  content: { 'application/json': { schema: ErrorBodySchema } },
});

/**
 * The error responses every route can give: a body over the limit (any request may carry one,
 * even a GET: the app's backstop refuses it), an internal error, a busy database.
 */
export const publicErrorResponses = {
  413: errorResponse(
    'The request body is over the limit (5 MB; 1 MB for management bodies); the connection is closed.',
  ),
  500: errorResponse('Internal error (`CTS.0004` write, `CTS.0005` read).'),
  503: errorResponse('The database is busy or unreachable; retry after the `Retry-After` seconds.'),
} as const;

/** The error responses every authenticated v3 route shares. */
export const errorResponses = {
  400: errorResponse('Bad request: the body or a parameter is invalid (`details` names each field).'),
  401: errorResponse('Missing or invalid API key (`CTS.0002`).'),
  403: errorResponse('The key lacks the role, or belongs to another project (`CTS.0013`).'),
  ...publicErrorResponses,
} as const;

/**
 * Refuses a body over `maxBytes` with 413 before it is read (by Content-Length, or while it
 * streams in). Every route with a body declares one; the app applies the largest as a backstop.
 */
export function limitBody(maxBytes: number): Middleware {
  const label = `${maxBytes / (1024 * 1024)} MB`;
  const tooLarge = () => new CtsError(413, 'CTS.0003', `The request body exceeds ${label}.`);
  const limitStreamed = bodyLimit({
    maxSize: maxBytes,
    onError: () => {
      throw tooLarge();
    },
  });
  // With a Content-Length (or no body at all) the headers alone decide: the HTTP parser never
  // hands over more bytes than announced. Hono's `bodyLimit` first looks at `req.raw.body`, which
  // on Node turns every request into a web stream (~8 % of the CPU of a single-trace report:
  // profile, ADR 0001). A chunked body is still counted as it streams.
  return (c, next) => {
    const length = c.req.header('content-length');
    if (c.req.header('transfer-encoding') === undefined) {
      if (length === undefined && (c.req.method === 'GET' || c.req.method === 'HEAD')) return next();
      if (length !== undefined && /^\d{1,16}$/.test(length)) {
        if (Number(length) > maxBytes) throw tooLarge();
        return next();
      }
    }
    return limitStreamed(c, next);
  };
}

/** Management bodies (trackers, notification rules, topics) are small; 1 MB bounds what validation walks. */
export const MANAGEMENT_BODY_BYTES = 1024 * 1024;
export const limitManagementBody = limitBody(MANAGEMENT_BODY_BYTES);

export const notFoundResponse = { 404: errorResponse('Not found.') } as const;

export const security: Array<Record<string, string[]>> = [{ AuthToken: [] }, { Bearer: [] }, { AkSk: [] }];

/** `traces.3.trace_name` → `traces[3].trace_name`. */
function fieldName(path: PropertyKey[]): string {
  return path.reduce<string>((name, part) => {
    if (typeof part === 'number') return `${name}[${part}]`;
    return name === '' ? String(part) : `${name}.${String(part)}`;
  }, '');
}

export function zodIssues(error: ZodError, prefix?: string): FieldIssue[] {
  return error.issues.flatMap((issue) => {
    const path = prefix ? [prefix, ...issue.path] : issue.path;
    // An unknown key is named itself (a misspelled query parameter must say which).
    if (issue.code === 'unrecognized_keys')
      return issue.keys.map((key) => ({
        field: fieldName([...path, key]),
        message: 'is not a known parameter',
      }));
    return [{ field: fieldName(path) || '(body)', message: issue.message }];
  });
}

export function errorJson(c: Context<AppEnv>, error: CtsError): Response {
  const body = {
    error_code: error.code,
    error_msg: error.message,
    request_id: c.get('requestId'),
    ...(error.details?.length ? { details: error.details } : {}),
  };
  const headers: Record<string, string> = error.status === 503 ? { 'Retry-After': '1' } : {};
  return c.json(body, error.status, headers);
}

/** Validation failures of a declared route become 400 `CTS.0003` naming every bad field. */
export const validationHook = async (
  result: { success: boolean; error?: ZodError; target?: string; data?: unknown },
  c: Context<AppEnv>,
) => {
  if (result.success && result.target === 'json') {
    // The body's text (Hono keeps it) settles most bodies in one scan: ~3 % of a 1,000-trace
    // report's CPU went to walking every parsed value (profile, ADR 0001).
    const text = (c.req.bodyCache as { text?: Promise<string> }).text;
    if (text && !jsonTextMayHoldLoneSurrogate(await text)) return;
    return refuseLoneSurrogates(c, result.data);
  }
  if (result.success || !result.error) return;
  const where = result.target === 'query' ? 'query' : result.target === 'param' ? 'path' : 'body';
  const details = zodIssues(result.error);
  const first = details[0];
  const message = first ? `Invalid ${where} parameter ${first.field}: ${first.message}` : 'Invalid request.';
  return errorJson(
    c,
    new CtsError(
      400,
      'CTS.0003',
      where === 'body' ? `The message body is empty or invalid. ${message}` : message,
      details,
    ),
  );
};

/**
 * A JSON body whose strings are not all valid Unicode (a lone `\udc00` escape) is refused, naming
 * each field: stored, such a string is not UTF-8 (see domain/text.ts). Checked on every validated
 * body, whatever its schema says about the field.
 */
function refuseLoneSurrogates(c: Context<AppEnv>, body: unknown): Response | undefined {
  const fields = loneSurrogatePaths(body);
  if (fields.length === 0) return;
  const message = 'must not contain an unpaired UTF-16 surrogate (invalid Unicode)';
  return errorJson(
    c,
    new CtsError(
      400,
      'CTS.0003',
      `The message body is empty or invalid. Invalid body parameter ${fields[0]}: ${message}`,
      fields.map((field) => ({ field, message })),
    ),
  );
}

/** Maps every thrown error to a CTS error body; only unexpected ones are logged. */
export function handleError(error: Error, c: Context<AppEnv>): Response {
  if (error instanceof CtsError) return errorJson(c, error);
  if (error instanceof HTTPException) {
    if (error.status === 413)
      return errorJson(c, new CtsError(413, 'CTS.0003', 'The request body exceeds 5 MB.'));
    if (error.status === 400) {
      return errorJson(
        c,
        new CtsError(400, 'CTS.0003', `The message body is empty or invalid. ${error.message}`),
      );
    }
    // zod-openapi's media-type gate: CTS answers a body it cannot read with 400 CTS.0003.
    if (error.status === 415) {
      return errorJson(
        c,
        new CtsError(
          400,
          'CTS.0003',
          'The message body is empty or invalid. Content-Type must be application/json.',
          [{ field: 'Content-Type', message: 'must be application/json' }],
        ),
      );
    }
    return error.getResponse();
  }
  const write = c.req.method !== 'GET' && c.req.method !== 'HEAD';
  c.get('deps')?.logger.error('request failed', {
    requestId: c.get('requestId'),
    method: c.req.method,
    path: c.req.path,
    error: error.stack ?? String(error),
    // drizzle wraps the driver's error: its cause says what the database or the network did.
    cause: causesOf(error),
  });
  if (isBusyError(error))
    return errorJson(c, new CtsError(503, 'CTS.0004', 'The database is busy, please retry.'));
  // A database server that cannot be reached is a wait, not a fault of the request (503 with
  // Retry-After, like busy): a write that failed so committed nothing.
  if (isUnreachableError(error)) {
    return errorJson(
      c,
      new CtsError(
        503,
        write ? 'CTS.0004' : 'CTS.0005',
        'The database is unreachable, please retry after the Retry-After seconds.',
      ),
    );
  }
  return write
    ? errorJson(c, new CtsError(500, 'CTS.0004', 'Failed to write data.'))
    : errorJson(c, new CtsError(500, 'CTS.0005', 'Failed to read data.'));
}

/** The chain of causes of an error, as text (at most 4 deep). */
function causesOf(error: Error): string | undefined {
  const causes: string[] = [];
  for (
    let e = error.cause, depth = 0;
    e != null && depth < 4;
    e = (e as { cause?: unknown }).cause, depth++
  ) {
    const code = (e as { code?: unknown }).code;
    causes.push(
      `${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}${code ? ` (${String(code)})` : ''}`,
    );
  }
  return causes.length > 0 ? causes.join(' <- ') : undefined;
}

export function newRouter(): OpenAPIHono<AppEnv> {
  return new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
}

/** The caller of the current request as an audit actor (for CTS's own traces). */
export function actorOf(c: Context<AppEnv>, traceType: Actor['traceType'] = 'ApiCall'): Actor {
  return {
    ...c.get('principal'),
    sourceIp: clientIpOf(c),
    requestId: c.get('requestId'),
    traceType,
    onRecorded: () => c.set('audited', true),
  };
}

export type Middleware = MiddlewareHandler<AppEnv>;
