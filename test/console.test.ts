import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { listApiKeys, revokeApiKey } from '../src/domain/projects/projects';
import { recordTraces } from '../src/domain/traces/record';
import type { ReportedTrace } from '../src/domain/traces/schema';
import { aTrace, makeTestEnv, type TestEnv } from './helpers/app';
import { postSignIn, signIn } from './helpers/console';

let env: TestEnv;
beforeEach(async () => {
  env = await makeTestEnv();
});
afterEach(() => env.close());

const minute = 60_000;

/**
 * Stores traces straight through the domain, without the API's validation: the console must
 * cope with whatever is in the database (e.g. control characters the API would refuse today).
 */
async function _store(...overrides: Array<Record<string, unknown>>) {
  const traces = overrides.map((o) => ({ tracker_name: 'system', ...aTrace(o) }) as ReportedTrace);
  await recordTraces(env.deps, env.projectId, traces);
}

describe('console sign-in', () => {
  it('sends a signed-out visitor to the sign-in page, with strict security headers', async () => {
    const res = await env.app.request('/console/traces?service_type=ECS');
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe(
      `/console/sign-in?next=${encodeURIComponent('/console/traces?service_type=ECS')}`,
    );
    const page = await env.app.request('/console/sign-in');
    expect(page.status).toBe(200);
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("form-action 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    expect(page.headers.get('cache-control')).toBe('no-store');
    expect(await page.text()).toContain('name="key"');
    // The API keeps its own headers: no console CSP on JSON routes.
    const api = await env.call('GET', `/v3/${env.projectId}/traces`);
    expect(api.headers.get('content-security-policy')).toBeNull();
  });

  it('signs in with an admin or reader key: HttpOnly, SameSite=Strict cookie, Secure only on https', async () => {
    for (const key of [env.keys.admin, env.keys.reader]) {
      const res = await postSignIn(env, key);
      expect(res.status).toBe(303);
      expect(res.headers.get('location')).toBe('/console/traces');
      const cookie = res.headers.get('set-cookie') ?? '';
      expect(cookie).toMatch(/^cts_session=[0-9a-f]{64};/);
      expect(cookie).toContain('HttpOnly');
      expect(cookie).toContain('SameSite=Strict');
      expect(cookie).toContain('Path=/console');
      expect(cookie).not.toContain('Secure');
    }
    const https = await env.app.request('https://cts.example/console/sign-in', {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Origin: 'https://cts.example' },
      body: new URLSearchParams({ key: env.keys.reader }),
    });
    expect(https.status).toBe(303);
    expect(https.headers.get('set-cookie')).toContain('Secure');
  });

  it('believes X-Forwarded-Proto only from a trusted proxy when it marks the cookie Secure', async () => {
    const signInOver = (app: typeof env.app, key: string) =>
      app.request('http://cts.example/console/sign-in', {
        method: 'POST',
        headers: {
          'Content-Type': 'application/x-www-form-urlencoded',
          Origin: 'http://cts.example',
          'X-Forwarded-Proto': 'https',
        },
        body: new URLSearchParams({ key }),
      });
    // Any client can send the header: from an untrusted peer it changes nothing.
    const spoofed = await signInOver(env.app, env.keys.reader);
    expect(spoofed.status).toBe(303);
    expect(spoofed.headers.get('set-cookie')).not.toContain('Secure');
    // From a proxy inside CTS_TRUSTED_PROXIES it says the browser talks https.
    const behindProxy = await makeTestEnv({
      config: { CTS_TRUSTED_PROXIES: '10.0.0.0/8' },
      deps: { peerAddress: () => '10.1.2.3' },
    });
    try {
      const proxied = await signInOver(behindProxy.app, behindProxy.keys.reader);
      expect(proxied.status).toBe(303);
      expect(proxied.headers.get('set-cookie')).toContain('Secure');
    } finally {
      await behindProxy.close();
    }
  });

  it('stores only a hash of the session id', async () => {
    const client = await signIn(env, env.keys.reader);
    const id = client.cookie.split('=')[1]!;
    const rows = await env.deps.db.$client.execute('SELECT id_hash FROM console_sessions');
    expect(rows.rows).toHaveLength(1);
    expect(rows.rows[0]?.id_hash).not.toBe(id);
    expect(rows.rows[0]?.id_hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('refuses a reporter key and an unknown key with a clear message', async () => {
    const reporter = await postSignIn(env, env.keys.reporter);
    expect(reporter.status).toBe(403);
    expect(reporter.headers.get('set-cookie')).toBeNull();
    expect(await reporter.text()).toContain('This is a reporter key: it can only report traces');
    const unknown = await postSignIn(env, 'cts_not-a-key');
    expect(unknown.status).toBe(401);
    expect(await unknown.text()).toContain('This API key is not valid');
  });

  it('refuses a sign-in posted from another site', async () => {
    const res = await postSignIn(env, env.keys.admin, { Origin: 'https://evil.example' });
    expect(res.status).toBe(403);
    expect(res.headers.get('set-cookie')).toBeNull();
    const sameSite = await postSignIn(env, env.keys.admin, { 'Sec-Fetch-Site': 'same-site' });
    expect(sameSite.status).toBe(403);
    // A real browser's own post: the app's no-referrer policy makes it send `Origin: null`.
    const own = await postSignIn(env, env.keys.admin, { Origin: 'null', 'Sec-Fetch-Site': 'same-origin' });
    expect(own.status).toBe(303);
  });

  it('returns to the page asked for, but never outside the console', async () => {
    const body = (next: string) => new URLSearchParams({ key: env.keys.reader, next });
    const post = (next: string) =>
      env.app.request('http://localhost/console/sign-in', {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: body(next),
      });
    expect((await post('/console/traces?user=bob')).headers.get('location')).toBe('/console/traces?user=bob');
    expect((await post('https://evil.example/')).headers.get('location')).toBe('/console/traces');
    expect((await post('/console//evil.example')).headers.get('location')).toBe('/console/traces');
  });

  it('signs out: the cookie is cleared and the session no longer works', async () => {
    const client = await signIn(env, env.keys.admin);
    const out = await client.post('/console/sign-out', {});
    expect(out.status).toBe(303);
    expect(out.headers.get('location')).toBe('/console/sign-in?signed_out');
    expect(out.headers.get('set-cookie')).toMatch(/cts_session=;.*Max-Age=0/);
    const after = await client.get('/console/traces');
    expect(after.status).toBe(303);
    expect(after.headers.get('location')).toMatch(/^\/console\/sign-in/);
  });

  it('ends the session when its key is revoked, and when it expires', async () => {
    const reader = await signIn(env, env.keys.reader);
    const admin = await signIn(env, env.keys.admin);
    expect((await reader.get('/console/traces')).status).toBe(200);
    const keys = await listApiKeys(env.deps, env.projectId);
    const readerKey = keys.find((k) => k.role === 'reader')!;
    await revokeApiKey(env.deps, env.projectId, readerKey.id);
    expect((await reader.get('/console/traces')).status).toBe(303);
    expect((await admin.get('/console/traces')).status).toBe(200);
    env.clock.advance(12 * 60 * minute);
    expect((await admin.get('/console/traces')).status).toBe(303);
  });
});

describe('console CSRF protection', () => {
  it('rejects a form without the token, with a wrong token or from another site', async () => {
    const client = await signIn(env, env.keys.admin);
    const missing = await client.post('/console/sign-out', {}, { csrf: false });
    expect(missing.status).toBe(403);
    expect(await missing.text()).toContain('CSRF check failed');
    const wrong = await client.post('/console/sign-out', { _csrf: 'f'.repeat(64) }, { csrf: false });
    expect(wrong.status).toBe(403);
    const crossSite = await client.post(
      '/console/sign-out',
      {},
      { headers: { 'Sec-Fetch-Site': 'cross-site' } },
    );
    expect(crossSite.status).toBe(403);
    const otherOrigin = await client.post(
      '/console/sign-out',
      {},
      { headers: { Origin: 'https://evil.example' } },
    );
    expect(otherOrigin.status).toBe(403);
    const exported = await client.post('/console/traces/export', {}, { csrf: false });
    expect(exported.status).toBe(403);
    // Still signed in: none of the rejected posts did anything.
    expect((await client.get('/console/traces')).status).toBe(200);
  });

  it("does not accept another session's token", async () => {
    const first = await signIn(env, env.keys.admin);
    const second = await signIn(env, env.keys.admin);
    const res = await first.post('/console/sign-out', { _csrf: await second.csrf() }, { csrf: false });
    expect(res.status).toBe(403);
  });

  it('answers a post without a session with a page, not a redirect', async () => {
    const res = await env.app.request('http://localhost/console/traces/export', {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: 'x=1',
    });
    expect(res.status).toBe(401);
    expect(await res.text()).toContain('Sign in again');
  });
});
