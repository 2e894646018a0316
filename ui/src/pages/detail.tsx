// One Flux object: overview, conditions, Events, spec, status, inventory, history, Helm values,
// artifact; actions (reconcile, reconcile with source, suspend, resume, download).

import { useState } from "preact/hooks";
import {
  apiUrl,
  artifactUrl,
  objectPath,
  rollback,
  runAction,
  type Detail,
  type EventRow,
  type Link as LinkT,
  type Revisions,
  type TimelineEntry,
} from "../api";
import { shortRevision } from "./list";
import { useWhoAmI } from "../auth";
import { Ago, Code, Crumbs, Empty, ErrorBox, KeyValue, Link, Section, StatusBadge, Star, Tabs } from "../components/common";
import { expectOutcome, notify } from "../components/toasts";
import { useData, useKeys } from "../hooks";
import { navigate, queryString, useLocation } from "../router";
import { toggleFavorite } from "../store";
import { ProviderInputs, ResourceSetInputs } from "./operator";

/** The RBAC verb each action needs (weir checks it before acting). */
const VERBS: Record<string, string> = { "reconcile-source": "reconcile" };

const ACTION_LABELS: Record<string, string> = {
  reconcile: "Reconcile",
  "reconcile-source": "Reconcile with source",
  suspend: "Suspend",
  resume: "Resume",
};

