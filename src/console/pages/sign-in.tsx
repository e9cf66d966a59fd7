import { ErrorBox, Layout } from '../layout';

export interface SignInProps {
  /** Where to go after signing in (a console path). */
  next?: string;
  error?: string;
  notice?: string;
}

/** Sign in with an API key (reader or admin). The key is sent once and kept only as a session. */
export function SignInPage({ next, error, notice }: SignInProps) {
  return (
    <Layout title="Sign in">
      <div class="card signin">
        <h1>Sign in</h1>
        {notice && <div class="notice">{notice}</div>}
        {error && <ErrorBox message={error} />}
        <form method="post" action="/console/sign-in">
          {next && <input type="hidden" name="next" value={next} />}
          <p>
            <label>
              API key (reader or admin)
              <input
                type="password"
                name="key"
                autocomplete="off"
                required
                autofocus
                spellcheck={false}
                placeholder="cts_…"
              />
            </label>
          </p>
          <p class="actions">
            <button type="submit" class="primary">
              Sign in
            </button>
          </p>
        </form>
        <p class="sub">
          Reader keys see traces and trackers; admin keys can also change trackers. Reporter keys cannot sign
          in.
        </p>
      </div>
    </Layout>
  );
}
