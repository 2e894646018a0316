"""``weir run --plan-configmap``: how a FluxInstance unit's Deployment runs on a cluster. The
process follows its settings ConfigMap live: ``concurrent`` resizes the running controllers
without restarting anything, other settings restart them in-process, bad values change
nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kubernetes_asyncio import client

from tests.support.operator import ready, wait_until
from tests.support.waiting import wait_for
from weir.api.kinds import KINDS
from weir.kube import apply as kapi
from weir.kube.resources import CONFIG_MAPS
from weir.operator.instance.planwatch import PlanWatch
from weir.runtime.manager import Manager
from weir.source.settings import SourceSettings
from weir.testing.controllers import running_plan
from weir.testing.gitserver import GitHttpServer

Obj = dict[str, Any]


def _watch(manager: Manager) -> PlanWatch:
    return next(s for s in manager.services if isinstance(s, PlanWatch))


async def _settings(kube: client.ApiClient, namespace: str, data: dict[str, str]) -> None:
    body = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "source-controller-settings", "namespace": namespace},
        "data": data,
    }
    await kapi.apply(kube, body, "test", force=True)


async def test_the_settings_configmap_drives_the_controllers_live(
    kube: client.ApiClient,
    kubeconfig: str,
    flux_crds: None,
    namespace: str,
    tmp_path: Path,
    git_server: GitHttpServer,
) -> None:
    await _settings(kube, namespace, {"controllers": "source", "concurrent": "2"})
    ref = f"{namespace}/source-controller-settings"
    async with running_plan(
        kubeconfig, tmp_path / "storage", ref, watch_namespace=namespace
    ) as manager:
        watch = _watch(manager)
        group = watch.runner.groups["source-controller-settings"]
        assert group.state.running, "the controllers run once the process is ready"
        git = next(c for c in group.controllers if c.kind == "GitRepository")
        assert git.queue.workers == 2

        # the controllers really run
        repo = git_server.create_repo(f"{namespace}.git", default_branch="main")
        repo.commit({"README": "x"}, "init")
        await kapi.apply(
            kube,
            {
                "apiVersion": "source.toolkit.fluxcd.io/v1",
                "kind": "GitRepository",
                "metadata": {"name": "app", "namespace": namespace},
                "spec": {"interval": "10m", "url": repo.url, "ref": {"branch": "main"}},
            },
            "test",
            force=True,
        )
        gits = KINDS["GitRepository"].resource
        await wait_for(kube, gits, namespace, "app", ready, "the GitRepository Ready")

        # concurrent: live, the same controller object, no restart
        await _settings(kube, namespace, {"controllers": "source", "concurrent": "6"})
        await wait_until(lambda: git.queue.workers == 6, "six workers")
        assert watch.runner.groups["source-controller-settings"] is group
        assert group.state.starts == 1
        assert watch.applied == ["resized source-controller-settings to 6 workers"]

        # a bad value is refused and changes nothing
        await _settings(kube, namespace, {"controllers": "source", "concurrent": "many"})
        await wait_until(lambda: watch.error is not None, "the bad value refused")
        assert "concurrent must be a positive integer, not 'many'" in (watch.error or "")
        assert group.state.running
        assert git.queue.workers == 6

        # any other setting restarts the controllers in this process
        await _settings(
            kube,
            namespace,
            {"controllers": "source", "concurrent": "6", "requeue-dependency": "7s"},
        )
        await wait_until(
            lambda: watch.runner.groups["source-controller-settings"] is not group,
            "the group restarted",
        )
        fresh = watch.runner.groups["source-controller-settings"]
        assert fresh.state.running
        assert fresh.state.starts == 2
        assert fresh.plan.run.feature(SourceSettings).requeue_dependency == 7.0
        assert not group.state.running

        # deleting the ConfigMap leaves them running
        await kapi.delete(kube, CONFIG_MAPS, namespace, "source-controller-settings")
        await wait_until(lambda: watch.informer.get(namespace, ref.split("/")[1]) is None, "gone")
        assert fresh.state.running
