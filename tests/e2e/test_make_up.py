"""``make up`` end to end: the same orchestration (:class:`weir.demo.Demo`) on its own control
plane with kwok nodes, the etherwurst fleet from a loopback Git server, its charts from a
loopback Helm repository, ``weir run`` (and the UI and MCP server when this build has them) as
subprocesses. Everything Ready, then the guided tour's Git changes reach the cluster."""

from __future__ import annotations

import asyncio
import io
import time
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from rich.console import Console

from tests.support.logs import log_problems
from tests.support.waiting import eventually
from weir.demo import Demo, DemoSettings
from weir.demo.procs import runs
from weir.demo.provisioner import PVCS
from weir.demo.status import Snapshot
from weir.kube import apply as kapi
from weir.kube.informer import list_all
from weir.kube.resources import ResourceRef
from weir.types import Obj

pytestmark = pytest.mark.timeout(600)
T = TypeVar("T")
INSTANCES = ResourceRef("fluxcd.controlplane.io", "v1", "fluxinstances", True, "FluxInstance")
EVENTS = ResourceRef("", "v1", "events", True, "Event")
HELM_REPOS = ResourceRef(
    "source.toolkit.fluxcd.io", "v1", "helmrepositories", True, "HelmRepository"
)
GIT_REPOS = ResourceRef("source.toolkit.fluxcd.io", "v1", "gitrepositories", True, "GitRepository")
KS = ResourceRef("kustomize.toolkit.fluxcd.io", "v1", "kustomizations", True, "Kustomization")
STATEFULSETS = ResourceRef("apps", "v1", "statefulsets", True, "StatefulSet")
ERIGON_HR = "clusters/etherwurst/apps/erigon.yaml"
CRONJOB = "clusters/etherwurst/apps/cryo-job.yaml"
CRONJOBS = ResourceRef("batch", "v1", "cronjobs", True, "CronJob")
KUSTOMIZATIONS = {("flux-system", "flux-system")}
HELM_RELEASES = {
    ("ethereum", "erigon"),
    ("ethereum", "lighthouse"),
    ("blockscout", "blockscout"),
    ("monitoring", "kube-prometheus-stack"),
}
WORKLOADS = {
    ("StatefulSet", "ethereum", "erigon"),
    ("StatefulSet", "ethereum", "lighthouse"),
    ("Deployment", "ethereum", "otterscan"),
    ("Deployment", "blockscout", "blockscout"),
    ("Deployment", "blockscout", "blockscout-frontend"),
    ("StatefulSet", "blockscout", "blockscout-postgres"),
    ("Deployment", "monitoring", "prometheus"),
    ("Deployment", "monitoring", "grafana"),
}


def _event_line(e: Obj) -> str:
    obj = e.get("involvedObject") or {}
    where = f"{obj.get('kind')}/{obj.get('namespace')}/{obj.get('name')}"
    return f"{e.get('type')} {e.get('reason')} {where}: {e.get('message')}"


def names(snap: Snapshot, kind: str) -> set[tuple[str, str]]:
    return {(r.namespace, r.name) for r in snap.rows if r.kind == kind}


