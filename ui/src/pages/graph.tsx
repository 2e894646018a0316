// The GitOps pipeline graph, laid out by dagre: sources -> Kustomizations -> HelmReleases ->
// workloads, plus the dependsOn DAG; nodes coloured by live status, every node clickable.

import dagre from "@dagrejs/dagre";
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { apiUrl, objectPath, type Graph as GraphT, type GraphNode } from "../api";
import { Empty, ErrorBox, Link } from "../components/common";
import { useData } from "../hooks";
import { navigate, queryString, useLocation } from "../router";

const NODE_W = 210;
const NODE_H = 48;

const GROUP_HEAD = 26;
const GROUP_PAD = 12;

/** A box of the drawing: one object, or a folded group of them. */
interface Box {
  id: string;
  node?: GraphNode;
  group?: { id: string; label: string; count: number; status: GraphNode["status"]; failing: number };
}

interface Placed {
  box: Box;
  x: number;
  y: number;
}

interface Cluster {
  id: string;
  label: string;
  x: number;
  y: number;
  width: number;
  height: number;
}

interface Layout {
  nodes: Placed[];
  clusters: Cluster[];
  edges: { points: { x: number; y: number }[]; type: string; from: string; to: string }[];
  width: number;
  height: number;
}

const RANK: Record<string, number> = { failed: 0, missing: 1, progressing: 2, unknown: 3, suspended: 4, ready: 5 };

export function groupLabel(id: string): string {
  return id.startsWith("Namespace/") ? `namespace ${id.slice(10)}` : id;
}

/** The graph with every group not in ``expanded`` folded into one box (worst status of its
 * members, edges between groups merged). */
export function fold(graph: GraphT, expanded: Set<string>): { boxes: Box[]; edges: { from: string; to: string; type: string }[]; parent: Map<string, string> } {
  const boxOf = new Map<string, string>();
  const groups = new Map<string, GraphNode[]>();
  const boxes: Box[] = [];
  const parent = new Map<string, string>();
  for (const n of graph.nodes) {
    const g = n.group ?? null;
    if (g) {
      if (!groups.has(g)) groups.set(g, []);
      groups.get(g)!.push(n);
    }
    if (g && !expanded.has(g)) boxOf.set(n.id, `group:${g}`);
    else {
      boxOf.set(n.id, n.id);
      boxes.push({ id: n.id, node: n });
      if (g) parent.set(n.id, `cluster:${g}`);
    }
  }
  for (const [g, members] of groups) {
    if (expanded.has(g)) continue;
    const worst = members.reduce((w, m) => ((RANK[m.status] ?? 9) < (RANK[w] ?? 9) ? m.status : w), "ready" as GraphNode["status"]);
    const failing = members.filter((m) => m.status === "failed").length;
    boxes.push({ id: `group:${g}`, group: { id: g, label: groupLabel(g), count: members.length, status: worst, failing } });
  }
  const seen = new Set<string>();
  const edges = [];
  for (const e of graph.edges) {
    const from = boxOf.get(e.from) ?? e.from;
    const to = boxOf.get(e.to) ?? e.to;
    const k = `${from}>${to}>${e.type}`;
    if (from === to || seen.has(k)) continue;
    seen.add(k);
    edges.push({ from, to, type: e.type });
  }
  return { boxes, edges, parent };
}

function layoutPart(
  boxes: Box[],
  edges: { from: string; to: string; type: string }[],
  parent: Map<string, string>,
  direction: "LR" | "TB",
): Layout {
  const g = new dagre.graphlib.Graph({ multigraph: true, compound: true });
  g.setGraph({ rankdir: direction, nodesep: 18, ranksep: 70, marginx: 10, marginy: 10 });
  g.setDefaultEdgeLabel(() => ({}));
  const clusters = new Set(boxes.map((b) => parent.get(b.id)).filter((c): c is string => !!c));
  for (const c of clusters) g.setNode(c, { paddingTop: GROUP_HEAD + GROUP_PAD, paddingLeft: GROUP_PAD, paddingRight: GROUP_PAD, paddingBottom: GROUP_PAD });
  for (const b of boxes) g.setNode(b.id, { width: NODE_W, height: NODE_H });
  for (const b of boxes) if (parent.has(b.id)) g.setParent(b.id, parent.get(b.id)!);
  edges.forEach((e, i) => g.setEdge(e.from, e.to, { weight: e.type === "dependsOn" ? 1 : 2 }, `${e.type}-${i}`));
  dagre.layout(g);
  const nodes = boxes.map((b) => {
    const p = g.node(b.id);
    return { box: b, x: p.x, y: p.y };
  });
  const placedClusters = [...clusters].map((c) => {
    const p = g.node(c) as unknown as { x: number; y: number; width: number; height: number };
    return { id: c.slice(8), label: groupLabel(c.slice(8)), x: p.x - p.width / 2, y: p.y - p.height / 2, width: p.width, height: p.height };
  });
  const placedEdges = g.edges().map((ref) => {
    const e = g.edge(ref) as unknown as { points: { x: number; y: number }[] };
    return { points: e.points, type: (ref.name ?? "").split("-")[0], from: ref.v, to: ref.w };
  });
  const info = g.graph();
  return { nodes, clusters: placedClusters, edges: placedEdges, width: info.width ?? 0, height: info.height ?? 0 };
}

