"""The tools, one module per group. Each module has ``tools(env) -> list[ToolSpec]``.

Read: :mod:`~weir.mcp.tools.overview` (``get_overview``), :mod:`~weir.mcp.tools.resources`
(``get_resource``, ``list_resources``), :mod:`~weir.mcp.tools.events` (``get_events``,
``get_pod_logs``), :mod:`~weir.mcp.tools.graph` (``get_dependency_graph``),
:mod:`~weir.mcp.tools.history` (``get_history``), :mod:`~weir.mcp.tools.explain`
(``explain_failure``), :mod:`~weir.mcp.tools.diff` (``diff_kustomization``),
:mod:`~weir.mcp.tools.helm` (``get_helmrelease_values``, ``compare_helmrelease_values``).

Write: :mod:`~weir.mcp.tools.flux` (``reconcile``, ``suspend``, ``resume``),
:mod:`~weir.mcp.tools.manifests` (``apply_manifest``, ``delete_resource``).
"""
