// A small router over the History API, relative to the document's <base href> (the server's
// base path), so every view has a deep link.

import { useEffect, useState } from "preact/hooks";

export const basePath = new URL(document.baseURI).pathname.replace(/\/?$/, "/");

export interface Location {
  path: string; // relative to the base path, without leading slash
  query: URLSearchParams;
}

function current(): Location {
  let path = location.pathname;
  if (path.startsWith(basePath)) path = path.slice(basePath.length);
  else path = path.replace(/^\//, "");
  return { path: decodeURI(path).replace(/\/$/, ""), query: new URLSearchParams(location.search) };
}

const listeners = new Set<() => void>();
window.addEventListener("popstate", () => listeners.forEach((l) => l()));

/** Go to ``href`` (relative to the base path, e.g. ``resources?kind=Kustomization``). */
export function navigate(href: string, replace = false): void {
  const url = basePath + href.replace(/^\//, "");
  if (replace) history.replaceState(null, "", url);
  else history.pushState(null, "", url);
  listeners.forEach((l) => l());
  if (!replace) window.scrollTo(0, 0);
}

export function useLocation(): Location {
  const [loc, setLoc] = useState(current);
  useEffect(() => {
    const update = () => setLoc(current());
    listeners.add(update);
    update();
    return () => void listeners.delete(update);
  }, []);
  return loc;
}

/** The query string for ``params`` (empty values dropped). */
export function queryString(params: Record<string, string | string[] | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    for (const item of Array.isArray(v) ? v : [v]) if (item) q.append(k, item);
  }
  const s = q.toString();
  return s ? `?${s}` : "";
}

export function match(pattern: string, path: string): Record<string, string> | null {
  const want = pattern.split("/");
  const got = path.split("/");
  if (want.length !== got.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < want.length; i++) {
    if (want[i].startsWith(":")) params[want[i].slice(1)] = decodeURIComponent(got[i]);
    else if (want[i] !== got[i]) return null;
  }
  return params;
}
