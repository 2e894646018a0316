"""The async Helm engine interface the HelmRelease reconciler uses, and its data types.

:class:`HelmEngine` is what reconcilers call: ``render``, ``install``, ``upgrade``,
``rollback``, ``uninstall``, ``test``, ``history``, ``status``, ``get_values``, plus
``load_chart`` (metadata, CRDs, default values) and ``package`` (a chart directory from a
Git/Bucket source into an archive). Every call takes the cluster identity
(:class:`ClusterAccess`: kubeconfig, impersonation for ``serviceAccountName``) and the
release's namespace.

The implementation is :class:`weir.helmengine.sdk.SdkEngine` over ``helm-python-sdk``
(Helm 4 in process; see ``docs/adr/0002-helm-engine.md``);
:func:`weir.helmengine.service.default_engine` builds one.

Release storage is Helm's own (``sh.helm.release.v1.<name>.v<revision>`` Secrets), so
``helm``, Flux and weir read each other's releases. The reads (``history``, ``status``,
``get_values``) take a ``storage_namespace``; the write actions store in the release
namespace (a different ``storage_namespace`` option raises
:class:`~weir.helmengine.errors.UnsupportedOptionError`): the HelmRelease reconciler moves the
records to and from the storage namespace around them (:mod:`weir.helm.storage`, ADR 0012).

Errors are mapped to :mod:`weir.helmengine.errors`: ``RenderError`` (the templates or values
fail; retrying will not help), ``ReleaseError`` (the action failed against the cluster) with
``ReleaseTimeoutError``, ``ReleaseNotFoundError``, ``ReleaseLockedError`` and
``ReleaseTestError``.
"""

from __future__ import annotations

import abc
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from weir.helmengine.postrender import PostRenderSpec

ChartSource = str | os.PathLike[str] | bytes
"""A chart directory, a ``.tgz`` path, or the bytes of a ``.tgz``."""

WaitStrategy = Literal["watcher", "legacy"]
ServerSideApply = Literal["true", "false", "auto"]
PostRenderStrategy = Literal["combined", "separate", "nohooks"]

DEFAULT_TIMEOUT = 300.0  # HelmRelease spec.timeout default (5m)
DEFAULT_MAX_HISTORY = 5


@dataclass(frozen=True)
class ClusterAccess:
    """Which cluster, and as whom. ``impersonate`` is a user name
    (``system:serviceaccount:<ns>:<sa>`` for ``spec.serviceAccountName``)."""

    kubeconfig: str | None = None
    kubeconfig_content: str | None = None
    context: str | None = None
    impersonate: str | None = None
    impersonate_groups: tuple[str, ...] = ()
    qps: float | None = None
    burst: int | None = None

    def as_service_account(self, namespace: str, name: str) -> ClusterAccess:
        """The same cluster, impersonating ``system:serviceaccount:<namespace>:<name>``."""
        return ClusterAccess(
            kubeconfig=self.kubeconfig,
            kubeconfig_content=self.kubeconfig_content,
            context=self.context,
            impersonate=f"system:serviceaccount:{namespace}:{name}",
            impersonate_groups=(),
            qps=self.qps,
            burst=self.burst,
        )

    def __repr__(self) -> str:  # never print a kubeconfig's content
        return f"ClusterAccess(kubeconfig={self.kubeconfig!r}, impersonate={self.impersonate!r})"


@dataclass(frozen=True)
class ActionOptions:
    """What every write action shares (Flux's defaults)."""

    timeout: float = DEFAULT_TIMEOUT
    wait: bool = True
    wait_strategy: WaitStrategy = "watcher"
    wait_for_jobs: bool = True
    disable_hooks: bool = False
    description: str | None = None


@dataclass(frozen=True)
class InstallOptions(ActionOptions):
    """``spec.install`` as the engine needs it. CRDs are never installed by Helm here: apply
    them first with :func:`weir.helmengine.crds.apply_crds` (Flux does the same)."""

    storage_namespace: str | None = None
    create_namespace: bool = False
    replace: bool = False
    take_ownership: bool = True  # Flux: disableTakeOwnership false
    server_side_apply: bool = True
    force_conflicts: bool = True  # a GitOps controller owns the fields it declares
    disable_openapi_validation: bool = False
    disable_schema_validation: bool = False
    post_render: PostRenderSpec | None = None
    post_render_strategy: PostRenderStrategy = "combined"
    max_history: int = DEFAULT_MAX_HISTORY


