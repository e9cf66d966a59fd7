import process from 'node:process';
import { ConfigError } from '../config';
import { databaseThreadsClosed } from './db-thread';
import { type Listen, listenWithNode, startNodeServer } from './node';

/**
 * Runs the single-process server from the environment until SIGINT/SIGTERM, on Node or on the
 * HTTP server `listen` gives (Deno, Bun). A bad configuration exits with status 2.
 */
export async function serveUntilStopped(listen: Listen = listenWithNode): Promise<void> {
  try {
    const server = await startNodeServer(process.env, {}, listen);
    const stop = async () => {
      await server.close();
      await databaseThreadsClosed();
      process.exit(0);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(2);
    }
    throw error;
  }
}