export function ResourceDetail(props: { kind: string; namespace: string; name: string }) {
  const key = `${props.kind}/${props.namespace}/${props.name}`;
  const loc = useLocation();
  const path = objectPath(key);
  const { data, error } = useData<Detail>(apiUrl(path), (c) => c.key === key || c.group === "flux");
  const events = useData<{ items: EventRow[] }>(apiUrl(`${path}/events`), (c) => c.key === key && c.group === "event");
  const [busy, setBusy] = useState<string | null>(null);

  const tabs: [string, string][] = [
    ["overview", "Overview"],
    ["conditions", "Conditions"],
    ["events", "Events"],
    ["spec", "Spec"],
    ["status", "Status"],
  ];
  if (data && (data.row.kind === "Kustomization" || data.row.kind === "HelmRelease")) tabs.push(["inventory", "Inventory"]);
  if (data && data.timeline.length) tabs.push(["history", "History"]);
  if (data?.values) tabs.push(["values", "Values"]);
  if (data?.artifact) tabs.push(["artifact", "Artifact"]);
  tabs.push(["yaml", "YAML"]);
  const tab = tabs.some(([id]) => id === loc.query.get("tab")) ? loc.query.get("tab")! : "overview";
  const selectTab = (id: string) => navigate(`${path}${queryString({ tab: id === "overview" ? undefined : id })}`, true);

  const who = useWhoAmI();
  const actionsOn = who?.actions ?? true;
  const act = async (action: string) => {
    setBusy(action);
    try {
      const result = await runAction(key, action);
      if (result.actionId) expectOutcome(result.actionId, `${ACTION_LABELS[action]} ${key}`); // a second toast
      if (action === "suspend") notify("ok", `${ACTION_LABELS[action]} ${key}: done`); // complete at once
      else notify("info", `${ACTION_LABELS[action]} requested for ${key}`);
    } catch (e) {
      notify("error", `${ACTION_LABELS[action]} failed: ${(e as Error).message}`, 10000);
    } finally {
      setBusy(null);
    }
  };

  useKeys(
    (e) => {
      const i = tabs.findIndex(([id]) => id === tab);
      if (e.key === "]") {
        selectTab(tabs[(i + 1) % tabs.length][0]);
        return true;
      }
      if (e.key === "[") {
        selectTab(tabs[(i - 1 + tabs.length) % tabs.length][0]);
        return true;
      }
      if (e.key === "f") {
        toggleFavorite(key);
        return true;
      }
      if (e.key === "r" && actionsOn && data?.actions.includes("reconcile") && data.allowed?.reconcile !== false) {
        void act("reconcile");
        return true;
      }
      return false;
    },
  );

  if (!data) return error ? <ErrorBox error={error} /> : <p class="loading">Loading…</p>;
  const row = data.row;
  return (
    <div data-view="detail" data-key={key}>
      <Crumbs
        links={[
          [`resources${queryString({ kind: row.kind })}`, row.kind],
          [`resources${queryString({ namespace: row.namespace })}`, row.namespace],
        ]}
        current={row.name}
      />
      <div class="page-head detail-head">
        <Star objKey={key} />
        <h1>{row.name}</h1>
        <StatusBadge status={row.status} />
        <div class="actions">
          {data.actions
            .filter((a) => a !== "download")
            .map((a) => {
              const granted = data.allowed?.[a] !== false;
              const why = !actionsOn
                ? (who?.actionsDisabledReason ?? undefined)
                : granted
                  ? undefined
                  : `Your role does not grant "${VERBS[a] ?? a}" on ${row.kind} in ${row.namespace}`;
              return (
                <button
                  class={`action ${a === "suspend" ? "warn" : ""}`}
                  data-action={a}
                  disabled={busy !== null || !actionsOn || !granted}
                  title={why}
                  onClick={() => act(a)}
                >
                  {busy === a ? "…" : ACTION_LABELS[a]}
                </button>
              );
            })}
          {data.actions.includes("download") &&
            (data.allowed?.download === false ? (
              <button class="action" data-action="download" disabled title={`Your role does not grant "download" on ${row.kind} in ${row.namespace}`}>
                Download artifact
              </button>
            ) : (
              <a class="button action" href={artifactUrl(key)} download data-action="download">
                Download artifact
              </a>
            ))}
          <Link href={`graph${queryString({ focus: key })}`} class="button" data-action="graph">
            Graph
          </Link>
        </div>
      </div>
      <p class={`status-line st-${row.status}`} data-testid="status-line">
        {row.reason && <strong>{row.reason}: </strong>}
        {row.message || "No status yet."}
      </p>
      <ErrorBox error={error} />
      <Tabs tabs={tabs} active={tab} onSelect={selectTab} />
      <div class="tab-body" data-tab-body={tab}>
        {tab === "overview" && <Overview data={data} />}
        {tab === "conditions" && <Conditions data={data} />}
        {tab === "events" && <Events items={events.data?.items ?? []} />}
        {tab === "spec" && <Code text={data.yaml.spec} />}
        {tab === "status" && <Code text={data.yaml.status} empty="No status yet." />}
        {tab === "inventory" && <Inventory items={data.inventory} />}
        {tab === "history" && (data.row.kind === "HelmRelease" ? <ReleaseHistory objKey={key} path={path} timeline={data.timeline} actionsOn={actionsOn} /> : <History items={data.timeline} />)}
        {tab === "values" && <Values data={data} />}
        {tab === "artifact" && <Artifact data={data} objKey={key} />}
        {tab === "yaml" && <Code text={data.yaml.object} />}
      </div>
    </div>
  );
}

function LinkTo({ link }: { link: LinkT | null }) {
  if (!link) return <>—</>;
  const label = `${link.kind}/${link.namespace ? `${link.namespace}/` : ""}${link.name}`;
  return (
    <span class="linkto">
      {link.status && <StatusBadge status={link.status} />}{" "}
      {link.view ? <Link href={objectPath(link.key, link.view)}>{label}</Link> : <span>{label}</span>}
    </span>
  );
}

