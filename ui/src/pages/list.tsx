// The Resources and Workloads lists: search by name (wildcards), kind, namespace and status;
// server-side filtering and pagination; keyboard navigation; every filter in the URL.

import { useEffect, useRef, useState } from "preact/hooks";
import { apiUrl, objectPath, STATUSES, type Page, type Row } from "../api";
import { Ago, Empty, ErrorBox, Link, StatusBadge, Star } from "../components/common";
import { useData, useKeys } from "../hooks";
import { navigate, queryString, useLocation } from "../router";
import { toggleFavorite } from "../store";

const PAGE_SIZE = 100;

export interface ListConfig {
  view: "resources" | "workloads";
  title: string;
  kinds: string[];
}

export function ListView({ config }: { config: ListConfig }) {
  const loc = useLocation();
  const q = loc.query;
  const kind = q.get("kind") ?? "";
  const namespace = q.get("namespace") ?? "";
  const name = q.get("name") ?? "";
  const statuses = q.getAll("status");
  const sort = q.get("sort") ?? "name";
  const [tokens, setTokens] = useState<string[]>([]); // continue tokens of the pages before
  const [selected, setSelectedState] = useState(0);
  const selectedRef = useRef(0); // what the keyboard handler reads: never a stale render
  const setSelected = (index: number) => {
    selectedRef.current = index;
    setSelectedState(index);
  };
  const [search, setSearch] = useState(name);
  const searchRef = useRef<HTMLInputElement>(null);
  const group = config.view === "resources" ? "flux" : "workload";
  const pageToken = tokens[tokens.length - 1];

  const url = apiUrl(config.view, {
    kind,
    namespace,
    name,
    status: statuses,
    sort,
    limit: String(PAGE_SIZE),
    continue: pageToken,
  });
  const { data, error } = useData<Page>(url, (c) => c.group === group);
  const namespaces = useData<{ items: string[] }>(apiUrl("namespaces"), (c) => c.type === "ADDED" || c.type === "DELETED");
  const items = data?.items ?? [];
  // The server names the kinds of ?kind=hr or ?kind=ks,hr canonically: the dropdown shows
  // them (several kinds as one extra option) instead of a blank.
  const kindValue = data?.kinds ? data.kinds.join(",") : kind;

  useEffect(() => setSearch(name), [name]);
  useEffect(() => {
    setTokens([]);
    setSelected(0);
  }, [kind, namespace, name, statuses.join(","), sort]);
  useEffect(() => {
    if (q.get("focus") === "search") searchRef.current?.focus();
  }, []);

  const update = (changes: Record<string, string | string[] | undefined>) => {
    const next = { kind, namespace, name, status: statuses, sort: sort === "name" ? undefined : sort, ...changes };
    navigate(`${config.view}${queryString(next)}`, true);
  };

  useEffect(() => {
    if (search === name) return;
    const timer = window.setTimeout(() => update({ name: search }), 250);
    return () => window.clearTimeout(timer);
  }, [search]);

  const open = (row: Row) => navigate(objectPath(row.key, config.view === "workloads" ? "workload" : "resource"));

  useKeys(
    (e) => {
      const current = selectedRef.current;
      if (e.key === "j" || e.key === "ArrowDown") {
        setSelected(Math.min(current + 1, items.length - 1));
        return true;
      }
      if (e.key === "k" || e.key === "ArrowUp") {
        setSelected(Math.max(current - 1, 0));
        return true;
      }
      if (e.key === "Enter" && items[current]) {
        open(items[current]);
        return true;
      }
      if (e.key === "f" && items[current] && config.view === "resources") {
        toggleFavorite(items[current].key);
        return true;
      }
      if (e.key === "/") {
        searchRef.current?.focus();
        return true;
      }
      if (e.key === "n" && data?.continue) {
        setTokens([...tokens, data.continue]);
        return true;
      }
      if (e.key === "p" && tokens.length) {
        setTokens(tokens.slice(0, -1));
        return true;
      }
      return false;
    },
  );

  useEffect(() => {
    document.querySelector(`tr[data-index="${selected}"]`)?.scrollIntoView({ block: "nearest" });
  }, [selected]);

  const toggleStatus = (s: string) =>
    update({ status: statuses.includes(s) ? statuses.filter((x) => x !== s) : [...statuses, s] });

  return (
    <div data-view={config.view}>
      <div class="page-head">
        <h1>{config.title}</h1>
        {data && (
          <span class="hint" data-testid="total">
            {data.total} {data.total === 1 ? "match" : "matches"}
          </span>
        )}
      </div>
      <div class="filters">
        <input
          ref={searchRef}
          type="search"
          class="search"
          placeholder="Search names: podinfo, app*-prod…  ( / )"
          aria-label="Search by name"
          value={search}
          onInput={(e) => setSearch((e.target as HTMLInputElement).value)}
          onKeyDown={(e) => {
            if (e.key === "Enter") update({ name: search });
            if (e.key === "Escape" || e.key === "ArrowDown") (e.target as HTMLInputElement).blur();
          }}
        />
        <select aria-label="Kind" value={kindValue} onChange={(e) => update({ kind: (e.target as HTMLSelectElement).value })}>
          <option value="">All kinds</option>
          {config.kinds.map((k) => (
            <option value={k}>{k}</option>
          ))}
          {kindValue && !config.kinds.includes(kindValue) && <option value={kindValue}>{kindValue.split(",").join(", ")}</option>}
        </select>
        <select
          aria-label="Namespace"
          value={namespace}
          onChange={(e) => update({ namespace: (e.target as HTMLSelectElement).value })}
        >
          <option value="">All namespaces</option>
          {(namespaces.data?.items ?? []).map((n) => (
            <option value={n}>{n}</option>
          ))}
          {namespace && !(namespaces.data?.items ?? []).includes(namespace) && <option value={namespace}>{namespace}</option>}
        </select>
        <select aria-label="Sort" value={sort} onChange={(e) => update({ sort: (e.target as HTMLSelectElement).value })}>
          <option value="name">Sort: name</option>
          <option value="status">Sort: failing first</option>
          <option value="kind">Sort: kind</option>
        </select>
      </div>
      <div class="chips" role="group" aria-label="Status filter">
        {STATUSES.map((s) => (
          <button class={`chip chip-${s} ${statuses.includes(s) ? "on" : ""}`} aria-pressed={statuses.includes(s)} data-chip={s} onClick={() => toggleStatus(s)}>
            <span class="dot" aria-hidden="true" />
            {s} <span class="count">{data?.counts[s] ?? 0}</span>
          </button>
        ))}
      </div>
      <ErrorBox error={error} />
      {data && items.length === 0 ? (
        <Empty>Nothing matches.</Empty>
      ) : (
        <div class="table-wrap">
          <table class="rows" data-testid="rows">
            <thead>
              <tr>
                {config.view === "resources" && <th class="icon-col" aria-label="Pinned" />}
                <th>Status</th>
                <th>Kind</th>
                <th>Namespace</th>
                <th>Name</th>
                <th>{config.view === "resources" ? "Revision" : "Ready"}</th>
                <th class="wide">{config.view === "resources" ? "Message" : "Managed by"}</th>
                <th>{config.view === "resources" ? "Changed" : "Created"}</th>
              </tr>
            </thead>
            <tbody>
              {items.map((row, i) => (
                <tr
                  key={row.key}
                  data-index={i}
                  data-key={row.key}
                  class={i === selected ? "selected" : ""}
                  onClick={(e) => {
                    if ((e.target as HTMLElement).closest("a,button")) return;
                    setSelected(i);
                    open(row);
                  }}
                >
                  {config.view === "resources" && (
                    <td class="icon-col">
                      <Star objKey={row.key} />
                    </td>
                  )}
                  <td data-label="Status">
                    <StatusBadge status={row.status} />
                  </td>
                  <td data-label="Kind" class="kind">{row.kind}</td>
                  <td data-label="Namespace">{row.namespace}</td>
                  <td data-label="Name" class="name">
                    <Link href={objectPath(row.key, config.view === "workloads" ? "workload" : "resource")}>{row.name}</Link>
                  </td>
                  {config.view === "resources" ? (
                    <>
                      <td data-label="Revision" class="mono small">{shortRevision(row.revision)}</td>
                      <td data-label="Message" class="message wide">{row.message}</td>
                      <td data-label="Changed">
                        <Ago time={row.lastTransition ?? row.created} />
                      </td>
                    </>
                  ) : (
                    <>
                      <td data-label="Ready" class="mono">{row.ready}</td>
                      <td data-label="Managed by" class="wide">
                        {row.manager ? <Link href={objectPath(row.manager)}>{row.manager}</Link> : "—"}
                      </td>
                      <td data-label="Created">
                        <Ago time={row.created} />
                      </td>
                    </>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <div class="pager">
        <button disabled={!tokens.length} onClick={() => setTokens(tokens.slice(0, -1))}>
          ← Previous
        </button>
        <span class="muted">page {tokens.length + 1}</span>
        <button disabled={!data?.continue} onClick={() => data?.continue && setTokens([...tokens, data.continue])}>
          Next →
        </button>
      </div>
    </div>
  );
}

export function shortRevision(revision: string | undefined): string {
  if (!revision) return "—";
  const m = /^(.*@)?(sha1|sha256):([0-9a-f]+)$/.exec(revision);
  return m ? `${m[1] ?? ""}${m[2]}:${m[3].slice(0, 10)}` : revision;
}

export function Favorites({ keys }: { keys: string[] }) {
  const { data } = useData<Page>(keys.length ? apiUrl("resources", { key: keys, limit: "1000" }) : null, (c) => keys.includes(c.key));
  if (!keys.length) return <Empty>No favorites yet: pin objects with ☆ (or f) in the lists and detail pages.</Empty>;
  const found = new Map((data?.items ?? []).map((r) => [r.key, r]));
  return (
    <div class="table-wrap">
      <table class="rows" data-testid="favorites">
        <tbody>
          {keys.map((key) => {
            const row = found.get(key);
            return (
              <tr data-key={key}>
                <td class="icon-col">
                  <Star objKey={key} />
                </td>
                <td>{row ? <StatusBadge status={row.status} /> : <StatusBadge status="missing" />}</td>
                <td>
                  <Link href={objectPath(key)}>{key}</Link>
                </td>
                <td class="message wide">{row?.message ?? ""}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

export function ListLink({ view, params, children }: { view: string; params: Record<string, string>; children: string }) {
  return <Link href={`${view}${queryString(params)}`}>{children}</Link>;
}
