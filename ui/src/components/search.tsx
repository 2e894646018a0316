// Quick search (the "/" key): Flux objects and workloads by name, narrowed with "ns:<namespace>"
// and "kind:<kind>" words (kind: takes short names, ks, hr, ...); arrows move, Enter opens,
// Esc closes. It asks the same list endpoints as the pages, so it finds only what the
// signed-in user may see.

import { useEffect, useRef, useState } from "preact/hooks";
import { apiUrl, getJSON, objectPath, type Page, type Row } from "../api";
import { navigate } from "../router";
import { StatusBadge } from "./common";

const WORKLOADS = ["deployment", "statefulset", "daemonset", "job", "cronjob", "deploy", "sts", "ds"];
const WORKLOAD_NAMES: Record<string, string> = { deploy: "Deployment", sts: "StatefulSet", ds: "DaemonSet" };

export interface Query {
  text: string;
  namespace: string;
  kind: string;
}

/** "podinfo ns:apps kind:hr" -> {text: "podinfo", namespace: "apps", kind: "hr"}. */
export function parseQuery(input: string): Query {
  const out: Query = { text: "", namespace: "", kind: "" };
  const words: string[] = [];
  for (const word of input.trim().split(/\s+/)) {
    if (word.startsWith("ns:")) out.namespace = word.slice(3);
    else if (word.startsWith("kind:")) out.kind = word.slice(5);
    else if (word) words.push(word);
  }
  out.text = words.join(" ");
  return out;
}

async function find(q: Query, signal: AbortSignal): Promise<{ row: Row; view: "resource" | "workload" }[]> {
  const workloadKind = WORKLOADS.includes(q.kind.toLowerCase());
  const base = { name: q.text, namespace: q.namespace, limit: "8" };
  const asks: Promise<{ row: Row; view: "resource" | "workload" }[]>[] = [];
  if (!workloadKind)
    asks.push(
      getJSON<Page>(apiUrl("resources", { ...base, kind: q.kind }), signal)
        .then((p) => p.items.map((row) => ({ row, view: "resource" as const })))
        .catch(() => []),
    );
  if (!q.kind || workloadKind)
    asks.push(
      getJSON<Page>(apiUrl("workloads", { ...base, kind: WORKLOAD_NAMES[q.kind.toLowerCase()] ?? q.kind }), signal)
        .then((p) => p.items.map((row) => ({ row, view: "workload" as const })))
        .catch(() => []),
    );
  return (await Promise.all(asks)).flat().slice(0, 12);
}

export function QuickSearch(props: { onClose: () => void }) {
  const [input, setInput] = useState("");
  const [results, setResults] = useState<{ row: Row; view: "resource" | "workload" }[]>([]);
  const [selected, setSelected] = useState(0);
  const field = useRef<HTMLInputElement>(null);
  useEffect(() => field.current?.focus(), []);
  useEffect(() => {
    const q = parseQuery(input);
    if (!q.text && !q.namespace && !q.kind) {
      setResults([]);
      return;
    }
    const controller = new AbortController();
    const timer = window.setTimeout(() => {
      find(q, controller.signal).then((found) => {
        setResults(found);
        setSelected(0);
      });
    }, 120);
    return () => {
      controller.abort();
      window.clearTimeout(timer);
    };
  }, [input]);
  const open = (i: number) => {
    const hit = results[i];
    if (!hit) return;
    props.onClose();
    navigate(objectPath(hit.row.key, hit.view));
  };
  return (
    <div class="overlay" role="dialog" aria-label="Quick search" onClick={props.onClose}>
      <div class="dialog search-dialog" onClick={(e) => e.stopPropagation()}>
        <input
          ref={field}
          type="search"
          data-testid="quick-search"
          placeholder="Search: name  ns:<namespace>  kind:<kind>"
          value={input}
          onInput={(e) => setInput((e.target as HTMLInputElement).value)}
          onKeyDown={(e) => {
            if (e.key === "Escape") props.onClose();
            else if (e.key === "ArrowDown") setSelected((s) => Math.min(s + 1, results.length - 1));
            else if (e.key === "ArrowUp") setSelected((s) => Math.max(s - 1, 0));
            else if (e.key === "Enter") open(selected);
            else return;
            e.preventDefault();
          }}
        />
        <ul class="search-results" data-testid="search-results">
          {results.map((r, i) => (
            <li class={i === selected ? "selected" : ""} data-key={r.row.key} onClick={() => open(i)} onMouseEnter={() => setSelected(i)}>
              <StatusBadge status={r.row.status} />
              <span class="kind">{r.row.kind}</span>
              <span class="mono">
                {r.row.namespace}/{r.row.name}
              </span>
            </li>
          ))}
          {input.trim() && !results.length && <li class="muted">Nothing found.</li>}
        </ul>
        <p class="hint small">
          <kbd>↑</kbd> <kbd>↓</kbd> move · <kbd>Enter</kbd> open · <kbd>Esc</kbd> close · <span class="mono">ns:</span> and{" "}
          <span class="mono">kind:</span> narrow
        </p>
      </div>
    </div>
  );
}
