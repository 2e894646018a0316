// Who is signed in (GET api/v1/auth/whoami), sign-in with a token or through the identity
// provider (OIDC: the browser goes to oauth2/authorize and comes back signed in), sign-out.
// The session is an HttpOnly cookie set by the server, so fetch and EventSource carry it
// without any help here.

import { useEffect, useState } from "preact/hooks";
import { ApiError, apiUrl, getJSON } from "./api";

export interface WhoAmI {
  mode: "none" | "token" | "proxy" | "anonymous" | "oidc";
  authenticated: boolean;
  user: string | null;
  groups: string[];
  /** The name to show (the OIDC profile name), else the user. */
  name?: string | null;
  provider?: string | null;
  sessionStart?: number | null;
  actions: boolean;
  actionsDisabledReason: string | null;
  /** OIDC: where sign-in starts (relative to the base path). */
  signInURL?: string | null;
  autoLogin?: boolean;
}

let current: WhoAmI | null = null;
const listeners = new Set<() => void>();

function publish(value: WhoAmI): void {
  current = value;
  listeners.forEach((l) => l());
}

/** No answer from the server about sign-in: behave as a UI without authentication (a 401
 * from any later request asks again). */
export function assumeNoSignIn(): void {
  publish({ mode: "none", authenticated: true, user: null, groups: [], actions: true, actionsDisabledReason: null });
}

export async function refreshWhoAmI(): Promise<WhoAmI> {
  const value = await getJSON<WhoAmI>(apiUrl("auth/whoami"));
  publish(value);
  return value;
}

async function post(path: string, body?: unknown): Promise<WhoAmI> {
  const resp = await fetch(apiUrl(path), {
    method: "POST",
    headers: { "X-Weir-Request": "1", Accept: "application/json", "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await resp.json().catch(() => ({ error: resp.statusText }));
  if (!resp.ok) throw new ApiError(resp.status, (data as { error?: string }).error ?? resp.statusText);
  publish(data as WhoAmI);
  return data as WhoAmI;
}

export const signIn = (token: string) => post("auth/login", { token });

/** Sign out: an OIDC session is ended by the server's logout (and at the provider, when it
 * offers a sign-out page); a token session by the API's. */
export async function signOut(): Promise<void> {
  if (current?.mode === "oidc") {
    const resp = await fetch("logout", { method: "POST", headers: { "X-Weir-Request": "1", Accept: "application/json" } });
    const body = (await resp.json().catch(() => ({}))) as { endSessionURL?: string | null };
    if (body.endSessionURL) {
      window.location.href = body.endSessionURL;
      return;
    }
    await refreshWhoAmI();
    return;
  }
  await post("auth/logout");
}

/** Start an OIDC sign-in that comes back to the page shown now. */
export function signInWithProvider(who: WhoAmI): void {
  const here = window.location.pathname + window.location.search;
  window.location.href = `${who.signInURL ?? "oauth2/authorize"}?redirect=${encodeURIComponent(here)}`;
}

// A request was refused with 401: the session ended (expired, or the server restarted).
window.addEventListener("weir:unauthorized", () => {
  if (current && current.mode !== "none" && current.authenticated) void refreshWhoAmI();
});

export function useWhoAmI(): WhoAmI | null {
  const [value, setValue] = useState(current);
  useEffect(() => {
    const update = () => setValue(current);
    listeners.add(update);
    update();
    return () => void listeners.delete(update);
  }, []);
  return value;
}