async def test_make_up_brings_the_fleet_to_ready_and_commits_reach_the_cluster(
    tmp_path: Path,
) -> None:
    settings = DemoSettings(root=tmp_path / ".weir", ui_addr="127.0.0.1:0", mcp_addr="127.0.0.1:0")
    console = Console(file=io.StringIO(), width=200)
    demo = Demo(settings, console)
    async with demo:
        api, fleet = demo.api, demo.fleet
        assert api is not None
        assert fleet is not None
        snap = await demo.wait_ready(timeout=300, live=False)
        print(f"make up -> all Ready in {demo.ready_after:.1f}s")

        # Every Kustomization and HelmRelease of the fleet is Ready; every workload Available.
        assert names(snap, "Kustomization") == KUSTOMIZATIONS
        assert names(snap, "HelmRelease") == HELM_RELEASES

        # The fleet's FluxInstance (the installation guide's manifest) ran the controllers.
        instance = await kapi.get(api, INSTANCES, "flux-system", "flux")
        ready = [c for c in instance["status"]["conditions"] if c["type"] == "Ready"]
        assert ready[0]["status"] == "True", instance["status"]
        assert {c["name"] for c in instance["status"]["components"]} >= {
            "source-controller",
            "kustomize-controller",
            "helm-controller",
        }
        assert all(r.current for r in snap.appliers), [r for r in snap.appliers if not r.current]
        assert {(w.kind, w.namespace, w.name) for w in snap.workloads} == WORKLOADS
        assert all(w.available for w in snap.workloads), snap.workloads
        # The guide's two HelmRepositories, served by the local mirror (a patch, not an edit).
        for repo in ("ethpandaops", "prometheus-community"):
            helm_repo = snap.find("HelmRepository", "flux-system", repo)
            assert helm_repo is not None
            assert helm_repo.ready == "True"
        live_repo = await kapi.get(api, HELM_REPOS, "flux-system", "ethpandaops")
        assert live_repo["spec"]["url"] == demo.endpoints.chart_url
        # The FluxInstance's Git secret, created like `flux create secret git`, is used.
        git_repo = await kapi.get(api, GIT_REPOS, "flux-system", "flux-system")
        assert git_repo["spec"]["secretRef"] == {"name": "flux-system"}
        root = snap.find("Kustomization", "flux-system", "flux-system")
        assert root is not None
        assert root.revision == f"refs/heads/main@sha1:{fleet.head()}"  # the instance sets ref.name
        claims, _ = await list_all(api, PVCS)
        assert {c["metadata"]["name"] for c in claims} >= {"data-erigon-0", "chain-exports"}
        assert all(c["status"]["phase"] == "Bound" for c in claims)

        # What a user sees after a clean sync (issue 12): no Warning Event, no
        # ReconciliationFailed, no ERROR line or traceback in weir's log, no Degraded
        # controller on the dashboard, and MCP's overview finds the controllers' Lease.
        events, _ = await list_all(api, EVENTS)
        warnings = [_event_line(e) for e in events if e.get("type") == "Warning"]
        assert not warnings, "\n".join(warnings)
        failed = [_event_line(e) for e in events if e.get("reason") == "ReconciliationFailed"]
        assert not failed, "\n".join(failed)
        weir_log = demo.endpoints.logs["weir"]
        problems = log_problems(weir_log.read_text())
        assert not problems, "\n".join(problems)
        print(f"clean sync: {len(events)} Events, 0 Warnings, 0 ERROR lines in {weir_log.name}")
        async with httpx.AsyncClient(timeout=10) as http:
            if demo.endpoints.ui_url:
                assert (await http.get(demo.endpoints.ui_url)).status_code == 200
                dashboard = await http.get(demo.endpoints.ui_url + "api/v1/overview")
                controllers = dashboard.json()["controllers"]
                degraded = [c for c in controllers if c["status"] == "degraded"]
                assert not degraded, degraded
                assert {c["status"] for c in controllers} <= {"ok", "idle"}, controllers
        if demo.endpoints.mcp_url:
            from mcp import Client  # noqa: PLC0415 -- only with an MCP server

            async with Client(demo.endpoints.mcp_url, read_timeout_seconds=60) as mcp:
                answer = await mcp.call_tool("get_overview", {})
            text = "\n".join(str(getattr(c, "text", "")) for c in answer.content)
            assert "flux-system/weir-leader-election" in text, text
            assert "no controller Lease or Deployment found" not in text

        # The tour, step 1: a commit changes Erigon's extraArgs; the push reaches the StatefulSet.
        text = (fleet.work / ERIGON_HR).read_text()
        assert "      - --maxpeers=100\n" in text
        sha = await asyncio.to_thread(
            fleet.commit_and_push,
            {ERIGON_HR: text.replace("--maxpeers=100", "--maxpeers=200")},
            "erigon: allow 200 peers",
        )
        t0 = time.monotonic()

        async def erigon_args() -> list[str] | None:
            sts = await kapi.get(api, STATEFULSETS, "ethereum", "erigon")
            args: list[str] = sts["spec"]["template"]["spec"]["containers"][0]["args"]
            return args if "--maxpeers=200" in args else None

        args = await eventually(
            erigon_args, "the new extraArgs in StatefulSet ethereum/erigon", 120
        )
        print(f"push -> StatefulSet args in {time.monotonic() - t0:.1f}s")
        assert "--maxpeers=100" not in args
        assert "--prune.mode=archive" in args

        async def rolled_out() -> Snapshot | None:
            s = await demo.snapshot()
            apps = s.find("Kustomization", "flux-system", "flux-system")
            done = apps is not None and sha in apps.revision and s.all_ready and s.all_available
            return s if done else None

        await eventually(rolled_out, "the new revision applied and erigon rolled out", 120)

        # The tour, step 2: a broken manifest is refused and explained; the cluster keeps the
        # last good revision.
        cron = (fleet.work / CRONJOB).read_text()
        assert 'schedule: "17 * * * *"' in cron
        bad = await asyncio.to_thread(
            fleet.commit_and_push,
            {CRONJOB: cron.replace('"17 * * * *"', '"17 * * *"')},
            "cryo: export every hour",
        )

        async def apps_failed() -> Any:
            s = await demo.snapshot()
            apps = s.find("Kustomization", "flux-system", "flux-system")
            return apps if apps is not None and apps.failed else None

        apps = await eventually(apps_failed, "the flux-system Kustomization to fail", 120)
        assert apps.reason == "ReconciliationFailed"
        assert "CronJob/data/cryo-export dry-run failed" in apps.message
        assert "spec.schedule" in apps.message
        assert sha in apps.revision  # the last applied revision is still the good one
        live = await kapi.get(api, CRONJOBS, "data", "cryo-export")
        assert live["spec"]["schedule"] == "17 * * * *"
        if demo.endpoints.mcp_url:
            from mcp import Client  # noqa: PLC0415 -- only with an MCP server

            async with Client(demo.endpoints.mcp_url, read_timeout_seconds=60) as mcp:
                answer = await mcp.call_tool(
                    "explain_failure",
                    {"kind": "Kustomization", "name": "flux-system", "namespace": "flux-system"},
                )
            text = "\n".join(str(getattr(c, "text", "")) for c in answer.content)
            assert "spec.schedule" in text
            assert f"revision refs/heads/main@sha1:{bad}" in text

        # ... and `git revert` repairs it.
        await asyncio.to_thread(fleet.git, "revert", "--no-edit", bad)
        await asyncio.to_thread(fleet.git, "push", "--quiet", "origin", fleet.branch)
        fixed = await asyncio.to_thread(fleet.git, "rev-parse", "HEAD")

        async def recovered() -> Snapshot | None:
            s = await demo.snapshot()
            apps = s.find("Kustomization", "flux-system", "flux-system")
            return s if apps is not None and fixed in apps.revision and s.all_ready else None

        await eventually(recovered, "the revert applied", 120)

        # The tour, step 4: the history is Flux's (docs/kustomize.md#history-statushistory).
        ks = await kapi.get(api, KS, "flux-system", "flux-system")
        entries = [
            (h["metadata"]["revision"], h["lastReconciledStatus"]) for h in ks["status"]["history"]
        ]
        ref = f"refs/heads/{fleet.branch}"  # the FluxInstance's sync.ref
        revert = f"{ref}@sha1:{fixed.strip()}"
        assert entries[0] == (revert, "ReconciliationSucceeded"), entries
        assert (f"{ref}@sha1:{bad}", "ReconciliationFailed") in entries, entries
        children = [(p.pid, p.argv) for p in demo.services.processes]

    # Leaving the context stops everything make up started.
    for pid, argv in children:
        assert pid is not None
        assert not runs(pid, argv)
    assert not demo.cluster.is_up()
    assert not settings.state_file.exists()
