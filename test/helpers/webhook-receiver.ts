import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedRequest {
  headers: IncomingHttpHeaders;
  body: string;
  event: {
    id: string;
    source: string;
    data: { notification_name: string; trace: Record<string, unknown> };
  } & Record<string, unknown>;
}

/** What the receiver answers: a status code, or 'hang' (never answers; the sender must time out). */
export type Answer = number | 'hang';

export interface WebhookReceiver {
  url: string;
  /** Every request that arrived, in order (retries included). */
  requests: ReceivedRequest[];
  /** Events after the receiver's own deduplication on (source, id), as a real consumer would keep them. */
  events: Map<string, ReceivedRequest['event']>;
  /** Decides the answer to each request; default 200. */
  answer: (request: ReceivedRequest, index: number) => Answer;
  /** Resolves once `n` requests have arrived. */
  waitForRequests(n: number): Promise<void>;
  close(): Promise<void>;
}

/** An HTTP webhook receiver on 127.0.0.1 (free port), recording and deduplicating what it gets. */
export async function startWebhookReceiver(port = 0): Promise<WebhookReceiver> {
  const waiters: Array<{ n: number; resolve: () => void }> = [];
  const receiver: Omit<WebhookReceiver, 'url' | 'close'> = {
    requests: [],
    events: new Map(),
    answer: () => 200,
    waitForRequests: (n) =>
      new Promise((resolve) => {
        if (receiver.requests.length >= n) resolve();
        else waiters.push({ n, resolve });
      }),
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const request: ReceivedRequest = { headers: req.headers, body, event: JSON.parse(body) };
      const index = receiver.requests.push(request) - 1;
      const answer = receiver.answer(request, index);
      if (answer !== 'hang') {
        if (answer >= 200 && answer < 300) {
          receiver.events.set(`${request.event.source} ${request.event.id}`, request.event);
        }
        res.writeHead(answer, { 'Content-Type': 'text/plain' }).end('ok');
      }
      for (const waiter of waiters.filter((w) => receiver.requests.length >= w.n)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    });
  });
  await new Promise<void>((ready) => server.listen(port, '127.0.0.1', ready));
  const { port: bound } = server.address() as AddressInfo;
  return Object.assign(receiver, {
    url: `http://127.0.0.1:${bound}/hook`,
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  });
}

/** Verifies `X-CTS-Signature` the way a receiver in any language would: HMAC-SHA256 over the raw body. */
export function signatureIsValid(secret: string, request: ReceivedRequest): boolean {
  const header = String(request.headers['x-cts-signature'] ?? '');
  const expected = `sha256=${createHmac('sha256', secret).update(request.body, 'utf8').digest('hex')}`;
  return header.length === expected.length && timingSafeEqual(Buffer.from(header), Buffer.from(expected));
}