@dataclass(frozen=True)
class UpgradeOptions(InstallOptions):
    """``spec.upgrade``."""

    server_side_apply_mode: ServerSideApply = "auto"
    force: bool = False  # Flux upgrade.force: replace objects that cannot be patched
    cleanup_on_fail: bool = False
    preserve_values: bool = False


@dataclass(frozen=True)
class RollbackOptions(ActionOptions):
    """``spec.rollback`` (and remediation by rollback)."""

    storage_namespace: str | None = None
    revision: int | None = None  # None: the previous release
    force: bool = False
    cleanup_on_fail: bool = False
    server_side_apply: ServerSideApply = "auto"
    force_conflicts: bool = True
    max_history: int = DEFAULT_MAX_HISTORY


@dataclass(frozen=True)
class UninstallOptions(ActionOptions):
    """``spec.uninstall``."""

    storage_namespace: str | None = None
    keep_history: bool = False
    deletion_propagation: Literal["background", "foreground", "orphan"] = "background"
    ignore_not_found: bool = False


@dataclass(frozen=True)
class ReleaseTestOptions:
    """``spec.test``: filters are hook names to run (``include``) or skip (``exclude``)."""

    timeout: float = DEFAULT_TIMEOUT
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    storage_namespace: str | None = None


@dataclass(frozen=True)
class HookRun:
    """The last run of a hook (``status.history[].testHooks`` in Flux)."""

    name: str
    events: tuple[str, ...]
    phase: str
    started_at: str | None
    completed_at: str | None


@dataclass(frozen=True)
class Release:
    """A release revision as Helm stores it."""

    name: str
    namespace: str
    revision: int
    status: str
    chart_name: str
    chart_version: str
    app_version: str
    manifest: str = ""
    deployed_at: str | None = None
    first_deployed: str | None = None
    description: str | None = None
    config: dict[str, Any] | None = None
    hooks: tuple[HookRun, ...] = ()
    labels: dict[str, str] = field(default_factory=dict)

    @property
    def key(self) -> str:
        """``<namespace>/<name>.v<revision>``, as Flux prints releases."""
        return f"{self.namespace}/{self.name}.v{self.revision}"

    @property
    def test_hooks(self) -> dict[str, HookRun]:
        return {h.name: h for h in self.hooks if "test" in h.events or "test-success" in h.events}


@dataclass(frozen=True)
class RenderResult:
    """What an install would apply: the (post-rendered) manifest, hooks and notes."""

    manifest: str
    hooks: tuple[str, ...] = ()
    notes: str = ""


@dataclass(frozen=True)
class ChartInfo:
    """A loaded chart: Chart.yaml, default values, CRD documents (``crds/``, subcharts too)."""

    metadata: dict[str, Any]
    values: dict[str, Any]
    crds: tuple[tuple[str, str], ...]  # (file name, YAML text)

    @property
    def name(self) -> str:
        return str(self.metadata.get("name") or "")

    @property
    def version(self) -> str:
        return str(self.metadata.get("version") or "")

    @property
    def app_version(self) -> str:
        return str(self.metadata.get("appVersion") or "")


