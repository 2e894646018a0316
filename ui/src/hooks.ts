// Data hooks: fetch JSON and fetch it again when a relevant live change arrives.

import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import { getJSON } from "./api";
import { live, type Change, type LiveState } from "./live";

const DEBOUNCE_MS = 120;

export interface Data<T> {
  data: T | null;
  error: string | null;
  loading: boolean;
  reload: () => void;
}

/** GET ``url`` (null: nothing) and reload it when ``relevant`` says a change matters. */
export function useData<T>(url: string | null, relevant?: (c: Change) => boolean): Data<T> {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [tick, setTick] = useState(0);
  const relevantRef = useRef(relevant);
  relevantRef.current = relevant;
  const reload = useCallback(() => setTick((t) => t + 1), []);

  useEffect(() => {
    if (url === null) return;
    const controller = new AbortController();
    setLoading(true);
    getJSON<T>(url, controller.signal)
      .then((body) => {
        setData(body);
        setError(null);
      })
      .catch((e: Error) => {
        if (e.name !== "AbortError") setError(e.message);
      })
      .finally(() => {
        if (!controller.signal.aborted) setLoading(false);
      });
    return () => controller.abort();
  }, [url, tick]);

  useEffect(() => {
    let timer: number | undefined;
    const off = live.subscribe((changes, reset) => {
      const wanted = relevantRef.current;
      if (!wanted) return;
      if (reset || changes.some(wanted)) {
        window.clearTimeout(timer);
        timer = window.setTimeout(reload, DEBOUNCE_MS);
      }
    });
    return () => {
      off();
      window.clearTimeout(timer);
    };
  }, [reload]);

  return { data, error, loading, reload };
}

export function useLiveState(): LiveState {
  const [state, setState] = useState(live.state);
  useEffect(() => {
    const off = live.onState(setState);
    setState(live.state); // a change between the first render and this effect is not lost
    return off;
  }, []);
  return state;
}

let now = Date.now();
const clockListeners = new Set<() => void>();
window.setInterval(() => {
  now = Date.now();
  clockListeners.forEach((l) => l());
}, 15_000);

/** The current time, refreshed every 15 s (for "3m ago" labels). */
export function useNow(): number {
  const [value, setValue] = useState(now);
  useEffect(() => {
    const update = () => setValue(now);
    clockListeners.add(update);
    update();
    return () => void clockListeners.delete(update);
  }, []);
  return value;
}

/** Keyboard shortcuts while the component is mounted; ignored while typing in a field. The
 * latest ``handler`` is used (kept in a ref during render), so it never sees stale state. */
export function useKeys(handler: (e: KeyboardEvent) => boolean | void): void {
  const ref = useRef(handler);
  ref.current = handler;
  useEffect(() => {
    const listener = (e: KeyboardEvent) => {
      const target = e.target as HTMLElement | null;
      const typing = target && (target.tagName === "INPUT" || target.tagName === "SELECT" || target.tagName === "TEXTAREA");
      if (typing || e.ctrlKey || e.metaKey || e.altKey) return;
      if (ref.current(e) === true) e.preventDefault();
    };
    window.addEventListener("keydown", listener);
    return () => window.removeEventListener("keydown", listener);
  }, []);
}
