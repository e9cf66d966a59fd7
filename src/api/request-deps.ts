import type { Context } from 'hono';
import type { Deps } from '../domain/deps';

/**
 * The deps of one request. On Workers, background work (e.g. a notification's first delivery
 * right after ingest) must be handed to this request's `executionCtx.waitUntil`, or the runtime
 * may cancel it once the response is sent. Node, Deno and Bun pass no execution context: their
 * deps stay as built.
 */
export function depsForRequest(deps: Deps, c: Context): Deps {
  let ctx: { waitUntil(work: Promise<unknown>): void };
  try {
    ctx = c.executionCtx; // throws when the runtime passed none
  } catch {
    return deps;
  }
  return {
    ...deps,
    waitUntil: (work) =>
      ctx.waitUntil(
        work.catch((error) => deps.logger.error('background work failed', { error: String(error) })),
      ),
  };
}
