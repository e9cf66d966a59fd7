import { timingSafeEqual, toHex } from '../crypto';
import type { Trace } from '../traces/schema';

export const EVENT_TYPE = 'com.cloudtrace.trace.recorded';
export const SIGNATURE_HEADER = 'X-CTS-Signature';
export const CONTENT_TYPE = 'application/cloudevents+json; charset=utf-8';

export interface EventInput {
  projectId: string;
  notificationId: string;
  notificationName: string;
  trace: Trace;
}

/**
 * The CloudEvents 1.0 structured-mode body for one matching trace. It is built once, when the
 * trace is recorded, and stored: every retry sends the same bytes (and the same signature), so a
 * receiver deduplicates on (`source`, `id`).
 */
export function cloudEventBody(input: EventInput): string {
  const { trace } = input;
  return JSON.stringify({
    specversion: '1.0',
    type: EVENT_TYPE,
    source: `/v3/${input.projectId}/notifications/${input.notificationId}`,
    id: trace.trace_id,
    time: new Date(trace.record_time).toISOString(),
    subject: `${trace.service_type}/${trace.resource_type}/${trace.resource_id ?? trace.resource_name ?? ''}`,
    datacontenttype: 'application/json',
    data: {
      notification_id: input.notificationId,
      notification_name: input.notificationName,
      project_id: input.projectId,
      trace,
    },
  });
}

const encoder = new TextEncoder();

async function hmacKey(secret: string): Promise<CryptoKey> {
  return crypto.subtle.importKey('raw', encoder.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, [
    'sign',
  ]);
}

/** `sha256=<hex HMAC-SHA256 of the body keyed with the secret's UTF-8 bytes>` (Web Crypto). */
export async function signatureOf(secret: string, body: string): Promise<string> {
  const mac = await crypto.subtle.sign('HMAC', await hmacKey(secret), encoder.encode(body));
  return `sha256=${toHex(mac)}`;
}

/** What a receiver does: recompute the signature over the raw body and compare in constant time. */
export async function verifySignature(secret: string, body: string, header: string | null): Promise<boolean> {
  return header !== null && timingSafeEqual(await signatureOf(secret, body), header.trim());
}
