// One workload: status, pods, conditions, Events, what applied it, its YAML.

import { apiUrl, objectPath, type WorkloadDetail } from "../api";
import { Ago, Code, Crumbs, Empty, ErrorBox, KeyValue, Link, Section, StatusBadge, Tabs } from "../components/common";
import { useData } from "../hooks";
import { navigate, queryString, useLocation } from "../router";
import { Events } from "./detail";

export function WorkloadView(props: { kind: string; namespace: string; name: string }) {
  const key = `${props.kind}/${props.namespace}/${props.name}`;
  const path = objectPath(key, "workload");
  const loc = useLocation();
  const { data, error } = useData<WorkloadDetail>(apiUrl(path), (c) => c.key === key);
  const tabs: [string, string][] = [
    ["pods", "Pods"],
    ["conditions", "Conditions"],
    ["events", "Events"],
    ["yaml", "YAML"],
  ];
  const tab = tabs.some(([id]) => id === loc.query.get("tab")) ? loc.query.get("tab")! : "pods";
  if (!data) return error ? <ErrorBox error={error} /> : <p class="loading">Loading…</p>;
  const row = data.row;
  const manager = data.managers[0];
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
      <Tabs tabs={tabs} active={tab} onSelect={(id) => navigate(`${path}${queryString({ tab: id === "pods" ? undefined : id })}`, true)} />
      <div class="tab-body">
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
