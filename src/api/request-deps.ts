import type { Context } from 'hono';
import type { Deps } from '../domain/deps';

/**
 * The deps of one request. On Workers, background work (e.g. a notification's first delivery
 * right after ingest) must be handed to this request's `executionCtx.waitUntil`, or the runtime
 * may cancel it once the response is sent. Node, Deno and Bun pass no execution context: their
 * background work goes to the runtime's `waitUntil`.
 *
 * The context is looked up only when there is background work: Hono's `executionCtx` getter
 * throws where there is none, and building that error on every request cost ~4 % of the CPU of
 * a `GET /health` (profile, ADR 0001).
 */
export function depsForRequest(deps: Deps, c: Context): Deps {
  return {
    ...deps,
    waitUntil: (work) => {
      let ctx: { waitUntil(work: Promise<unknown>): void };
      try {
        ctx = c.executionCtx; // throws when the runtime passed none
      } catch {
        deps.waitUntil(work);
        return;
      }
      ctx.waitUntil(
        work.catch((error) => deps.logger.error('background work failed', { error: String(error) })),
      );
    },
  };
}