class HelmEngine(abc.ABC):
    """The operations a HelmRelease reconciler needs (see the module docstring).

    Calls on the same release are serialized by the engine; calls on different releases run
    concurrently up to the engine's ``concurrency``.
    """

    @abc.abstractmethod
    async def load_chart(self, chart: ChartSource) -> ChartInfo: ...

    @abc.abstractmethod
    async def package(
        self,
        chart_dir: str | os.PathLike[str],
        dest_dir: str | os.PathLike[str],
        *,
        version: str | None = None,
        values: Mapping[str, Any] | None = None,
    ) -> Path:
        """Package a chart directory into ``dest_dir/<name>-<version>.tgz`` (``version``
        overrides Chart.yaml's; ``values`` replaces values.yaml, for ``valuesFiles``)."""

    @abc.abstractmethod
    async def render(
        self,
        access: ClusterAccess,
        chart: ChartSource,
        name: str,
        namespace: str,
        *,
        values: Mapping[str, Any] | None = None,
        options: InstallOptions | None = None,
        is_upgrade: bool = False,
        client_only: bool = False,
    ) -> RenderResult:
        """The manifest an install would apply (a server-side dry run: ``lookup`` sees the
        cluster, post-renderers run; nothing is created). ``client_only``: without any
        cluster (Helm's client dry run: ``lookup`` finds nothing, the default capabilities;
        ``access`` is not used)."""

    @abc.abstractmethod
    async def install(
        self,
        access: ClusterAccess,
        chart: ChartSource,
        name: str,
        namespace: str,
        *,
        values: Mapping[str, Any] | None = None,
        options: InstallOptions | None = None,
    ) -> Release: ...

    @abc.abstractmethod
    async def upgrade(
        self,
        access: ClusterAccess,
        chart: ChartSource,
        name: str,
        namespace: str,
        *,
        values: Mapping[str, Any] | None = None,
        options: UpgradeOptions | None = None,
    ) -> Release: ...

    @abc.abstractmethod
    async def rollback(
        self,
        access: ClusterAccess,
        name: str,
        namespace: str,
        options: RollbackOptions | None = None,
    ) -> Release:
        """Roll back (to ``options.revision`` or the previous one); returns the new release."""

    @abc.abstractmethod
    async def uninstall(
        self,
        access: ClusterAccess,
        name: str,
        namespace: str,
        options: UninstallOptions | None = None,
    ) -> Release | None:
        """Uninstall; returns the uninstalled release (None when it did not exist and
        ``ignore_not_found``)."""

    @abc.abstractmethod
    async def test(
        self,
        access: ClusterAccess,
        name: str,
        namespace: str,
        options: ReleaseTestOptions | None = None,
    ) -> Release:
        """Run the test hooks; returns the release with its hooks' last runs."""

    @abc.abstractmethod
    async def history(
        self,
        access: ClusterAccess,
        name: str,
        namespace: str,
        *,
        max_revisions: int | None = None,
        storage_namespace: str | None = None,
    ) -> list[Release]:
        """Revisions oldest first (without manifests); ``[]`` when there is no release. The
        records are read from ``storage_namespace`` (default: the release namespace)."""

    @abc.abstractmethod
    async def status(
        self,
        access: ClusterAccess,
        name: str,
        namespace: str,
        *,
        revision: int | None = None,
        storage_namespace: str | None = None,
    ) -> Release:
        """One revision (latest by default) with manifest, values, hooks and info."""

    @abc.abstractmethod
    async def get_values(
        self,
        access: ClusterAccess,
        name: str,
        namespace: str,
        *,
        all_values: bool = False,
        revision: int | None = None,
        storage_namespace: str | None = None,
    ) -> dict[str, Any]: ...

    @abc.abstractmethod
    async def aclose(self) -> None: ...

    @property
    @abc.abstractmethod
    def field_manager(self) -> str:
        """The field manager Helm's server-side applies use (for drift detection)."""


def release_name(name: str, target_namespace: str | None = None) -> str:
    """Flux's release name: ``[targetNamespace-]name``; longer than 53 characters becomes the
    first 40 characters, ``-`` and the first 12 hex of its sha256."""
    import hashlib  # noqa: PLC0415

    full = f"{target_namespace}-{name}" if target_namespace else name
    if len(full) <= 53:
        return full
    return f"{full[:40]}-{hashlib.sha256(full.encode()).hexdigest()[:12]}"


def filters_to_options(filters: Sequence[Any] | None, timeout: float) -> ReleaseTestOptions:
    """``spec.test.filters`` (``{name, exclude}``) -> :class:`ReleaseTestOptions`."""
    include = tuple(f.name for f in filters or () if not f.exclude)
    exclude = tuple(f.name for f in filters or () if f.exclude)
    return ReleaseTestOptions(timeout=timeout, include=include, exclude=exclude)