/** The parts of the drawing that no edge connects (a folded namespace, an open one with what
 * it links to), each laid out by dagre, then set side by side in rows no wider than
 * ``maxWidth``: a fleet of namespaces reads as a grid, not as one endless row. */
function layout(graph: GraphT, direction: "LR" | "TB", expanded: Set<string>, maxWidth: number): Layout {
  const { boxes, edges, parent } = fold(graph, expanded);
  const root = new Map<string, string>(boxes.map((b) => [b.id, b.id]));
  const find = (x: string): string => {
    let r = x;
    while (root.get(r) !== r) r = root.get(r)!;
    root.set(x, r);
    return r;
  };
  const join = (a: string, b: string) => root.set(find(a), find(b));
  for (const e of edges) if (root.has(e.from) && root.has(e.to)) join(e.from, e.to);
  const firstOf = new Map<string, string>();
  for (const [child, cluster] of parent) {
    if (firstOf.has(cluster)) join(child, firstOf.get(cluster)!);
    else firstOf.set(cluster, child);
  }
  const parts = new Map<string, Box[]>();
  for (const b of boxes) {
    const r = find(b.id);
    if (!parts.has(r)) parts.set(r, []);
    parts.get(r)!.push(b);
  }
  const laid = [...parts.values()].map((members) => {
    const ids = new Set(members.map((m) => m.id));
    return layoutPart(members, edges.filter((e) => ids.has(e.from) && ids.has(e.to)), parent, direction);
  });
  laid.sort((a, b) => b.nodes.length - a.nodes.length || a.nodes[0].box.id.localeCompare(b.nodes[0].box.id));
  const out: Layout = { nodes: [], clusters: [], edges: [], width: 0, height: 0 };
  let x = 0;
  let y = 0;
  let rowHeight = 0;
  for (const part of laid) {
    if (x > 0 && x + part.width > maxWidth) {
      x = 0;
      y += rowHeight;
      rowHeight = 0;
    }
    out.nodes.push(...part.nodes.map((n) => ({ ...n, x: n.x + x, y: n.y + y })));
    out.clusters.push(...part.clusters.map((c) => ({ ...c, x: c.x + x, y: c.y + y })));
    out.edges.push(...part.edges.map((e) => ({ ...e, points: e.points.map((p) => ({ x: p.x + x, y: p.y + y })) })));
    x += part.width;
    rowHeight = Math.max(rowHeight, part.height);
    out.width = Math.max(out.width, x);
    out.height = Math.max(out.height, y + rowHeight);
  }
  return out;
}

/** How wide a row of the drawing may be: the screen at full size, or, on a phone, what fits
 * at 70 % (two folded groups side by side). */
function rowWidth(): number {
  const screen = window.innerWidth - 60;
  return screen >= 700 ? screen : Math.max(2 * (NODE_W + 30), screen / 0.7);
}

function path(points: { x: number; y: number }[]): string {
  if (points.length < 2) return "";
  let d = `M${points[0].x},${points[0].y}`;
  for (let i = 1; i < points.length - 1; i++) {
    const mid = { x: (points[i].x + points[i + 1].x) / 2, y: (points[i].y + points[i + 1].y) / 2 };
    d += ` Q${points[i].x},${points[i].y} ${mid.x},${mid.y}`;
  }
  const last = points[points.length - 1];
  return `${d} L${last.x},${last.y}`;
}

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** Folded at first when there are more boxes than this (a fleet does not fit on a screen). */
const FOLD_ABOVE = 40;

