// The sign-in page: paste a token (--web-users-file), or sign in through the identity provider
// (OIDC web config; with autoLogin the browser goes there at once).

import { useEffect, useState } from "preact/hooks";
import { signIn, signInWithProvider, type WhoAmI } from "../auth";

export function SignIn(props: { who: WhoAmI }) {
  const [token, setToken] = useState("");
  const [error, setError] = useState<string | null>(new URLSearchParams(window.location.search).get("signInError"));
  const [busy, setBusy] = useState(false);
  const oidc = props.who.mode === "oidc";
  useEffect(() => {
    if (oidc && props.who.autoLogin && !error) signInWithProvider(props.who);
  }, [oidc]);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await signIn(token.trim());
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };
  if (oidc)
    return (
      <div class="signin" data-view="signin">
        <div class="dialog">
          <h1>
            <span class="logo" aria-hidden="true">≋</span> weir
          </h1>
          <p>Sign in with your organisation's account. You will see what your Kubernetes roles let you see.</p>
          {error && (
            <p class="error" role="alert" data-testid="signin-error">
              {error}
            </p>
          )}
          <button type="button" data-action="sso" onClick={() => signInWithProvider(props.who)}>
            Sign in with SSO
          </button>
        </div>
      </div>
    );
  return (
    <div class="signin" data-view="signin">
      <form class="dialog" onSubmit={submit}>
        <h1>
          <span class="logo" aria-hidden="true">≋</span> weir
        </h1>
        <p>This dashboard needs you to sign in. Your token comes from whoever runs weir.</p>
        <label for="token">Token</label>
        <input
          id="token"
          name="token"
          type="password"
          autocomplete="current-password"
          value={token}
          onInput={(e) => setToken((e.target as HTMLInputElement).value)}
          autofocus
        />
        {error && (
          <p class="error" role="alert" data-testid="signin-error">
            {error}
          </p>
        )}
        <button type="submit" disabled={busy || !token.trim()}>
          {busy ? "Signing in…" : "Sign in"}
        </button>
      </form>
    </div>
  );
}
