// The JSON API: types of what it returns and small fetch helpers. Every URL is relative to
// the document's <base href>, so the UI works under any base path.

import type { Graph, GraphEdge, GraphNode, Row } from "./generated/api-types";

// Row and the graph are generated from weir/web/schema.py (scripts/gen-ui-types.sh).
export type { Graph, GraphEdge, GraphNode, Row };

export type Status = "ready" | "failed" | "progressing" | "suspended" | "unknown";
export const STATUSES: Status[] = ["failed", "progressing", "unknown", "suspended", "ready"];

export interface Page {
  items: Row[];
  total: number;
  counts: Record<string, number>;
  continue: string | null;
  /** The kinds of the query, canonical (``hr`` -> ``HelmRelease``); null: every kind. */
  kinds: string[] | null;
}

export interface Link {
  key: string;
  kind: string;
  namespace: string;
  name: string;
  view: "resource" | "workload" | null;
  status: Status | null;
  message?: string | null;
  apiVersion?: string;
}

export interface EventRow {
  uid: string;
  time: string | null;
  type: string;
  reason: string;
  message: string;
  count: number;
  object: string;
  objectKind: string;
  component: string;
  revision: string;
  namespace?: string;
  /** Who did it (WebAction Events: an action in the UI). */
  user?: string;
}

export interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
}

export interface Controller {
  name: string;
  status: "ok" | "degraded" | "idle" | "syncing";
  kinds: string[];
  objects: number;
  unattended: number;
  runs: Record<string, Record<string, number>>;
  inProcess: boolean;
  message: string;
  /** The FluxReport's components of this controller (and its shards), when the operator runs. */
  report?: { name: string; ready: boolean; status: string; image: string }[];
}

export type Counts = Record<Status | "total", number>;

export interface Overview {
  mode: string;
  synced: boolean;
  kinds: ({ kind: string } & Counts)[];
  totals: Counts;
  workloads: Counts;
  failing: Row[];
  failingTotal: number;
  controllers: Controller[];
  feed: EventRow[];
  head: string;
  /** What the signed-in user may see: counts cover it; limited = nothing at all. */
  access?: { filtered: boolean; limited: boolean; namespaces: string[] | null };
}

/** One entry of status.history, as the server reads it (weir/web/history.py). */
export interface TimelineEntry {
  revision: string | null;
  originRevision: string | null;
  when: string | null;
  since: string | null;
  result: string;
  outcome: "ok" | "failed" | "other";
  duration: string | null;
  count: number | null;
  digest: string | null;
  appVersion?: string | null;
  changes: string[];
}

export interface Detail {
  row: Row;
  object: Record<string, unknown>;
  yaml: Record<string, string>;
  conditions: Condition[];
  inventory: Link[];
  history: Record<string, unknown>[];
  timeline: TimelineEntry[];
  artifact: Record<string, unknown> | null;
  source: Link | null;
  dependsOn: Link[];
  dependents: Row[];
  managers: Link[];
  actions: string[];
  /** Whether the signed-in user's RBAC grants each action (the custom verbs). */
  allowed?: Record<string, boolean>;
  values: {
    inline: unknown;
    inlineYaml: string;
    valuesFrom: Record<string, unknown>[];
    composedYaml: string;
    hiddenSecrets: number;
    error: string | null;
  } | null;
}

export interface Pod {
  name: string;
  phase: string;
  status: Status;
  ready: string;
  restarts: number;
  node: string | null;
  ip: string | null;
  created: string | null;
  reason: string;
  containers: { name: string; image: string; ready: boolean; restarts: number; state: string; reason: string }[];
}

export interface WorkloadDetail {
  row: Row;
  object: Record<string, unknown>;
  yaml: Record<string, string>;
  conditions: Condition[];
  pods: Pod[];
  podsError?: string | null;
  events: EventRow[];
  managers: Link[];
  /** The workload's actions (restart, run-job) and logs, and whether RBAC grants them. */
  allowed?: Record<string, boolean>;
}

export interface LogLine {
  time: string;
  pod: string;
  container: string;
  text: string;
}

