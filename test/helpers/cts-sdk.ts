import { BasicCredentials } from '@huaweicloud/huaweicloud-sdk-core';
import { ClientBuilder } from '@huaweicloud/huaweicloud-sdk-core/ClientBuilder';
import type { HcClient } from '@huaweicloud/huaweicloud-sdk-core/HcClient';
import { Logger4jInstance } from '@huaweicloud/huaweicloud-sdk-core/logger/log4jLogger';
import type { z } from 'zod';
import * as models from './cts-sdk-models';

/**
 * The official CTS v3 SDK client, as far as the transport goes: an `HcClient` from
 * `@huaweicloud/huaweicloud-sdk-core` (BasicCredentials AK/SK + projectId, `withEndpoint`), sent the
 * request options `CtsClient`'s ParamCreater builds for each of its 16 operations (method, URL
 * template, content type, query parameters, JSON body) — the CTS service package itself is not on
 * npm. Every request is signed by the SDK's own `AKSKSigner`; every answer is checked against the
 * SDK's response model.
 */

export interface SdkAnswer<T = unknown> {
  status: number;
  body: T;
}

/** An error answer as the SDK surfaces it (ClientRequestException / ServerResponseException). */
export class SdkError extends Error {
  constructor(
    readonly status: number,
    readonly errorCode: string | undefined,
    message: string,
  ) {
    super(`${status} ${errorCode}: ${message}`);
  }
}

interface Options {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  url: string;
  contentType: string;
  queryParams?: Record<string, string | number>;
  pathParams?: Record<string, string>;
  data?: unknown;
}

const JSON_UTF8 = 'application/json;charset=UTF-8';

// The SDK logs every error answer (with the whole request) at error level; the suites provoke
// refusals on purpose and check them, so its log stays quiet.
Logger4jInstance.level = 'off';

