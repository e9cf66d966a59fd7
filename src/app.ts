import { OpenAPIHono } from '@hono/zod-openapi';
import { requestId } from 'hono/request-id';
import { secureHeaders } from 'hono/secure-headers';
import { bucketCheckRoutes } from './api/bucket-check';
import { catalogRoutes } from './api/catalog';
import { digestKeyRoutes } from './api/digest-keys';
import { type AppEnv, errorJson, handleError, limitBody, validationHook } from './api/http';
import { metaRoutes } from './api/meta';
import { declaredMethods } from './api/method-not-allowed';
import { notificationRoutes } from './api/notifications';
import { depsForRequest } from './api/request-deps';
import { tagRoutes } from './api/tags';
import { topicRoutes } from './api/topics';
import { MAX_BODY_BYTES as REPORT_BODY_BYTES, traceRoutes } from './api/traces';
import { trackerRoutes } from './api/trackers';
import { createConsole } from './console';
import type { Deps } from './domain/deps';
import { CtsError } from './domain/errors';

/** The one Hono app (API, console, OpenAPI document), the same on every runtime. */
export function createApp(deps: Deps): OpenAPIHono<AppEnv> {
  const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
  // A client's id longer than a trace's request_id (128) is replaced by a generated one.
  app.use(requestId({ headerName: 'X-Request-Id', limitLength: 128 }));
  app.use(async (c, next) => {
    c.set('deps', depsForRequest(deps, c));
    await next();
  });
  app.use(secureHeaders());
  // A backstop for any body a route does not bound itself (console forms, a DELETE with a body).
  app.use(limitBody(REPORT_BODY_BYTES));

  app.openAPIRegistry.registerComponent('securitySchemes', 'AuthToken', {
    type: 'apiKey',
    in: 'header',
    name: 'X-Auth-Token',
  });
  app.openAPIRegistry.registerComponent('securitySchemes', 'Bearer', { type: 'http', scheme: 'bearer' });
  app.openAPIRegistry.registerComponent('securitySchemes', 'AkSk', {
    type: 'apiKey',
    in: 'header',
    name: 'Authorization',
    description:
      'AK/SK request signing as the Huawei Cloud SDKs do it: `SDK-HMAC-SHA256 Access=<AK>, SignedHeaders=…, ' +
      'Signature=…` with `X-Sdk-Date`; `host` and `x-sdk-date` must be signed (docs/adr/0003-access-keys.md).',
  });
  // `servers` is where this document was fetched from: the deployment a client talks to.
  app.doc31('/openapi.json', (c) => ({
    openapi: '3.1.0',
    info: {
      title: 'Cloud Trace Service',
      version: '3',
      description: 'Self-hostable audit trail compatible with the Cloud Trace Service (CTS) v3 API.',
      license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
    },
    servers: [{ url: new URL(c.req.url).origin, description: 'This deployment' }],
  }));

  // Declared routes last: `/{version}` would otherwise shadow `/openapi.json`.
  app.route('/console', createConsole());
  app.route('/', traceRoutes);
  app.route('/', trackerRoutes);
  app.route('/', digestKeyRoutes);
  app.route('/', notificationRoutes);
  app.route('/', topicRoutes);
  app.route('/', catalogRoutes);
  app.route('/', bucketCheckRoutes);
  app.route('/', tagRoutes);
  app.route('/', metaRoutes);

  const methodsOf = declaredMethods(app);
  app.notFound((c) => {
    const allowed = methodsOf(c.req.path);
    if (allowed.length === 0)
      return errorJson(c, new CtsError(404, 'CTS.0100', `No API at ${c.req.method} ${c.req.path}.`));
    const body = {
      error_code: 'CTS.0100',
      error_msg: `${c.req.method} is not allowed on ${c.req.path}; allowed: ${allowed.join(', ')}.`,
      request_id: c.get('requestId'),
    };
    return c.json(body, 405, { Allow: allowed.join(', ') });
  });
  app.onError(handleError);
  return app;
}
