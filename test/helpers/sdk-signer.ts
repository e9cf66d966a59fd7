import { BasicCredentials } from '@huaweicloud/huaweicloud-sdk-core';
import { AKSKSigner } from '@huaweicloud/huaweicloud-sdk-core/auth/AKSKSigner';

/**
 * Signs a request with the reference signer of the official SDKs (`AKSKSigner` of
 * `@huaweicloud/huaweicloud-sdk-core`), in the shape HcClient hands it over: the endpoint with the
 * path, decoded query parameters, the headers to sign (`host` is added by the signer), the JSON body.
 * Returns every header to send.
 */
export function sdkSign(
  request: {
    method: string;
    /** Absolute URL without the query. */
    endpoint: string;
    queryParams?: Record<string, string | string[]>;
    headers?: Record<string, string>;
    data?: unknown;
  },
  credentials: { ak: string; sk: string; securityToken?: string },
): Record<string, string> {
  const credential = new BasicCredentials().withAk(credentials.ak).withSk(credentials.sk);
  const headers: Record<string, string> = { ...request.headers };
  if (credentials.securityToken) headers['X-Security-Token'] = credentials.securityToken;
  return AKSKSigner.sign(
    {
      method: request.method,
      endpoint: request.endpoint,
      queryParams: request.queryParams ?? {},
      headers,
      data: request.data,
    } as never,
    credential,
  ) as Record<string, string>;
}

/** The URL `sdkSign`'s request goes to (query appended as the SDK's HTTP client sends it). */
export function sdkUrl(endpoint: string, queryParams: Record<string, string> = {}): string {
  const query = new URLSearchParams(queryParams).toString();
  return query ? `${endpoint}?${query}` : endpoint;
}