function Overview({ data }: { data: Detail }) {
  const row = data.row;
  const spec = (data.object.spec ?? {}) as Record<string, unknown>;
  return (
    <div class="grid-2">
      <Section title="Summary">
        <KeyValue
          items={[
            ["Kind", `${row.kind} (${String(data.object.apiVersion)})`],
            ["Namespace", row.namespace],
            ["Status", <StatusBadge status={row.status} />],
            ["Revision", <span class="mono">{row.revision || "—"}</span>],
            ["Last change", <Ago time={row.lastTransition} />],
            ["Last handled request", row.lastHandled ?? "—"],
            ["Interval", String(spec.interval ?? "—")],
            ["Suspended", row.suspended ? "yes" : "no"],
            ["Created", <Ago time={row.created} />],
          ]}
        />
      </Section>
      <Section title="Pipeline">
        <KeyValue
          items={[
            ["Source", <LinkTo link={data.source} />],
            ["Depends on", data.dependsOn.length ? <ul class="plain-list">{data.dependsOn.map((d) => <li><LinkTo link={d} /></li>)}</ul> : "—"],
            [
              "Needed by",
              data.dependents.length ? (
                <ul class="plain-list">
                  {data.dependents.map((d) => (
                    <li>
                      <StatusBadge status={d.status} /> <Link href={objectPath(d.key)}>{d.key}</Link>
                    </li>
                  ))}
                </ul>
              ) : (
                "—"
              ),
            ],
            ["Applied by", data.managers.length ? <ul class="plain-list">{data.managers.map((m) => <li><LinkTo link={m} /></li>)}</ul> : "—"],
            ["Manages", data.inventory.length ? `${data.inventory.length} objects` : "—"],
          ]}
        />
      </Section>
      {row.kind === "ResourceSet" && <ResourceSetInputs object={data.object as Record<string, unknown>} />}
      {row.kind === "ResourceSetInputProvider" && <ProviderInputs object={data.object as Record<string, unknown>} />}
    </div>
  );
}