export interface Logs {
  lines: LogLine[];
  containers: { pod: string; container: string }[];
  errors: string[];
  cursor: string | null;
}

/** Restart a workload or run a CronJob's job. */
export async function runWorkloadAction(key: string, action: string): Promise<{ message: string; job?: string }> {
  const path = `${objectPath(key, "workload")}/${action}`;
  return parse(await fetch(apiUrl(path), { method: "POST", headers: { "X-Weir-Request": "1", Accept: "application/json" } }));
}

export interface KindInfo {
  kind: string;
  apiVersion: string;
  plural: string;
  shortNames: string[];
  category: string;
  suspendable: boolean;
  hasStatus: boolean;
  hasArtifact: boolean;
}

export class ApiError extends Error {
  constructor(
    public status: number,
    message: string,
  ) {
    super(message);
  }
}

/** An API URL (relative to <base href>) with query parameters; arrays repeat the key. */
export function apiUrl(path: string, params: Record<string, string | string[] | undefined | null> = {}): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined || value === null || value === "") continue;
    for (const v of Array.isArray(value) ? value : [value]) if (v) search.append(key, v);
  }
  const query = search.toString();
  return `api/v1/${path}${query ? `?${query}` : ""}`;
}

async function parse<T>(resp: Response): Promise<T> {
  const body = await resp.json().catch(() => ({ error: resp.statusText }));
  if (resp.status === 401) window.dispatchEvent(new Event("weir:unauthorized"));
  if (!resp.ok) throw new ApiError(resp.status, (body as { error?: string }).error ?? resp.statusText);
  return body as T;
}

export async function getJSON<T>(url: string, signal?: AbortSignal): Promise<T> {
  return parse<T>(await fetch(url, { signal, headers: { Accept: "application/json" } }));
}

export interface ActionResult {
  action: string;
  key: string;
  actionId: string | null;
  row: Row;
}

/** Run an action on a Flux object (the header marks the request as the UI's own). */
export async function runAction(key: string, action: string): Promise<ActionResult> {
  const [kind, namespace, name] = splitKey(key);
  const path = `resources/${enc(kind)}/${enc(namespace)}/${enc(name)}/${action}`;
  return parse<ActionResult>(
    await fetch(apiUrl(path), { method: "POST", headers: { "X-Weir-Request": "1", Accept: "application/json" } }),
  );
}

export function enc(part: string): string {
  return encodeURIComponent(part);
}

export function splitKey(key: string): [string, string, string] {
  const [kind, namespace, ...rest] = key.split("/");
  return [kind, namespace, rest.join("/")];
}

export function objectPath(key: string, view: "resource" | "workload" = "resource"): string {
  const [kind, namespace, name] = splitKey(key);
  return `${view === "workload" ? "workloads" : "resources"}/${enc(kind)}/${enc(namespace)}/${enc(name)}`;
}

export function artifactUrl(key: string): string {
  return apiUrl(`${objectPath(key)}/artifact`);
}

export interface ValueChange {
  path: string;
  change: "changed" | "onlyInA" | "onlyInB";
  before?: unknown;
  after?: unknown;
  secret?: boolean;
}

export interface ReleaseRevision {
  version: number;
  status: string;
  chart: string;
  chartVersion: string;
  appVersion: string;
  deployed: string | null;
  description: string;
  current: boolean;
  changes: {
    chart: { before: string; after: string } | null;
    appVersion: { before: string; after: string } | null;
    values: ValueChange[];
    valuesTruncated: boolean;
  };
}

export interface Revisions {
  revisions: ReleaseRevision[];
  unreadable: string[];
  valuesShown: boolean;
  allowed: boolean;
}

/** Roll a HelmRelease back to a release revision (it is suspended first). */
export async function rollback(key: string, revision: number): Promise<{ message: string }> {
  const path = `${objectPath(key)}/rollback`;
  return parse(
    await fetch(apiUrl(path, { revision: String(revision) }), {
      method: "POST",
      headers: { "X-Weir-Request": "1", Accept: "application/json" },
    }),
  );
}
