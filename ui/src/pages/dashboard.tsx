// Dashboard: controller health, counts by kind and status, failing objects first, and the feed
// of recent reconciliations.

import { apiUrl, objectPath, STATUSES, type Overview, type Status } from "../api";
import { Ago, Empty, ErrorBox, Link, Section, StatusBadge } from "../components/common";
import { useData } from "../hooks";
import { queryString } from "../router";

const CONTROLLER_STATUS: Record<string, [Status, string]> = {
  ok: ["ready", "OK"],
  degraded: ["failed", "Degraded"],
  idle: ["unknown", "Idle"],
  syncing: ["progressing", "Syncing"],
};

export function Dashboard() {
  const { data, error } = useData<Overview>(apiUrl("overview"), (c) => c.group !== "action");
  if (!data) return <>{error ? <ErrorBox error={error} /> : <p class="loading">Loading…</p>}</>;
  const t = data.totals;
  return (
    <div class="dashboard" data-view="dashboard">
      <div class="page-head">
        <h1>Dashboard</h1>
        {!data.synced && <span class="hint">caches are still syncing…</span>}
      </div>
      {data.access?.limited && (
        <div class="notice" role="status" data-testid="limited-access">
          <strong>Limited access.</strong> Your Kubernetes roles let you see no Flux objects and no workloads. Ask an administrator to bind
          your group to <span class="mono">flux-web-user</span> (read) or <span class="mono">flux-web-admin</span> (read and act), in a
          namespace or everywhere.
        </div>
      )}
      {data.access?.filtered && !data.access.limited && data.access.namespaces && (
        <p class="hint" data-testid="scope">
          Showing what your roles allow: {data.access.namespaces.length} namespace{data.access.namespaces.length === 1 ? "" : "s"}
          {data.access.namespaces.length <= 6 ? ` (${data.access.namespaces.join(", ")})` : ""}.
        </p>
      )}
      <div class="stats" data-testid="totals">
        <Stat label="Objects" value={t.total} href="resources" />
        <Stat label="Ready" value={t.ready} status="ready" />
        <Stat label="Failing" value={t.failed} status="failed" />
        <Stat label="Progressing" value={t.progressing} status="progressing" />
        <Stat label="Suspended" value={t.suspended} status="suspended" />
        <Stat label="Workloads" value={data.workloads.total} href="workloads" />
      </div>

      <div class="grid-2">
        <Section title={`Failing (${data.failingTotal})`} id="failing">
          {data.failing.length === 0 ? (
            <Empty>Nothing is failing.</Empty>
          ) : (
            <ul class="failing-list">
              {data.failing.map((r) => (
                <li data-key={r.key}>
                  <StatusBadge status={r.status} />
                  <div>
                    <Link href={objectPath(r.key)} class="obj-link">
                      <span class="kind">{r.kind}</span> {r.namespace}/{r.name}
                    </Link>
                    <p class="message">{r.reason ? `${r.reason}: ` : ""}{r.message}</p>
                  </div>
                  <Ago time={r.lastTransition} />
                </li>
              ))}
            </ul>
          )}
          {data.failingTotal > data.failing.length && (
            <Link href={`resources${queryString({ status: "failed" })}`}>All {data.failingTotal} failing objects →</Link>
          )}
        </Section>

        <Section title="Controllers" id="controllers">
          <ul class="controllers">
            {data.controllers.map((c) => (
              <li data-controller={c.name}>
                <StatusBadge status={CONTROLLER_STATUS[c.status][0]} label={CONTROLLER_STATUS[c.status][1]} />
                <div>
                  <strong>{c.name}</strong> <span class="muted">{c.kinds.join(", ")}</span>
                  <p class="message">{c.message}</p>
                  {c.report && c.report.length > 0 && (
                    <ul class="muted small report-units" data-testid="report-units">
                      {c.report.map((u) => (
                        <li data-unit={u.name} data-ready={String(u.ready)}>
                          {u.ready ? "✔" : "✖"} {u.name}: {u.status} <span class="image" title={u.image}>({u.image.split("@")[0]})</span>
                        </li>
                      ))}
                    </ul>
                  )}
                  {c.inProcess && (
                    <p class="muted small">
                      runs in this process:{" "}
                      {Object.entries(c.runs)
                        .map(([kind, r]) => `${kind} ${Object.entries(r).map(([k, v]) => `${k} ${v}`).join(", ")}`)
                        .join("; ")}
                    </p>
                  )}
                </div>
              </li>
            ))}
          </ul>
        </Section>
      </div>

      <Section title="By kind and status" id="kinds">
        <div class="table-wrap">
          <table class="counts" data-testid="counts">
            <thead>
              <tr>
                <th>Kind</th>
                <th class="num">Total</th>
                {STATUSES.map((s) => (
                  <th class="num">
                    <StatusBadge status={s} />
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {data.kinds
                .filter((k) => k.total > 0)
                .map((k) => (
                  <tr data-kind={k.kind}>
                    <td>
                      <Link href={`resources${queryString({ kind: k.kind })}`}>{k.kind}</Link>
                    </td>
                    <td class="num" data-count="total">{k.total}</td>
                    {STATUSES.map((s) => (
                      <td class="num" data-count={s}>
                        {k[s] ? <Link href={`resources${queryString({ kind: k.kind, status: s })}`}>{k[s]}</Link> : <span class="muted">0</span>}
                      </td>
                    ))}
                  </tr>
                ))}
            </tbody>
          </table>
          {data.kinds.every((k) => k.total === 0) && <Empty>No Flux objects yet.</Empty>}
        </div>
      </Section>

      <Section title="Recent reconciliations" id="feed">
        {data.feed.length === 0 ? (
          <Empty>No events yet.</Empty>
        ) : (
          <ul class="feed">
            {data.feed.map((e) => (
              <li class={e.type === "Warning" ? "warn" : ""}>
                <Ago time={e.time} />
                <span class={`pill ${e.type === "Warning" ? "pill-warn" : ""}`}>{e.reason}</span>
                <Link href={objectPath(`${e.object}`)} class="obj-link">
                  {e.object}
                </Link>
                <span class="message">{e.message}</span>
              </li>
            ))}
          </ul>
        )}
      </Section>
    </div>
  );
}

function Stat(props: { label: string; value: number; status?: string; href?: string }) {
  const href = props.href ?? `resources${queryString({ status: props.status })}`;
  return (
    <Link href={href} class={`stat ${props.status ? `stat-${props.status}` : ""}`} data-stat={props.label.toLowerCase()}>
      <span class="stat-value">{props.value}</span>
      <span class="stat-label">{props.label}</span>
    </Link>
  );
}
