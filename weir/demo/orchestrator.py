"""``make up`` as one object: :class:`Demo` starts the local control plane, the fleet's Git and
chart repositories, weir (controllers, web UI, MCP) and the bootstrap; :meth:`Demo.stop` stops
everything it started, in reverse order, whatever failed on the way.

::

    async with Demo(DemoSettings(root=tmp)) as demo:   # start() ... stop()
        await demo.wait_ready()
        demo.fleet.commit_and_push({...}, "change")    # the push reaches the cluster
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

from kubernetes_asyncio.client import ApiClient
from rich.console import Console

from weir.crdinstall import install_crds, wait_served
from weir.demo import bootstrap, charts, gitfleet, install, progress
from weir.demo.features import Features
from weir.demo.notifier import PushNotifier
from weir.demo.procs import cmdline_of
from weir.demo.provisioner import StandInProvisioner
from weir.demo.services import WeirServices
from weir.demo.settings import DemoSettings
from weir.demo.statefile import ChildRecord, DemoState, stop_stale
from weir.demo.status import Snapshot, snapshot
from weir.devcluster import DevCluster
from weir.errors import WeirError
from weir.kube.client import api_client
from weir.operator.instance.components import available as available_components
from weir.testing.chartrepo import ChartRepoServer
from weir.testing.gitserver import GitHttpServer
from weir.testing.podrunner import PodCommand

log = logging.getLogger(__name__)
T = TypeVar("T")


class DemoError(WeirError):
    """``make up`` cannot start (another one runs, a component failed)."""


@dataclass
class Endpoints:
    """Where things are, once started."""

    kubeconfig: Path
    git_url: str = ""
    chart_url: str = ""
    ui_url: str = ""
    mcp_url: str = ""
    health_url: str = ""
    logs: dict[str, Path] = field(default_factory=dict)

    def as_dict(self) -> dict[str, str]:
        items = {
            "git": self.git_url,
            "charts": self.chart_url,
            "ui": self.ui_url,
            "mcp": self.mcp_url,
            "health": self.health_url,
        }
        return {k: v for k, v in items.items() if v}


async def _uncancellable(func: Callable[[], T]) -> T:
    """Run blocking ``func`` in a thread; if cancelled meanwhile, let it finish first (so the
    cleanup that follows sees a consistent state), then re-raise the cancellation."""
    task = asyncio.ensure_future(asyncio.to_thread(func))
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        with contextlib.suppress(Exception):
            await task
        raise


class Demo:
    """See the module docstring."""

    def __init__(self, settings: DemoSettings | None = None, console: Console | None = None):
        self.settings = settings or DemoSettings()
        self.console = console or progress.make_console(stderr=True)
        self.features = Features.detect()
        self.cluster = DevCluster(self.settings.cluster_dir)
        self.cluster_started = False
        self.endpoints = Endpoints(kubeconfig=self.cluster.kubeconfig_path)
        self.git: GitHttpServer | None = None
        self.charts: ChartRepoServer | None = None
        self.fleet: gitfleet.FleetRepo | None = None
        self.api: ApiClient | None = None
        self.services = WeirServices(self.settings, self.features, self.console)
        self.tasks: list[asyncio.Task[None]] = []
        self.started_at = 0.0
        self.ready_after: float | None = None
        self._recorded = False
        # The local Git server asks for these; make up creates the FluxInstance's pull secret
        # with them (as `flux create secret git` would) and gives them to the work clone.
        self.git_credentials = ("etherwurst", secrets.token_urlsafe(12))

    # ------------------------------------------------------------------------------ steps
    @contextlib.asynccontextmanager
    async def _step(self, what: str) -> AsyncIterator[None]:
        t0 = time.monotonic()
        with self.console.status(what + " …"):
            yield
        self.console.print(f"[green]✔[/] {what} [dim]({time.monotonic() - t0:.1f}s)[/]")

    async def start(self) -> None:
        """Start everything; on any failure (or cancellation) stop what was started."""
        self.started_at = time.monotonic()
        try:
            await self._start()
        except BaseException:
            await self.stop()
            raise

    async def _start(self) -> None:
        s = self.settings
        stale = stop_stale(s.state_file, os.getpid())
        # A cluster a crashed `make up` started is ours to stop; one started otherwise is not.
        inherited = stale is not None and stale.cluster_started
        s.root.mkdir(parents=True, exist_ok=True)
        self._record()
        async with self._step(f"local control plane with {s.nodes} kwok nodes"):
            was_up = self.cluster.is_up()
            await _uncancellable(lambda: self.cluster.up(nodes=s.nodes))
            self.cluster_started = inherited or not was_up
            self._record()
        async with self._step("fleet repository served over Git HTTP"):
            self.git = GitHttpServer(s.git_root, basic_auth=self.git_credentials).start()
            git_url = self.git.url(s.repo_name)
            user, password = self.git_credentials
            push_url = git_url.replace("http://", f"http://{user}:{password}@", 1)
            self.fleet = await asyncio.to_thread(
                gitfleet.publish,
                s.example,
                s.git_root / s.repo_name,
                s.work_dir,
                git_url,
                s.branch,
                push_url,
            )
            self.endpoints.git_url = git_url
        async with self._step("charts packaged into a Helm repository"):
            self.charts = await asyncio.to_thread(
                charts.serve_charts, s.example / "charts", s.charts_dir
            )
            self.endpoints.chart_url = self.charts.url
        self.api = await api_client(str(self.cluster.kubeconfig_path))
        self._spawn(self._provisioner())
        if self.services.uses_operator():
            await self._install_as_the_guide(git_url)
        else:
            await self._run_controllers(git_url)
        self._spawn(PushNotifier(self.api, self.fleet, bootstrap.NAMESPACE, bootstrap.NAME).run())
        self._record()

    async def _install_as_the_guide(self, git_url: str) -> None:
        """The guide's steps: the chart with Helm, the operator's pod (run here, as the chart's
        ServiceAccount), the Git secret, the FluxInstance."""
        assert self.api is not None
        s = self.settings
        helm = await self._ensure_helm()
        web = self.features.ui and s.ui_addr.strip() not in ("", "0")
        async with self._step(
            f"chart charts/weir installed: {helm.name} upgrade --install {install.RELEASE} "
            f"-n {install.NAMESPACE} (CRDs, RBAC, Service, Deployment)"
        ):
            await install.install_chart(s, self.cluster.kubeconfig_path, web=web)
            await wait_served(self.api)  # the chart's CRDs answer before the operator lists them
        async with self._step(
            f"operator pod's command running here as ServiceAccount "
            f"{install.NAMESPACE}/{install.RELEASE} ({self.services.describe()})"
        ):
            await self._start_weir(operator=True)
        user, password = self.git_credentials
        async with self._step(
            f"Git secret created: weir create secret git {bootstrap.PULL_SECRET} --url={git_url}"
            f" --username={user} --password=…"
        ):
            await bootstrap.create_git_secret(self.cluster.kubeconfig_path, git_url, user, password)
        async with self._step(f"FluxInstance applied (sync {git_url}, path {s.cluster_path})"):
            await bootstrap.bootstrap(
                self.api,
                git_url,
                s.branch,
                s.cluster_path,
                self.endpoints.chart_url,
                self.git_credentials,
                instance=s.instance_manifest,
                components=available_components(),
                secret=False,
            )

    async def _ensure_helm(self) -> Path:
        async with self._step("Helm CLI (scripts/build-helm.sh: built once, cached)"):
            return await install.ensure_helm()

    async def _run_controllers(self, git_url: str) -> None:
        """Without the operator: the CRDs, ``weir run`` with every controller, flux-system."""
        assert self.api is not None
        s = self.settings
        async with self._step("Flux CRDs installed"):
            await install_crds(self.api)
        async with self._step(f"weir started ({self.services.describe()})"):
            await self._start_weir()
        async with self._step(f"bootstrapped flux-system from {s.cluster_path}"):
            await bootstrap.bootstrap(
                self.api,
                git_url,
                s.branch,
                s.cluster_path,
                self.endpoints.chart_url,
                self.git_credentials,
            )

    async def _provisioner(self) -> None:
        assert self.api is not None
        await StandInProvisioner(self.api).run()

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        self.tasks.append(asyncio.create_task(coro))

    async def _start_weir(self, *, operator: bool = False) -> None:
        assert self.api is not None
        api, kubeconfig = self.api, self.cluster.kubeconfig_path
        # weir's namespace exists before weir starts (as `flux install` makes it): its
        # leader-election Lease lives there.
        await bootstrap.ensure_namespace(self.api)

        async def chart_operator(ports: dict[str, str]) -> PodCommand:
            return await install.operator_command(api, self.settings, kubeconfig, ports)

        try:
            await self.services.start(
                kubeconfig,
                bootstrap.NAMESPACE,
                on_spawned=self._record,
                operator=chart_operator if operator else None,
            )
        finally:
            urls = self.services.urls
            self.endpoints.health_url, self.endpoints.ui_url = urls.health, urls.ui
            self.endpoints.mcp_url, self.endpoints.logs = urls.mcp, dict(urls.logs)
            self._record()

    def _record(self) -> None:
        self._recorded = True
        children = [
            ChildRecord(p.name, p.pid, p.argv) for p in self.services.processes if p.pid is not None
        ]
        DemoState(
            pid=os.getpid(),
            cmdline=cmdline_of(os.getpid()) or [],
            cluster_dir=str(self.settings.cluster_dir),
            cluster_started=self.cluster_started,
            kubeconfig=str(self.cluster.kubeconfig_path),
            endpoints=self.endpoints.as_dict(),
            children=children,
        ).save(self.settings.state_file)

    @property
    def active(self) -> bool:
        """Whether :meth:`start` got far enough to start anything (and record it)."""
        return self._recorded

    # --------------------------------------------------------------------------- progress
    async def snapshot(self) -> Snapshot:
        if self.api is None:
            raise DemoError("the demo is not started")
        return await snapshot(self.api)

    async def wait_ready(
        self,
        timeout: float | None = None,  # noqa: ASYNC109
        *,
        live: bool = True,
        require_workloads: bool = True,
    ) -> Snapshot:
        """Wait (showing the live table unless ``live`` is False) until every Kustomization and
        HelmRelease is Ready and, with ``require_workloads``, every workload Available."""

        def done(snap: Snapshot) -> bool:
            return snap.all_ready and (snap.all_available or not require_workloads)

        async def poll() -> Snapshot:
            self.services.check()
            return await self.snapshot()

        note = (
            ""
            if self.features.helm
            else "this build has no Helm controller: HelmReleases will not become Ready"
        )
        async with asyncio.timeout(timeout):
            if live:
                snap = await progress.follow(
                    poll, done, self.console, started=self.started_at, note=note
                )
            else:
                snap = await poll()
                while not done(snap):
                    await asyncio.sleep(0.5)
                    snap = await poll()
        if self.ready_after is None:
            self.ready_after = time.monotonic() - self.started_at
        return snap

    async def run_until_stopped(self) -> None:
        """Return when a child process exits (raising) or when cancelled (Ctrl-C)."""
        while True:
            self.services.check()
            if not self.cluster.is_up():
                raise DemoError(
                    f"the control plane stopped; see {self.settings.cluster_dir / 'logs'}"
                )
            await asyncio.sleep(2)

    # ------------------------------------------------------------------------------- stop
    async def stop(self) -> None:
        """Stop everything this object started, in reverse order; safe to call twice."""
        for task in self.tasks:
            task.cancel()
        for task in self.tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self.tasks.clear()
        await self.services.stop()
        if self.api is not None:
            await self.api.close()
            self.api = None
        for server in (self.charts, self.git):
            if server is not None:
                await asyncio.to_thread(server.stop)
        self.charts = self.git = None
        if self.cluster_started:
            await asyncio.to_thread(self.cluster.down)
            self.cluster_started = False
        if self._recorded:  # never the state file of another, running `make up`
            self.settings.state_file.unlink(missing_ok=True)
            self._recorded = False

    async def __aenter__(self) -> Demo:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await asyncio.shield(self.stop())