export function GraphView() {
  const loc = useLocation();
  const namespace = loc.query.get("namespace") ?? "";
  const focus = loc.query.get("focus") ?? "";
  // All namespaces: grouped by namespace unless asked otherwise; one namespace or a focus: not.
  const group = loc.query.get("group") ?? (namespace || focus ? "none" : "namespace");
  const [direction, setDirection] = useState<"LR" | "TB">(window.innerWidth < 700 ? "TB" : "LR");
  const { data, error } = useData<GraphT>(
    apiUrl("graph", { namespace, focus, group: group === "none" ? undefined : group }),
    (c) => c.group === "flux" || c.group === "workload",
  );
  const namespaces = useData<{ items: string[] }>(apiUrl("namespaces"));
  const [expanded, setExpanded] = useState<Set<string> | null>(null);
  const groupIds = useMemo(() => [...new Set((data?.nodes ?? []).map((n) => n.group).filter((g): g is string => !!g))], [data]);
  // The first answer decides what is open: everything when it is small or one group.
  useEffect(() => {
    if (!data || expanded !== null) return;
    setExpanded(groupIds.length <= 1 || data.nodes.length <= FOLD_ABOVE ? new Set(groupIds) : new Set());
  }, [data]);
  const open = expanded ?? new Set<string>();
  const placed = useMemo(() => (data && data.nodes.length ? layout(data, direction, open, rowWidth()) : null), [data, direction, expanded]);
  const box = useRef<HTMLDivElement>(null);
  const [zoom, setZoom] = useState(1);
  const [pan, setPan] = useState({ x: 0, y: 0 });
  const fitted = useRef(false);
  const drag = useRef<{ x: number; y: number; px: number; py: number } | null>(null);
  const fit = () => {
    if (!placed || !box.current) return;
    const width = box.current.clientWidth - 8;
    const height = Math.max(240, window.innerHeight - box.current.getBoundingClientRect().top - 16);
    setZoom(Math.min(1, width / placed.width, height / placed.height));
    setPan({ x: 0, y: 0 });
  };
  // Fit the screen on first paint (and when the grouping changes).
  useEffect(() => {
    if (placed && !fitted.current) {
      fitted.current = true;
      fit();
    }
  }, [placed]);

  const update = (params: Record<string, string | undefined>) => {
    navigate(`graph${queryString({ namespace, focus, group: loc.query.get("group") ?? undefined, ...params })}`, true);
    setExpanded(null);
    fitted.current = false;
  };
  const toggle = (id: string) => {
    const next = new Set(open);
    if (next.has(id)) next.delete(id);
    else next.add(id);
    setExpanded(next);
  };

  return (
    <div data-view="graph">
      <div class="page-head">
        <h1>Pipeline graph</h1>
        {data && <span class="hint">{data.nodes.length} nodes{data.truncated ? ` of ${data.total} (narrow the scope)` : ""}</span>}
      </div>
      <div class="filters">
        <select aria-label="Namespace" value={namespace} onChange={(e) => update({ namespace: (e.target as HTMLSelectElement).value, focus: undefined })}>
          <option value="">All namespaces</option>
          {(namespaces.data?.items ?? []).map((n) => (
            <option value={n}>{n}</option>
          ))}
        </select>
        {focus && (
          <span class="focus-chip">
            focus: <Link href={objectPath(focus, focus.split("/")[0].match(/^(Deployment|StatefulSet|DaemonSet|Job|CronJob)$/) ? "workload" : "resource")}>{focus}</Link>
            <button aria-label="Clear focus" onClick={() => update({ focus: undefined })}>
              ×
            </button>
          </span>
        )}
        <select aria-label="Group" data-testid="graph-group" value={group} onChange={(e) => update({ group: (e.target as HTMLSelectElement).value })}>
          <option value="none">No groups</option>
          <option value="namespace">Group by namespace</option>
          <option value="kustomization">Group by Kustomization</option>
        </select>
        {groupIds.length > 1 && (
          <>
            <button onClick={() => setExpanded(new Set(groupIds))} data-action="expand-all">Expand all</button>
            <button onClick={() => setExpanded(new Set())} data-action="collapse-all">Collapse all</button>
          </>
        )}
        <button onClick={() => setDirection(direction === "LR" ? "TB" : "LR")}>{direction === "LR" ? "Top-down" : "Left-right"}</button>
        <button onClick={() => setZoom((z) => Math.min(z * 1.25, 3))} aria-label="Zoom in">+</button>
        <button onClick={() => setZoom((z) => Math.max(z / 1.25, 0.05))} aria-label="Zoom out">−</button>
        <button onClick={fit} data-action="fit">Fit</button>
      </div>
      <div class="legend">
        <span><i class="swatch st-ready" /> ready</span>
        <span><i class="swatch st-failed" /> failed</span>
        <span><i class="swatch st-progressing" /> progressing</span>
        <span><i class="swatch st-suspended" /> suspended</span>
        <span><i class="line solid" /> source / inputs / manages</span>
        <span><i class="line dashed" /> dependsOn</span>
      </div>
      <ErrorBox error={error} />
      {data && !placed && <Empty>Nothing to draw here yet.</Empty>}
      {placed && (
        <div
          class="graph-box"
          ref={box}
          onWheel={(e) => {
            e.preventDefault();
            setZoom((z) => Math.min(3, Math.max(0.05, z * (e.deltaY < 0 ? 1.1 : 1 / 1.1))));
          }}
          onPointerDown={(e) => {
            if ((e.target as Element).closest(".gnode, .gcluster-head")) return;
            drag.current = { x: e.clientX, y: e.clientY, px: pan.x, py: pan.y };
            (e.currentTarget as HTMLElement).setPointerCapture(e.pointerId);
          }}
          onPointerMove={(e) => {
            if (drag.current) setPan({ x: drag.current.px + e.clientX - drag.current.x, y: drag.current.py + e.clientY - drag.current.y });
          }}
          onPointerUp={() => (drag.current = null)}
        >
          <svg
            data-testid="graph"
            width={placed.width * zoom}
            height={placed.height * zoom}
            viewBox={`0 0 ${placed.width} ${placed.height}`}
            style={{ transform: `translate(${pan.x}px, ${pan.y}px)` }}
            role="img"
            aria-label="Pipeline graph"
          >
            <defs>
              <marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
                <path d="M 0 0 L 10 5 L 0 10 z" class="arrowhead" />
              </marker>
            </defs>
            {placed.clusters.map((c) => (
              <g class="gcluster" data-cluster={c.id}>
                <rect x={c.x} y={c.y} width={c.width} height={c.height} rx="9" />
                <g class="gcluster-head" role="button" tabIndex={0} aria-label={`Collapse ${c.label}`} onClick={() => toggle(c.id)} onKeyDown={(e) => e.key === "Enter" && toggle(c.id)}>
                  <rect x={c.x} y={c.y} width={c.width} height={GROUP_HEAD} rx="9" />
                  <text x={c.x + 10} y={c.y + 17}>▾ {clip(c.label, Math.max(8, Math.floor(c.width / 7.5)))}</text>
                </g>
              </g>
            ))}
            {placed.edges.map((e) => (
              <path d={path(e.points)} class={`gedge gedge-${e.type}`} marker-end="url(#arrow)" data-edge={`${e.from}>${e.to}`} />
            ))}
            {placed.nodes
              .filter((p) => p.box.group)
              .map(({ box: b, x, y }) => {
                const grp = b.group!;
                return (
                  <g
                    class={`gnode ggroup st-${grp.status}`}
                    transform={`translate(${x - NODE_W / 2}, ${y - NODE_H / 2})`}
                    data-group={grp.id}
                    data-status={grp.status}
                    tabIndex={0}
                    role="button"
                    aria-label={`Expand ${grp.label}: ${grp.count} objects`}
                    onClick={() => toggle(grp.id)}
                    onKeyDown={(e) => e.key === "Enter" && toggle(grp.id)}
                  >
                    <title>{`${grp.label}\n${grp.count} objects, ${grp.failing} failing (click to expand)`}</title>
                    <rect width={NODE_W} height={NODE_H} rx="7" />
                    <rect width="6" height={NODE_H} rx="3" class="gnode-bar" />
                    <text x="14" y="18" class="gnode-kind">
                      ▸ {grp.count} objects{grp.failing ? ` · ${grp.failing} failing` : ""}
                    </text>
                    <text x="14" y="36" class="gnode-name">
                      {clip(grp.label, 26)}
                    </text>
                  </g>
                );
              })}
            {placed.nodes
              .flatMap((p) => (p.box.node ? [{ node: p.box.node, x: p.x, y: p.y }] : []))
              .map(({ node, x, y }) => (
              <g
                class={`gnode st-${node.status} ${node.id === focus ? "focused" : ""}`}
                transform={`translate(${x - NODE_W / 2}, ${y - NODE_H / 2})`}
                data-node={node.id}
                data-status={node.status}
                tabIndex={0}
                role="link"
                aria-label={`${node.id}: ${node.status}`}
                onClick={() => navigate(objectPath(node.id, node.view))}
                onKeyDown={(e) => e.key === "Enter" && navigate(objectPath(node.id, node.view))}
              >
                <title>{`${node.id}\n${node.status}: ${node.message}`}</title>
                <rect width={NODE_W} height={NODE_H} rx="7" />
                <rect width="6" height={NODE_H} rx="3" class="gnode-bar" />
                <text x="14" y="18" class="gnode-kind">
                  {node.kind} · {clip(node.namespace, 16)}
                </text>
                <text x="14" y="36" class="gnode-name">
                  {clip(node.name, 26)}
                </text>
              </g>
            ))}
          </svg>
        </div>
      )}
    </div>
  );
}
