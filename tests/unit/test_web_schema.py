"""The API row is defined once (weir.web.schema): the row builders fit it, and the OpenAPI
document takes its schema from it."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from weir.web.openapi import document
from weir.web.schema import Graph, Row, schemas
from weir.web.status import flux_row, workload_row


def hr() -> dict[str, Any]:
    return {
        "apiVersion": "helm.toolkit.fluxcd.io/v2",
        "kind": "HelmRelease",
        "metadata": {"name": "web", "namespace": "apps", "generation": 2},
        "spec": {"chartRef": {"kind": "OCIRepository", "name": "charts"}},
        "status": {
            "observedGeneration": 1,
            "lastHandledReconcileAt": "now",
            "conditions": [{"type": "Ready", "status": "True", "reason": "R", "message": "m"}],
        },
    }


def deploy() -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "apps"},
        "spec": {"template": {"spec": {"containers": [{"name": "c", "image": "img:1"}]}}},
        "status": {},
    }


def test_rows_fit_the_model() -> None:
    row = Row.model_validate(flux_row(hr()))
    assert (row.pending, row.lastHandled, row.source) == (True, "now", "OCIRepository/apps/charts")
    assert Row.model_validate(workload_row(deploy())).images == ["img:1"]
    with pytest.raises(ValidationError):
        Row.model_validate({**flux_row(hr()), "surprise": 1})


def test_openapi_takes_the_schemas_from_the_models() -> None:
    components = document()["components"]["schemas"]
    assert components["Row"] == schemas()["Row"]
    assert {"pending", "lastHandled"} <= set(components["Row"]["properties"])
    assert components["Graph"] == schemas()["Graph"]
    assert Graph.model_json_schema()["required"] == ["nodes", "edges", "truncated", "total"]
