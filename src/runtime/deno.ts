/**
 * The single-process server on Deno: the Node entry's database, jobs and bootstrap (Deno runs
 * `node:` modules and the libSQL addon), served by `Deno.serve`.
 *
 *   deno run -A --sloppy-imports src/runtime/deno.ts    (or: npm run start:deno)
 */
import type { Listen } from './node';
import { serveUntilStopped } from './serve';

interface DenoServer {
  shutdown(): Promise<void>;
}

declare const Deno: {
  serve(
    options: { hostname: string; port: number; onListen(address: { port: number }): void },
    handler: (request: Request, info: { remoteAddr: { hostname: string } }) => Response | Promise<Response>,
  ): DenoServer;
};

const listenWithDeno: Listen = (fetch, { hostname, port }) =>
  new Promise((ready) => {
    const server = Deno.serve(
      {
        hostname,
        port,
        onListen: (address) => ready({ port: address.port, close: () => server.shutdown() }),
      },
      // The TCP peer, for the client address (node.ts `socketPeerAddress`).
      (request, info) => fetch(request, { remoteAddress: info.remoteAddr.hostname }),
    );
  });

await serveUntilStopped(listenWithDeno);
