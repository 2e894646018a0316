// The Events page: Kubernetes Events about Flux objects (reconciliations, failures, who did what
// in the UI), newest first, filtered by kind, namespace, name, severity and reason; every
// filter is in the URL. Only Events in namespaces the signed-in user may read are listed.

import { useEffect, useState } from "preact/hooks";
import { apiUrl, objectPath, type EventRow } from "../api";
import { Ago, Empty, ErrorBox, Link } from "../components/common";
import { useData } from "../hooks";
import { navigate, queryString, useLocation } from "../router";

const KINDS = ["GitRepository", "OCIRepository", "HelmRepository", "HelmChart", "Bucket", "Kustomization", "HelmRelease", "Provider", "Alert", "Receiver"];

export function EventsView() {
  const loc = useLocation();
  const q = loc.query;
  const kind = q.get("kind") ?? "";
  const namespace = q.get("namespace") ?? "";
  const name = q.get("name") ?? "";
  const type = q.get("type") ?? "";
  const reason = q.get("reason") ?? "";
  const [search, setSearch] = useState(name);
  const { data, error } = useData<{ items: EventRow[] }>(
    apiUrl("events", { kind, namespace, name, type, reason, limit: "500" }),
    (c) => c.group === "event" || c.group === "action",
  );
  const namespaces = useData<{ items: string[] }>(apiUrl("namespaces"));
  const update = (changes: Record<string, string | undefined>) =>
    navigate(`events${queryString({ kind, namespace, name, type, reason, ...changes })}`, true);
  useEffect(() => setSearch(name), [name]);
  useEffect(() => {
    if (search === name) return;
    const timer = window.setTimeout(() => update({ name: search }), 250);
    return () => window.clearTimeout(timer);
  }, [search]);
  const items = data?.items ?? [];
  return (
    <div data-view="events">
      <div class="page-head">
        <h1>Events</h1>
        {data && <span class="hint">{items.length} shown</span>}
      </div>
      <div class="filters">
        <input
          type="search"
          aria-label="Object name"
          placeholder="name (wildcards *, ! excludes)"
          value={search}
          onInput={(e) => setSearch((e.target as HTMLInputElement).value)}
        />
        <select aria-label="Kind" value={kind} onChange={(e) => update({ kind: (e.target as HTMLSelectElement).value })}>
          <option value="">All kinds</option>
          {KINDS.map((k) => (
            <option value={k}>{k}</option>
          ))}
        </select>
        <select aria-label="Namespace" value={namespace} onChange={(e) => update({ namespace: (e.target as HTMLSelectElement).value })}>
          <option value="">All namespaces</option>
          {(namespaces.data?.items ?? []).map((n) => (
            <option value={n}>{n}</option>
          ))}
        </select>
        <select aria-label="Severity" value={type} onChange={(e) => update({ type: (e.target as HTMLSelectElement).value })}>
          <option value="">Any severity</option>
          <option value="Warning">Warning</option>
          <option value="Normal">Normal</option>
        </select>
        <select aria-label="Reason" value={reason} onChange={(e) => update({ reason: (e.target as HTMLSelectElement).value })}>
          <option value="">Any reason</option>
          {[...new Set([reason, "WebAction", "ReconciliationSucceeded", "ReconciliationFailed", "BuildFailed", "HealthCheckFailed", "InstallSucceeded", "UpgradeSucceeded", "UpgradeFailed", "Progressing"])]
            .filter(Boolean)
            .map((r) => (
              <option value={r}>{r === "WebAction" ? "WebAction (done in the UI)" : r}</option>
            ))}
        </select>
      </div>
      <ErrorBox error={error} />
      {data && !items.length && <Empty>No Events match (Kubernetes keeps them for about an hour).</Empty>}
      {items.length > 0 && (
        <div class="table-wrap">
          <table class="rows" data-testid="event-table">
            <thead>
              <tr>
                <th>When</th>
                <th>Type</th>
                <th>Reason</th>
                <th>Object</th>
                <th class="wide">Message</th>
                <th>By</th>
              </tr>
            </thead>
            <tbody>
              {items.map((e) => (
                <tr class={e.type === "Warning" ? "warn" : ""} data-event={e.uid} data-object={e.object}>
                  <td data-label="When"><Ago time={e.time} />{e.count > 1 && <span class="muted"> ×{e.count}</span>}</td>
                  <td data-label="Type"><span class={`pill ${e.type === "Warning" ? "pill-warn" : ""}`}>{e.type}</span></td>
                  <td data-label="Reason">{e.reason}</td>
                  <td data-label="Object" class="mono small"><Link href={objectPath(e.object)}>{e.object}</Link></td>
                  <td data-label="Message" class="message wide">{e.message}</td>
                  <td data-label="By" class="small">{e.user || <span class="muted">{e.component}</span>}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}
