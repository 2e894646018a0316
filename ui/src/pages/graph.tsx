// The GitOps pipeline graph, laid out by dagre: sources -> Kustomizations -> HelmReleases ->
// workloads, plus the dependsOn DAG; nodes coloured by live status, every node clickable.

import dagre from "@dagrejs/dagre";
import { useMemo, useRef, useState } from "preact/hooks";
import { apiUrl, objectPath, type Graph as GraphT, type GraphNode } from "../api";
import { Empty, ErrorBox, Link } from "../components/common";
import { useData } from "../hooks";
import { navigate, queryString, useLocation } from "../router";

const NODE_W = 210;
const NODE_H = 48;

interface Placed {
  node: GraphNode;
  x: number;
  y: number;
}

interface Layout {
  nodes: Placed[];
  edges: { points: { x: number; y: number }[]; type: string; from: string; to: string }[];
  width: number;
  height: number;
}

function layout(graph: GraphT, direction: "LR" | "TB"): Layout {
  const g = new dagre.graphlib.Graph({ multigraph: true });
  g.setGraph({ rankdir: direction, nodesep: 18, ranksep: 70, marginx: 20, marginy: 20 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const n of graph.nodes) g.setNode(n.id, { width: NODE_W, height: NODE_H });
  graph.edges.forEach((e, i) => g.setEdge(e.from, e.to, { weight: e.type === "dependsOn" ? 1 : 2 }, `${e.type}-${i}`));
  dagre.layout(g);
  const byId = new Map(graph.nodes.map((n) => [n.id, n]));
  const nodes = g.nodes().map((id) => {
    const p = g.node(id);
    return { node: byId.get(id)!, x: p.x, y: p.y };
  });
  const edges = g.edges().map((ref) => {
    const e = g.edge(ref) as unknown as { points: { x: number; y: number }[] };
    return { points: e.points, type: (ref.name ?? "").split("-")[0], from: ref.v, to: ref.w };
  });
  const info = g.graph();
  return { nodes, edges, width: info.width ?? 0, height: info.height ?? 0 };
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

export function GraphView() {
  const loc = useLocation();
  const namespace = loc.query.get("namespace") ?? "";
  const focus = loc.query.get("focus") ?? "";
  const [direction, setDirection] = useState<"LR" | "TB">(window.innerWidth < 700 ? "TB" : "LR");
  const { data, error } = useData<GraphT>(apiUrl("graph", { namespace, focus }), (c) => c.group === "flux" || c.group === "workload");
  const namespaces = useData<{ items: string[] }>(apiUrl("namespaces"));
  const placed = useMemo(() => (data && data.nodes.length ? layout(data, direction) : null), [data, direction]);
  const [zoom, setZoom] = useState(1);
  const [pan, setPan] = useState({ x: 0, y: 0 });
  const drag = useRef<{ x: number; y: number; px: number; py: number } | null>(null);

  const update = (params: Record<string, string | undefined>) => {
    navigate(`graph${queryString({ namespace, focus, ...params })}`, true);
    setPan({ x: 0, y: 0 });
    setZoom(1);
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
        <button onClick={() => setDirection(direction === "LR" ? "TB" : "LR")}>{direction === "LR" ? "Top-down" : "Left-right"}</button>
        <button onClick={() => setZoom((z) => Math.min(z * 1.25, 3))} aria-label="Zoom in">+</button>
        <button onClick={() => setZoom((z) => Math.max(z / 1.25, 0.2))} aria-label="Zoom out">−</button>
        <button onClick={() => { setZoom(1); setPan({ x: 0, y: 0 }); }}>Reset</button>
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
          onWheel={(e) => {
            e.preventDefault();
            setZoom((z) => Math.min(3, Math.max(0.2, z * (e.deltaY < 0 ? 1.1 : 1 / 1.1))));
          }}
          onPointerDown={(e) => {
            if ((e.target as Element).closest(".gnode")) return;
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
            {placed.edges.map((e) => (
              <path d={path(e.points)} class={`gedge gedge-${e.type}`} marker-end="url(#arrow)" data-edge={`${e.from}>${e.to}`} />
            ))}
            {placed.nodes.map(({ node, x, y }) => (
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
