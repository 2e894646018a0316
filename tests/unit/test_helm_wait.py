"""weir's own wait for Helm releases (ADR 0017): when it applies (the conservative post-hook
rule) and Helm's readiness rule for Jobs. The wait itself, the failed record and remediation
run against a real API server in tests/e2e/test_helm_wait.py."""

from __future__ import annotations

import io
import tarfile
from typing import Any

import pytest

from weir.helm.wait import ReleaseHealth, applies, chart_may_run_post_hooks, may_run_post_hooks
from weir.helmengine.engine import InstallOptions, UpgradeOptions
from weir.helmengine.postrender import PostRenderSpec
from weir.kube.kstatus import Status

DEPLOYMENT = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app\n"


def archive(files: dict[str, bytes | str]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, text in files.items():
            data = text.encode() if isinstance(text, str) else text
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def chart(*templates: str, subchart: bytes | None = None) -> bytes:
    files: dict[str, bytes | str] = {
        "app/Chart.yaml": "apiVersion: v2\nname: app\nversion: 1.0.0\n",
        "app/values.yaml": "replicas: 1\n",
    }
    for i, text in enumerate(templates):
        files[f"app/templates/t{i}.yaml"] = text
    if subchart is not None:
        files["app/charts/sub-1.0.0.tgz"] = subchart
    return archive(files)


def hook(value: str, *, extra: str = "") -> str:
    return (
        "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: hook\n  annotations:\n"
        f"    helm.sh/hook: {value}\n{extra}"
    )


@pytest.mark.parametrize(
    ("templates", "expected"),
    [
        ((DEPLOYMENT,), False),
        ((DEPLOYMENT, hook("pre-install,pre-upgrade")), False),
        ((hook('"test"', extra='    "helm.sh/hook-delete-policy": hook-succeeded\n'),), False),
        ((hook("test-success"),), False),
        ((hook("post-install"),), True),
        ((hook("pre-install, post-upgrade"),), True),
        ((hook("post-rollback"),), True),
        ((hook("{{ .Values.hookEvents }}"),), True),  # templated: cannot tell
        ((hook(""),), True),  # the value on the next lines: cannot tell
        (("# helm.sh/hook is mentioned in a comment\n" + DEPLOYMENT,), True),
        (('metadata: {annotations: {"helm.sh/hook": "post-install"}}',), True),
        ((hook("something-new"),), True),
    ],
)
def test_post_hooks_are_found_conservatively(templates: tuple[str, ...], expected: bool) -> None:
    assert chart_may_run_post_hooks(chart(*templates)) is expected


def test_a_subchart_hook_counts() -> None:
    sub = archive({"sub/Chart.yaml": "name: sub\n", "sub/templates/j.yaml": hook("post-upgrade")})
    assert chart_may_run_post_hooks(chart(DEPLOYMENT, subchart=sub)) is True
    clean = archive({"sub/Chart.yaml": "name: sub\n", "sub/templates/d.yaml": DEPLOYMENT})
    assert chart_may_run_post_hooks(chart(DEPLOYMENT, subchart=clean)) is False


def test_what_cannot_be_read_keeps_helms_wait() -> None:
    assert chart_may_run_post_hooks(b"not an archive") is True
    assert may_run_post_hooks("/a/chart/directory", {}, None) is True


def test_values_and_post_renderers_can_bring_hooks() -> None:
    plain = chart(DEPLOYMENT)
    assert may_run_post_hooks(plain, {"replicas": 2}, PostRenderSpec()) is False
    assert may_run_post_hooks(plain, {"annotations": {"helm.sh/hook": "x"}}, None) is True
    renders = PostRenderSpec(annotations={"helm.sh/hook": "post-install"})
    assert may_run_post_hooks(plain, {}, renders) is True


def test_applies_only_to_the_default_wait() -> None:
    plain, hooked = chart(DEPLOYMENT), chart(hook("post-install"))
    assert applies(InstallOptions(), plain, {}) is True
    assert applies(InstallOptions(wait=False), plain, {}) is False
    assert applies(InstallOptions(wait_strategy="legacy"), plain, {}) is False
    assert applies(InstallOptions(), hooked, {}) is False
    assert applies(InstallOptions(disable_hooks=True), hooked, {}) is True
    assert applies(UpgradeOptions(), plain, {}) is True
    assert applies(UpgradeOptions(cleanup_on_fail=True), plain, {}) is False


def job(**status: Any) -> dict[str, Any]:
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "j"}, "status": status}


COMPLETE = {"conditions": [{"type": "Complete", "status": "True"}], "succeeded": 1}
FAILED = {"conditions": [{"type": "Failed", "status": "True"}], "failed": 1}


@pytest.mark.parametrize(
    ("status", "with_jobs", "without_jobs"),
    [
        ({}, Status.IN_PROGRESS, Status.IN_PROGRESS),  # not started
        ({"startTime": "2026-12-05T00:00:00Z", "active": 1}, Status.IN_PROGRESS, Status.CURRENT),
        (COMPLETE, Status.CURRENT, Status.CURRENT),
        (FAILED, Status.FAILED, Status.FAILED),
    ],
)
def test_jobs_as_helms_watcher(
    status: dict[str, Any], with_jobs: Status, without_jobs: Status
) -> None:
    assert ReleaseHealth(wait_for_jobs=True).status(job(**status)).status is with_jobs
    assert ReleaseHealth(wait_for_jobs=False).status(job(**status)).status is without_jobs


def test_other_kinds_are_kstatus() -> None:
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "d", "generation": 2},
        "spec": {"replicas": 1},
        "status": {"observedGeneration": 1},
    }
    assert ReleaseHealth(wait_for_jobs=True).status(deployment).status is Status.IN_PROGRESS
