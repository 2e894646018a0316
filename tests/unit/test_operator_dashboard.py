"""The example fleet's Flux dashboard queries only metrics weir serves."""

from __future__ import annotations

import json
import re
from pathlib import Path

from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from weir.operator.report.metrics import OperatorMetrics
from weir.runtime.metrics import RuntimeMetrics

DASHBOARD = (
    Path(__file__).resolve().parents[2]
    / "examples/etherwurst/charts/kube-prometheus-stack/charts/grafana/dashboards/flux-cluster.json"
)
METRIC = re.compile(r"\b((?:flux|gotk|weir)_[a-z_]+)")


def _served() -> set[str]:
    runtime = RuntimeMetrics()
    OperatorMetrics(runtime.registry)
    runtime.reconcile_total.labels("Kustomization", "success").inc()
    runtime.reconcile_errors.labels("Kustomization").inc()
    runtime.object_duration.labels("Kustomization", "a", "b").observe(1)
    runtime.queue_depth.labels("kustomization").set(0)
    text = generate_latest(runtime.registry).decode()
    return {s.name for f in text_string_to_metric_families(text) for s in f.samples} | {
        "flux_instance_info",
        "flux_resource_info",
    }


def test_every_query_uses_a_metric_weir_serves() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    served = _served()
    exprs = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    assert len(exprs) == len(dashboard["panels"])
    used = {m for e in exprs for m in METRIC.findall(e)}
    assert {"flux_instance_info", "flux_resource_info"} <= used
    assert used <= served, used - served
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    variables = {v["name"] for v in dashboard["templating"]["list"]}
    for expr in exprs:
        for var in re.findall(r"\$(\w+)", expr):
            assert var in variables, expr
