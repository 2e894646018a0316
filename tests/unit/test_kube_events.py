"""Event references and validation that need no API server."""

from __future__ import annotations

import re
from typing import cast

import pytest
from kubernetes_asyncio.client import ApiClient

from weir.kube.events import EventRecorder, involved_object, now_rfc3339

NO_API = cast(ApiClient, None)  # these paths never reach the API


def test_involved_object_reference() -> None:
    obj = {
        "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
        "kind": "Kustomization",
        "metadata": {"name": "app", "namespace": "flux-system", "uid": "u1", "labels": {}},
    }
    assert involved_object(obj) == {
        "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
        "kind": "Kustomization",
        "name": "app",
        "namespace": "flux-system",
        "uid": "u1",
    }


def test_time_format() -> None:
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", now_rfc3339())


async def test_event_type_is_checked() -> None:
    rec = EventRecorder(NO_API, "test-controller")
    with pytest.raises(ValueError, match="Normal or Warning"):
        await rec.event({"metadata": {"name": "x"}}, "Info", "R", "m")