function Conditions({ data }: { data: Detail }) {
  if (!data.conditions.length) return <Empty>No conditions yet.</Empty>;
  return (
    <div class="table-wrap">
      <table class="rows">
        <thead>
          <tr>
            <th>Type</th>
            <th>Status</th>
            <th>Reason</th>
            <th class="wide">Message</th>
            <th>Changed</th>
          </tr>
        </thead>
        <tbody>
          {data.conditions.map((c) => (
            <tr data-condition={c.type}>
              <td data-label="Type"><strong>{c.type}</strong></td>
              <td data-label="Status">{c.status}</td>
              <td data-label="Reason">{c.reason}</td>
              <td data-label="Message" class="message wide">{c.message}</td>
              <td data-label="Changed"><Ago time={c.lastTransitionTime} /></td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function Events({ items }: { items: EventRow[] }) {
  if (!items.length) return <Empty>No Events (Kubernetes keeps them for about an hour).</Empty>;
  return (
    <ul class="feed" data-testid="events">
      {items.map((e) => (
        <li class={e.type === "Warning" ? "warn" : ""}>
          <Ago time={e.time} />
          <span class={`pill ${e.type === "Warning" ? "pill-warn" : ""}`}>{e.reason}</span>
          {e.count > 1 && <span class="muted">×{e.count}</span>}
          <span class="message">{e.message}</span>
          <span class="muted small">{e.component}</span>
        </li>
      ))}
    </ul>
  );
}

function Inventory({ items }: { items: LinkT[] }) {
  if (!items.length) return <Empty>Nothing applied yet.</Empty>;
  return (
    <div class="table-wrap">
      <table class="rows" data-testid="inventory">
        <thead>
          <tr>
            <th>Kind</th>
            <th>Namespace</th>
            <th>Name</th>
            <th>Status</th>
          </tr>
        </thead>
        <tbody>
          {items.map((i) => (
            <tr data-key={i.key}>
              <td data-label="Kind" class="kind">{i.kind}<span class="muted small"> {i.apiVersion}</span></td>
              <td data-label="Namespace">{i.namespace || "—"}</td>
              <td data-label="Name">{i.view ? <Link href={objectPath(i.key, i.view)}>{i.name}</Link> : i.name}</td>
              <td data-label="Status">{i.status ? <StatusBadge status={i.status} /> : <span class="muted">—</span>}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function History({ items }: { items: TimelineEntry[] }) {
  // A timeline, newest first: when, revision, result, duration, what changed. Digests are cut
  // to a few characters (the whole one in the title) so they never push the rest off-screen.
  return (
    <ol class="timeline" data-testid="history">
      {items.map((e, i) => (
        <li class={`tl-${e.outcome}`} data-index={i} data-outcome={e.outcome}>
          <div class="tl-head">
            <span class={`pill tl-result ${e.outcome === "failed" ? "pill-warn" : e.outcome === "ok" ? "pill-ok" : ""}`} data-field="result">
              {e.result || "—"}
            </span>
            <span class="mono tl-revision" data-field="revision" title={e.revision ?? ""}>
              {e.revision ? shortRevision(e.revision) : "—"}
            </span>
            <span class="muted small" data-field="when">
              <Ago time={e.when} />
              {e.since && e.since !== e.when && (
                <>
                  {" "}(first <Ago time={e.since} />)
                </>
              )}
            </span>
            {e.duration && (
              <span class="muted small" data-field="duration">
                took {e.duration}
              </span>
            )}
            {e.appVersion && <span class="muted small">app {e.appVersion}</span>}
            {e.digest && (
              <span class="mono small muted digest" title={e.digest} data-field="digest">
                {e.digest}
              </span>
            )}
          </div>
          {e.changes.length > 0 && (
            <ul class="tl-changes small" data-field="changes">
              {e.changes.map((c) => (
                <li>{c}</li>
              ))}
            </ul>
          )}
        </li>
      ))}
    </ol>
  );
}

function show(value: unknown): string {
  if (value === undefined || value === null) return "—";
  return typeof value === "string" ? value : JSON.stringify(value);
}

/** A HelmRelease's release revisions (Helm's storage), newest first: what each changed against
 * the one before it (chart, app version, values paths), and a guarded rollback to it. */
function ReleaseHistory(props: { objKey: string; path: string; timeline: TimelineEntry[]; actionsOn: boolean }) {
  const { data, error, reload } = useData<Revisions>(apiUrl(`${props.path}/revisions`), (c) => c.key === props.objKey);
  const [busy, setBusy] = useState<number | null>(null);
  if (error) return <><ErrorBox error={`Release revisions: ${error}`} /><History items={props.timeline} /></>;
  if (!data) return <p class="loading">Loading…</p>;
  if (!data.revisions.length) return <History items={props.timeline} />;
  const back = async (version: number) => {
    const ok = window.confirm(
      `Roll ${props.objKey} back to release revision ${version}?\n\nThe HelmRelease is suspended first, so that its controller does not upgrade it straight back; fix Git, then resume it.`,
    );
    if (!ok) return;
    setBusy(version);
    try {
      notify("ok", (await rollback(props.objKey, version)).message, 10000);
      reload();
    } catch (e) {
      notify("error", `Rollback failed: ${(e as Error).message}`, 10000);
    } finally {
      setBusy(null);
    }
  };
  return (
    <div data-testid="release-history">
      {!data.valuesShown && <p class="hint">Your role may not read Secrets in the release's namespace: the changed values paths are listed without their values.</p>}
      {data.unreadable.length > 0 && <p class="hint small">Unreadable in Helm's storage: {data.unreadable.join(", ")}</p>}
      <ol class="timeline">
        {data.revisions.map((r) => {
          const c = r.changes;
          const failed = /fail/i.test(r.status);
          return (
            <li class={`tl-${failed ? "failed" : r.status === "deployed" || r.status === "superseded" ? "ok" : "other"}`} data-revision={r.version}>
              <div class="tl-head">
                <span class={`pill ${failed ? "pill-warn" : r.current ? "pill-ok" : ""}`}>v{r.version} {r.status}</span>
                <span class="mono small">
                  {r.chart} {r.chartVersion}
                </span>
                {r.appVersion && <span class="muted small">app {r.appVersion}</span>}
                <span class="muted small">
                  <Ago time={r.deployed} />
                </span>
                {!r.current && (
                  <button
                    class="action warn small"
                    data-action="rollback"
                    data-revision={r.version}
                    disabled={busy !== null || !props.actionsOn || !data.allowed}
                    title={data.allowed ? `Roll back to revision ${r.version}` : 'Your role does not grant "rollback" on this HelmRelease'}
                    onClick={() => back(r.version)}
                  >
                    {busy === r.version ? "…" : "Roll back to this"}
                  </button>
                )}
              </div>
              {r.description && <p class="small muted">{r.description}</p>}
              {(c.chart || c.appVersion || c.values.length > 0) && (
                <ul class="tl-changes small" data-field="changes">
                  {c.chart && (
                    <li>
                      chart {c.chart.before} → {c.chart.after}
                    </li>
                  )}
                  {c.appVersion && (
                    <li>
                      app version {c.appVersion.before || "—"} → {c.appVersion.after || "—"}
                    </li>
                  )}
                  {c.values.map((v) => (
                    <li data-path={v.path}>
                      <span class="mono">{v.path}</span>{" "}
                      {v.change === "onlyInA" ? "removed" : v.change === "onlyInB" ? "added" : "changed"}
                      {"before" in v || "after" in v ? (
                        <span class="mono">
                          : {v.change !== "onlyInB" && show(v.before)}
                          {v.change === "changed" && " → "}
                          {v.change !== "onlyInA" && show(v.after)}
                        </span>
                      ) : null}
                    </li>
                  ))}
                  {c.valuesTruncated && <li class="muted">… more values changed</li>}
                </ul>
              )}
            </li>
          );
        })}
      </ol>
    </div>
  );
}

function Values({ data }: { data: Detail }) {
  const v = data.values!;
  return (
    <div class="grid-2">
      <Section title="Composed values">
        {v.error && <ErrorBox error={v.error} />}
        {v.hiddenSecrets > 0 && <p class="hint">{v.hiddenSecrets} valuesFrom Secret(s) left out: Secret values are never shown.</p>}
        <Code text={v.composedYaml} empty="No values: the chart's defaults apply." />
      </Section>
      <Section title="Sources of values">
        <h3>valuesFrom</h3>
        {v.valuesFrom.length ? (
          <ul class="plain-list">
            {v.valuesFrom.map((r) => (
              <li class="mono small">
                {String(r.kind)}/{String(r.name)} {r.valuesKey ? `key ${String(r.valuesKey)}` : ""} {r.targetPath ? `→ ${String(r.targetPath)}` : ""}
                {r.optional ? " (optional)" : ""}
              </li>
            ))}
          </ul>
        ) : (
          <p class="muted">none</p>
        )}
        <h3>Inline (spec.values)</h3>
        <Code text={v.inlineYaml} empty="none" />
      </Section>
    </div>
  );
}

function Artifact({ data, objKey }: { data: Detail; objKey: string }) {
  const a = (data.artifact ?? {}) as Record<string, unknown>;
  return (
    <Section title="Artifact" extra={<a class="button" href={artifactUrl(objKey)} download>Download</a>}>
      <KeyValue
        items={[
          ["Revision", <span class="mono">{String(a.revision ?? "—")}</span>],
          ["Digest", <span class="mono small">{String(a.digest ?? "—")}</span>],
          ["Size", a.size ? `${Number(a.size).toLocaleString()} bytes` : "—"],
          ["Updated", <Ago time={a.lastUpdateTime as string} />],
          ["Path", <span class="mono small">{String(a.path ?? "—")}</span>],
          ["URL", <span class="mono small">{String(a.url ?? "—")}</span>],
        ]}
      />
    </Section>
  );
}
