// One workload: status, pods, conditions, Events, what applied it, its YAML; its actions
// (restart a Deployment/StatefulSet/DaemonSet, run a CronJob's job now) and the log viewer
// (pods' logs read as the signed-in user: follow, per pod and container, search).

import { useEffect, useRef, useState } from "preact/hooks";
import { apiUrl, getJSON, objectPath, runWorkloadAction, type LogLine, type Logs, type WorkloadDetail } from "../api";
import { Ago, Code, Crumbs, Empty, ErrorBox, KeyValue, Link, Section, StatusBadge, Tabs } from "../components/common";
import { notify } from "../components/toasts";
import { useData, useKeys } from "../hooks";
import { navigate, queryString, useLocation } from "../router";
import { useWhoAmI } from "../auth";
import { Events } from "./detail";

const WORKLOAD_ACTIONS: Record<string, [string, string][]> = {
  Deployment: [["restart", "Restart"]],
  StatefulSet: [["restart", "Restart"]],
  DaemonSet: [["restart", "Restart"]],
  CronJob: [["run-job", "Run job now"]],
};
const FOLLOW_MS = 2000;
const MAX_LINES = 5000;

export function WorkloadView(props: { kind: string; namespace: string; name: string }) {
  const key = `${props.kind}/${props.namespace}/${props.name}`;
  const path = objectPath(key, "workload");
  const loc = useLocation();
  const { data, error } = useData<WorkloadDetail>(apiUrl(path), (c) => c.key === key);
  const tabs: [string, string][] = [
    ["pods", "Pods"],
    ["logs", "Logs"],
    ["conditions", "Conditions"],
    ["events", "Events"],
    ["yaml", "YAML"],
  ];
  const tab = tabs.some(([id]) => id === loc.query.get("tab")) ? loc.query.get("tab")! : "pods";
  const selectTab = (id: string) => navigate(`${path}${queryString({ tab: id === "pods" ? undefined : id })}`, true);
  const who = useWhoAmI();
  const [busy, setBusy] = useState<string | null>(null);
  useKeys((e) => {
    const i = tabs.findIndex(([id]) => id === tab);
    if (e.key === "l") {
      selectTab("logs");
      return true;
    }
    if (e.key === "]") {
      selectTab(tabs[(i + 1) % tabs.length][0]);
      return true;
    }
    if (e.key === "[") {
      selectTab(tabs[(i - 1 + tabs.length) % tabs.length][0]);
      return true;
    }
    return false;
  });
  if (!data) return error ? <ErrorBox error={error} /> : <p class="loading">Loading…</p>;
  const row = data.row;
  const manager = data.managers[0];
  const actionsOn = who?.actions ?? true;
  const act = async (action: string, label: string) => {
    if (!window.confirm(`${label}: ${key}?`)) return;
    setBusy(action);
    try {
      notify("ok", (await runWorkloadAction(key, action)).message);
    } catch (e) {
      notify("error", `${label} failed: ${(e as Error).message}`, 10000);
    } finally {
      setBusy(null);
    }
  };
  return (
    <div data-view="workload" data-key={key}>
      <Crumbs
        links={[
          [`workloads${queryString({ kind: row.kind })}`, row.kind],
          [`workloads${queryString({ namespace: row.namespace })}`, row.namespace],
        ]}
        current={row.name}
      />
      <div class="page-head detail-head">
        <h1>{row.name}</h1>
        <StatusBadge status={row.status} />
        <div class="actions">
          {(WORKLOAD_ACTIONS[row.kind] ?? []).map(([a, label]) => {
            const granted = data.allowed?.[a] !== false;
            return (
              <button
                class="action warn"
                data-action={a}
                disabled={busy !== null || !actionsOn || !granted}
                title={!actionsOn ? (who?.actionsDisabledReason ?? undefined) : granted ? undefined : `Your role does not grant "restart" on ${row.kind} in ${row.namespace}`}
                onClick={() => act(a, label)}
              >
                {busy === a ? "…" : label}
              </button>
            );
          })}
          {manager && (
            <Link href={`graph${queryString({ focus: manager.key })}`} class="button">
              Graph
            </Link>
          )}
        </div>
      </div>
      <p class={`status-line st-${row.status}`}>{row.message}</p>
      <div class="grid-2">
        <Section title="Summary">
          <KeyValue
            items={[
              ["Ready", <span class="mono">{row.ready}</span>],
              ["Images", <ul class="plain-list mono small">{(row.images ?? []).map((i) => <li>{i}</li>)}</ul>],
              ["Created", <Ago time={row.created} />],
            ]}
          />
        </Section>
        <Section title="Applied by">
          {data.managers.length ? (
            <ul class="plain-list">
              {data.managers.map((m) => (
                <li>
                  {m.status && <StatusBadge status={m.status} />} <Link href={objectPath(m.key)}>{m.key}</Link>
                </li>
              ))}
            </ul>
          ) : (
            <Empty>Not managed by Flux.</Empty>
          )}
        </Section>
      </div>
      <Tabs tabs={tabs} active={tab} onSelect={selectTab} />
      <div class="tab-body">
        {tab === "logs" && <LogViewer path={path} pods={data.pods.map((p) => p.name)} allowed={data.allowed?.logs !== false} />}
        {tab === "pods" && data.podsError && <ErrorBox error={data.podsError} />}
        {tab === "pods" &&
          (data.pods.length ? (
            <div class="table-wrap">
              <table class="rows" data-testid="pods">
                <thead>
                  <tr>
                    <th>Status</th>
                    <th>Pod</th>
                    <th>Ready</th>
                    <th>Phase</th>
                    <th>Restarts</th>
                    <th>Node</th>
                    <th>Age</th>
                  </tr>
                </thead>
                <tbody>
                  {data.pods.map((p) => (
                    <tr data-pod={p.name}>
                      <td data-label="Status"><StatusBadge status={p.status} /></td>
                      <td data-label="Pod" class="mono small">{p.name}{p.reason && <span class="muted"> ({p.reason})</span>}</td>
                      <td data-label="Ready" class="mono">{p.ready}</td>
                      <td data-label="Phase">{p.phase}</td>
                      <td data-label="Restarts">{p.restarts}</td>
                      <td data-label="Node">{p.node ?? "—"}</td>
                      <td data-label="Age"><Ago time={p.created} /></td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          ) : (
            <Empty>No pods.</Empty>
          ))}
        {tab === "conditions" &&
          (data.conditions.length ? (
            <ul class="plain-list">
              {data.conditions.map((c) => (
                <li>
                  <strong>{c.type}</strong> = {c.status} {c.reason && <span class="muted">({c.reason})</span>} {c.message}
                </li>
              ))}
            </ul>
          ) : (
            <Empty>No conditions.</Empty>
          ))}
        {tab === "events" && <Events items={data.events} />}
        {tab === "yaml" && <Code text={data.yaml.object} />}
      </div>
    </div>
  );
}

/** The log viewer: the last lines of every container (or one pod / container), merged by
 * time; "Follow" asks again every 2 s for lines after the newest one; the search keeps
 * matching lines (! in front: drops them). */
function LogViewer(props: { path: string; pods: string[]; allowed: boolean }) {
  const [pod, setPod] = useState("");
  const [container, setContainer] = useState("");
  const [previous, setPrevious] = useState(false);
  const [follow, setFollow] = useState(true);
  const [search, setSearch] = useState("");
  const [lines, setLines] = useState<LogLine[]>([]);
  const [containers, setContainers] = useState<{ pod: string; container: string }[]>([]);
  const [errors, setErrors] = useState<string[]>([]);
  const [error, setError] = useState<string | null>(null);
  const cursor = useRef<string | null>(null);
  const box = useRef<HTMLPreElement>(null);

  useEffect(() => {
    let stopped = false;
    let timer: number | undefined;
    cursor.current = null;
    setLines([]);
    const read = async () => {
      const params = { pod, container, previous: previous ? "true" : undefined, since: cursor.current ?? undefined, tailLines: "500" };
      try {
        const got = await getJSON<Logs>(apiUrl(`${props.path}/logs`, params));
        if (stopped) return;
        cursor.current = got.cursor;
        setContainers(got.containers);
        setErrors(got.errors);
        setError(null);
        if (got.lines.length) setLines((old) => [...old, ...got.lines].slice(-MAX_LINES));
      } catch (e) {
        if (!stopped) setError((e as Error).message);
      }
      if (!stopped && follow && !previous) timer = window.setTimeout(read, FOLLOW_MS);
    };
    if (props.allowed) void read();
    return () => {
      stopped = true;
      window.clearTimeout(timer);
    };
  }, [props.path, pod, container, previous, follow, props.allowed]);

  useEffect(() => {
    if (follow && box.current) box.current.scrollTop = box.current.scrollHeight;
  }, [lines, follow]);

  if (!props.allowed) return <Empty>Your role does not let you read the logs of these pods (pods/log).</Empty>;
  const needle = search.startsWith("!") ? search.slice(1).toLowerCase() : search.toLowerCase();
  const shown = search
    ? lines.filter((l) => (search.startsWith("!") ? !l.text.toLowerCase().includes(needle) : l.text.toLowerCase().includes(needle)))
    : lines;
  const names = [...new Set(containers.map((c) => c.container))];
  const many = new Set(containers.map((c) => `${c.pod}/${c.container}`)).size > 1;
  return (
    <div class="logs" data-testid="logs">
      <div class="filters">
        <select aria-label="Pod" value={pod} onChange={(e) => setPod((e.target as HTMLSelectElement).value)}>
          <option value="">All pods</option>
          {props.pods.map((p) => (
            <option value={p}>{p}</option>
          ))}
        </select>
        <select aria-label="Container" value={container} onChange={(e) => setContainer((e.target as HTMLSelectElement).value)}>
          <option value="">All containers</option>
          {names.map((c) => (
            <option value={c}>{c}</option>
          ))}
        </select>
        <input type="search" aria-label="Search the log" placeholder="search (! excludes)" value={search} onInput={(e) => setSearch((e.target as HTMLInputElement).value)} />
        <label class="check">
          <input type="checkbox" checked={follow} onChange={(e) => setFollow((e.target as HTMLInputElement).checked)} /> Follow
        </label>
        <label class="check">
          <input type="checkbox" checked={previous} onChange={(e) => setPrevious((e.target as HTMLInputElement).checked)} /> Previous container
        </label>
        <span class="hint">{shown.length} lines</span>
      </div>
      <ErrorBox error={error} />
      {errors.map((e) => (
        <p class="hint small">{e}</p>
      ))}
      <pre class="code log-lines" ref={box} data-testid="log-lines">
        {shown.length
          ? shown.map((l) => (
              <div class="log-line">
                <span class="muted">{l.time.slice(11, 19)} </span>
                {many && <span class="muted">[{l.pod}/{l.container}] </span>}
                {l.text}
              </div>
            ))
          : "No log lines yet."}
      </pre>
    </div>
  );
}
