import type { TestEnv } from './app';

/** A browser-like client of the console: keeps the session cookie and reads CSRF tokens from pages. */
export interface ConsoleClient {
  cookie: string;
  get(path: string): Promise<Response>;
  /** Posts a form; `csrf: true` adds the session's token (read from the Trace List page). */
  post(
    path: string,
    fields: Record<string, string | string[]>,
    options?: { csrf?: boolean; headers?: Record<string, string> },
  ): Promise<Response>;
  csrf(): Promise<string>;
}

const ORIGIN = 'http://localhost';

export function formBody(fields: Record<string, string | string[]>): URLSearchParams {
  const body = new URLSearchParams();
  for (const [name, value] of Object.entries(fields)) {
    for (const item of Array.isArray(value) ? value : [value]) body.append(name, item);
  }
  return body;
}

/** The value of the first `name="_csrf"` hidden input of a page. */
export function csrfOf(html: string): string {
  const match = html.match(/name="_csrf" value="([0-9a-f]+)"/);
  if (!match?.[1]) throw new Error('no CSRF token on the page');
  return match[1];
}

/** Posts the sign-in form with `key`; returns the raw response. */
export function postSignIn(
  env: TestEnv,
  key: string,
  headers: Record<string, string> = {},
): Promise<Response> {
  return Promise.resolve(
    env.app.request(`${ORIGIN}/console/sign-in`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Origin: ORIGIN, ...headers },
      body: formBody({ key }),
    }),
  );
}

/** Signs in with `key` and returns a client holding the session cookie. */
export async function signIn(env: TestEnv, key: string): Promise<ConsoleClient> {
  const res = await postSignIn(env, key);
  if (res.status !== 303) throw new Error(`sign-in failed: ${res.status} ${await res.text()}`);
  const cookie = res.headers.get('set-cookie')?.split(';')[0] ?? '';
  let token: string | undefined;
  const client: ConsoleClient = {
    cookie,
    get: (path) =>
      Promise.resolve(env.app.request(`${ORIGIN}${path}`, { headers: { Cookie: client.cookie } })),
    async csrf() {
      token ??= csrfOf(await (await client.get('/console/traces')).text());
      return token;
    },
    async post(path, fields, { csrf = true, headers = {} } = {}) {
      const all = csrf ? { _csrf: await client.csrf(), ...fields } : fields;
      return env.app.request(`${ORIGIN}${path}`, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/x-www-form-urlencoded',
          Cookie: client.cookie,
          Origin: ORIGIN,
          ...headers,
        },
        body: formBody(all),
      });
    },
  };
  return client;
}
