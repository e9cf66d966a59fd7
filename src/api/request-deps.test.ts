import { Hono } from 'hono';
import { describe, expect, it, vi } from 'vitest';
import type { Deps } from '../domain/deps';
import { depsForRequest } from './request-deps';

const base = {
  logger: { info: vi.fn(), warn: vi.fn(), error: vi.fn() },
  waitUntil: vi.fn(),
} as unknown as Deps & { waitUntil: ReturnType<typeof vi.fn> };

function appThatWaits(work: () => Promise<unknown>) {
  const app = new Hono();
  app.get('/', (c) => {
    const deps = depsForRequest(base, c);
    deps.waitUntil(work());
    return c.text(base.waitUntil.mock.calls.length > 0 ? 'runtime waitUntil' : 'request waitUntil');
  });
  return app;
}

describe('depsForRequest', () => {
  it("hands background work to the request's execution context (Workers)", async () => {
    const ctx = { waitUntil: vi.fn(), passThroughOnException: vi.fn(), props: {} };
    const res = await appThatWaits(() => Promise.resolve('sent')).fetch(new Request('http://x/'), {}, ctx);
    expect(await res.text()).toBe('request waitUntil');
    expect(ctx.waitUntil).toHaveBeenCalledTimes(1);
    expect(base.waitUntil).not.toHaveBeenCalled();
  });

  it('logs background work that fails instead of leaving it unhandled', async () => {
    const ctx = { waitUntil: vi.fn(), passThroughOnException: vi.fn(), props: {} };
    await appThatWaits(() => Promise.reject(new Error('webhook down'))).fetch(
      new Request('http://x/'),
      {},
      ctx,
    );
    await ctx.waitUntil.mock.calls[0]![0];
    expect(base.logger.error).toHaveBeenCalledWith('background work failed', {
      error: 'Error: webhook down',
    });
  });

  it("uses the runtime's waitUntil where there is no execution context (Node, Deno, Bun)", async () => {
    const res = await appThatWaits(() => Promise.resolve()).request('/');
    expect(await res.text()).toBe('runtime waitUntil');
    expect(base.waitUntil).toHaveBeenCalledTimes(1);
  });
});