export function ctsClient(options: {
  endpoint: string;
  ak: string;
  sk: string;
  projectId: string;
  securityToken?: string;
}) {
  const credentials = new BasicCredentials()
    .withAk(options.ak)
    .withSk(options.sk)
    .withProjectId(options.projectId);
  if (options.securityToken) credentials.withSecurityToken(options.securityToken);
  const hc: HcClient = new ClientBuilder<HcClient>((client) => client)
    .withCredential(credentials)
    .withEndpoint(options.endpoint)
    .build();

  async function send<S extends z.ZodType>(request: Options, model: S): Promise<SdkAnswer<z.output<S>>> {
    // CtsClient copies only the parameters that are set, like this.
    const queryParams = Object.fromEntries(
      Object.entries(request.queryParams ?? {}).filter(([, v]) => v !== undefined && v !== null),
    );
    const sendOptions = {
      method: request.method,
      url: request.url,
      contentType: request.contentType,
      queryParams,
      pathParams: request.pathParams ?? {},
      headers: request.data === undefined ? {} : { 'Content-Type': request.contentType },
      // Operations without a body (every GET, the query-string DELETEs) send no `data` at all.
      ...(request.data === undefined ? {} : { data: request.data }),
      responseHeaders: [''],
    };
    let answer: Record<string, unknown>;
    try {
      answer = (await hc.sendRequest(sendOptions as never)) as Record<string, unknown>;
    } catch (error) {
      const e = error as { httpStatusCode?: number; errorCode?: string; errorMsg?: string; message?: string };
      throw new SdkError(e.httpStatusCode ?? 0, e.errorCode, e.errorMsg ?? e.message ?? String(error));
    }
    const { httpStatusCode, '': _emptyHeader, ...body } = answer;
    return { status: Number(httpStatusCode), body: model.parse(body) };
  }

  return {
    listTraces: (query: Record<string, string | number> = {}) =>
      send(
        {
          method: 'GET',
          url: '/v3/{project_id}/traces',
          contentType: 'application/json',
          queryParams: query,
        },
        models.ListTracesResponse,
      ),
    createTracker: (body: Record<string, unknown>) =>
      send(
        { method: 'POST', url: '/v3/{project_id}/tracker', contentType: JSON_UTF8, data: body },
        models.TrackerResponseBody,
      ),
    updateTracker: (body: Record<string, unknown>) =>
      send(
        { method: 'PUT', url: '/v3/{project_id}/tracker', contentType: JSON_UTF8, data: body },
        models.EmptyResponse,
      ),
    listTrackers: (query: { tracker_name?: string; tracker_type?: string } = {}) =>
      send(
        {
          method: 'GET',
          url: '/v3/{project_id}/trackers',
          contentType: 'application/json',
          queryParams: query,
        },
        models.ListTrackersResponse,
      ),
    deleteTracker: (query: { tracker_name?: string; tracker_type?: string } = {}) =>
      send(
        {
          method: 'DELETE',
          url: '/v3/{project_id}/trackers',
          contentType: 'application/json',
          queryParams: query,
        },
        models.EmptyResponse,
      ),
    createNotification: (body: Record<string, unknown>) =>
      send(
        { method: 'POST', url: '/v3/{project_id}/notifications', contentType: JSON_UTF8, data: body },
        models.NotificationsResponseBody,
      ),
    updateNotification: (body: Record<string, unknown>) =>
      send(
        { method: 'PUT', url: '/v3/{project_id}/notifications', contentType: JSON_UTF8, data: body },
        models.NotificationsResponseBody,
      ),
    listNotifications: (notificationType: 'smn' | 'fun', query: { notification_name?: string } = {}) =>
      send(
        {
          method: 'GET',
          url: '/v3/{project_id}/notifications/{notification_type}',
          contentType: 'application/json',
          pathParams: { notification_type: notificationType },
          queryParams: query,
        },
        models.ListNotificationsResponse,
      ),
    deleteNotification: (notificationId: string) =>
      send(
        {
          method: 'DELETE',
          url: '/v3/{project_id}/notifications',
          contentType: 'application/json',
          queryParams: { notification_id: notificationId },
        },
        models.EmptyResponse,
      ),
    listQuotas: () =>
      send(
        { method: 'GET', url: '/v3/{project_id}/quotas', contentType: 'application/json' },
        models.ListQuotasResponse,
      ),
    listOperations: (query: { service_type?: string; resource_type?: string } = {}) =>
      send(
        {
          method: 'GET',
          url: '/v3/{project_id}/operations',
          contentType: 'application/json',
          queryParams: query,
        },
        models.ListOperationsResponse,
      ),
    listUserResources: () =>
      send(
        { method: 'GET', url: '/v3/{project_id}/user-resources', contentType: 'application/json' },
        models.ListUserResourcesResponse,
      ),
    listTraceResources: (domainId: string) =>
      send(
        {
          method: 'GET',
          url: '/v3/{domain_id}/resources',
          contentType: 'application/json',
          pathParams: { domain_id: domainId },
        },
        models.ListTraceResourcesResponse,
      ),
    checkObsBuckets: (domainId: string, body: Record<string, unknown>) =>
      send(
        {
          method: 'POST',
          url: '/v3/{domain_id}/checkbucket',
          contentType: JSON_UTF8,
          pathParams: { domain_id: domainId },
          data: body,
        },
        models.CheckObsBucketsResponse,
      ),
    batchCreateResourceTags: (resourceId: string, body: Record<string, unknown>) =>
      send(
        {
          method: 'POST',
          url: '/v3/{project_id}/{resource_type}/{resource_id}/tags/create',
          contentType: JSON_UTF8,
          pathParams: { resource_id: resourceId, resource_type: 'cts-tracker' },
          data: body,
        },
        models.EmptyResponse,
      ),
    batchDeleteResourceTags: (resourceId: string, body: Record<string, unknown>) =>
      send(
        {
          method: 'DELETE',
          url: '/v3/{project_id}/{resource_type}/{resource_id}/tags/delete',
          contentType: JSON_UTF8,
          pathParams: { resource_id: resourceId, resource_type: 'cts-tracker' },
          data: body,
        },
        models.EmptyResponse,
      ),
  };
}

export type CtsSdkClient = ReturnType<typeof ctsClient>;
