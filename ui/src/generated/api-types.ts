// Generated from weir/web/schema.py by scripts/gen-ui-types.sh: do not edit.

export interface WeirApi {
  Graph?: Graph;
  GraphEdge?: GraphEdge;
  GraphNode?: GraphNode;
  Row?: Row;
}
/**
 * ``/api/v1/graph``: the pipeline graph of a scope.
 *
 * This interface was referenced by `WeirApi`'s JSON-Schema
 * via the `definition` "Graph".
 */
export interface Graph {
  edges: GraphEdge[];
  group?: ("namespace" | "kustomization") | null;
  nodes: GraphNode[];
  total: number;
  truncated: boolean;
}
/**
 * This interface was referenced by `WeirApi`'s JSON-Schema
 * via the `definition` "GraphEdge".
 */
export interface GraphEdge {
  from: string;
  to: string;
  type: "source" | "manages" | "dependsOn" | "inputs";
}
/**
 * A node of the pipeline graph (:mod:`weir.actions.graph`).
 *
 * This interface was referenced by `WeirApi`'s JSON-Schema
 * via the `definition` "GraphNode".
 */
export interface GraphNode {
  /**
   * The node's group when the graph is grouped (Namespace/<name>, or the Kind/namespace/name of the root applier that manages it)
   */
  group?: string | null;
  /**
   * Kind/namespace/name
   */
  id: string;
  kind: string;
  layer: "source" | "chart" | "applier" | "workload" | "other";
  message: string;
  name: string;
  namespace: string;
  revision: string;
  status: ("failed" | "progressing" | "unknown" | "suspended" | "ready") | "missing";
  view: "resource" | "workload";
}
/**
 * One row of a list: a Flux object (status from its conditions) or a workload (status
 * from kstatus).
 *
 * This interface was referenced by `WeirApi`'s JSON-Schema
 * via the `definition` "Row".
 */
export interface Row {
  created: string | null;
  /**
   * Container images (workloads)
   */
  images?: string[];
  /**
   * Kind/namespace/name
   */
  key: string;
  kind: string;
  /**
   * status.lastHandledReconcileAt
   */
  lastHandled?: string | null;
  lastTransition?: string | null;
  /**
   * Kind/namespace/name of the Kustomization or HelmRelease that applied it
   */
  manager: string | null;
  message: string;
  name: string;
  namespace: string;
  /**
   * The spec changed since the controller last looked at it
   */
  pending?: boolean;
  /**
   * Ready condition status (Flux) or ready count (workloads)
   */
  ready: string;
  reason?: string;
  revision?: string;
  /**
   * Kind/namespace/name of its source
   */
  source?: string | null;
  status: "failed" | "progressing" | "unknown" | "suspended" | "ready";
  suspended?: boolean;
}
