/**
 * The single-process server on Bun: the Node entry's database, jobs and bootstrap (Bun runs
 * `node:` modules and the libSQL addon), served by `Bun.serve`. Also the entry of the single
 * binary (`npm run build:binary`).
 *
 *   bun run src/runtime/bun.ts    (or: npm run start:bun)
 */
import type { Listen } from './node';
import { serveUntilStopped } from './serve';

interface BunServer {
  port: number;
  stop(closeActiveConnections?: boolean): Promise<void>;
}

declare const Bun: {
  serve(options: {
    hostname: string;
    port: number;
    fetch(
      request: Request,
      server: { requestIP(request: Request): { address: string } | null },
    ): Response | Promise<Response>;
  }): BunServer;
};

const listenWithBun: Listen = async (fetch, { hostname, port }) => {
  const server = Bun.serve({
    hostname,
    port,
    // The TCP peer, for the client address (node.ts `socketPeerAddress`).
    fetch: (request, bun) => fetch(request, { remoteAddress: bun.requestIP(request)?.address }),
  });
  return { port: server.port, close: () => server.stop(true) };
};

await serveUntilStopped(listenWithBun);
