import { OpenAPIHono } from '@hono/zod-openapi';
import { requestId } from 'hono/request-id';
import { secureHeaders } from 'hono/secure-headers';
import { bucketCheckRoutes } from './api/bucket-check';
import { catalogRoutes } from './api/catalog';
import { digestKeyRoutes } from './api/digest-keys';
import { type AppEnv, errorJson, handleError, limitBody, validationHook } from './api/http';
import { metaRoutes } from './api/meta';
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
  app.doc31('/openapi.json', {
    openapi: '3.1.0',
    info: {
      title: 'Cloud Trace Service',
      version: '3',
      description: 'Self-hostable audit trail compatible with the Cloud Trace Service (CTS) v3 API.',
    },
  });

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

  app.notFound((c) =>
    errorJson(c, new CtsError(404, 'CTS.0100', `No API at ${c.req.method} ${c.req.path}.`)),
  );
  app.onError(handleError);
  return app;
}
