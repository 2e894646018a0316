"""Drift detection of a release against the dev cluster: a `kubectl edit`-like change is
detected, ignore rules hide it, correction restores the release's state."""

from __future__ import annotations

from pathlib import Path

from kubernetes_asyncio import client

from weir.helm.drift import DriftReport, IgnoreRule, Selector, correct_drift, detect_drift
from weir.helmengine.engine import ClusterAccess, InstallOptions
from weir.helmengine.sdk import SdkEngine
from weir.kube import transport
from weir.kube.apply import delete, get, patch
from weir.kube.resources import ResourceRef
from weir.testing.chartrepo import write_chart

CONFIGMAPS = ResourceRef("", "v1", "configmaps", True)
TEMPLATES = {
    "cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-a\n"
    "data: {mode: safe, level: '1'}\n",
    "cm2.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-b\n"
    "data: {x: '1'}\n",
}


async def test_drift_detected_ignored_and_corrected(
    tmp_path: Path, kubeconfig: str, kube: client.ApiClient, namespace: str
) -> None:
    chart = write_chart(tmp_path / "drift", "drift", "1.0.0", templates=TEMPLATES)
    engine = SdkEngine()
    try:
        rel = await engine.install(
            ClusterAccess(kubeconfig=kubeconfig),
            chart,
            "dr",
            namespace,
            options=InstallOptions(wait=False),
        )
    finally:
        await engine.aclose()

    async def detect(ignore: list[IgnoreRule] | None = None) -> DriftReport:
        return await detect_drift(
            kube,
            rel.manifest,
            release_name="dr",
            release_namespace=namespace,
            field_manager=engine.field_manager,
            ignore=ignore or [],
        )

    assert not (await detect()).drifted

    # what `kubectl edit` does: an update by another field manager; and a deleted object
    await patch(
        kube,
        CONFIGMAPS,
        namespace,
        "dr-a",
        {"data": {"mode": "unsafe"}},
        field_manager="kubectl-edit",
    )
    await delete(kube, CONFIGMAPS, namespace, "dr-b")
    report = await detect()
    assert report.drifted
    assert report.summary() == (
        f"ConfigMap/{namespace}/dr-a changed (/data/mode), ConfigMap/{namespace}/dr-b removed"
    )

    ignored = await detect(
        [
            IgnoreRule(("/data/mode",), Selector(kind="ConfigMap", name="dr-a")),
            IgnoreRule(("/data",), Selector(name="dr-b")),
        ]
    )
    assert [d.display for d in ignored.drifts] == [f"ConfigMap/{namespace}/dr-b"]  # still missing

    corrected = await correct_drift(kube, report, field_manager=engine.field_manager)
    assert sorted(corrected) == [f"ConfigMap/{namespace}/dr-a", f"ConfigMap/{namespace}/dr-b"]
    assert (await get(kube, CONFIGMAPS, namespace, "dr-a"))["data"] == {
        "mode": "safe",
        "level": "1",
    }
    assert not (await detect()).drifted

    # opt-out per object
    await patch(
        kube,
        CONFIGMAPS,
        namespace,
        "dr-a",
        [
            {
                "op": "add",
                "path": "/metadata/annotations/helm.toolkit.fluxcd.io~1driftDetection",
                "value": "disabled",
            },
            {"op": "replace", "path": "/data/mode", "value": "edited"},
        ],
        content_type=transport.JSON_PATCH,
    )
    report = await detect()
    assert not report.drifted
    assert report.skipped == [f"ConfigMap/{namespace}/dr-a"]
