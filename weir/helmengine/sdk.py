""":class:`SdkEngine`: :class:`~weir.helmengine.engine.HelmEngine` over ``helm-python-sdk`` 0.2.2
(``libhelm_c``: Helm v4.2.3 compiled as a C library, loaded with ctypes).

- **Calls** go through the library's JSON-options C ABI (``helm_python._native.call_string``),
  because the Python wrapper's keyword arguments omit options Flux needs (``take_ownership``,
  ``skip_crds``, ``server_side_apply``, ``force_conflicts``, ``post_renderer``,
  ``wait_for_jobs``, ``disable_hooks``, ...). Unknown keys are refused by the library, so a
  version change that drops one fails loudly. The version is pinned for that reason.
- **Threads**: every call runs in the engine's own thread pool (ctypes releases the GIL while
  Go works). The SDK is safe for concurrent actions on *different* releases; actions on one
  release are serialized here with a lock per ``namespace/name``. ``concurrency`` bounds
  write actions (installs, upgrades, rollbacks, uninstalls, tests) in flight.
- **Cancellation**: cancelling the awaiting task cancels the Go context of an install/upgrade
  (Helm marks the release failed) and waits for the call to return before re-raising.
- **Configs**: one SDK ``Config`` per identity and namespace, cached (Helm's discovery cache
  lives there), at most ``max_configs``; closed by :meth:`aclose`.
- **Post-rendering** runs weir's plugin (:mod:`weir.helmengine.plugin`), a small process that
  hands the work to one long-lived post-render server (:mod:`weir.helmengine.prserver`).
- **Field manager**: Helm's server-side applies use the basename of the process's ``argv[0]``
  (the SDK offers no setting); :attr:`field_manager` reports it.
"""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import contextlib
import importlib
import json
import math
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, TypeVar

from weir.helmengine.engine import (
    ChartInfo,
    ChartSource,
    ClusterAccess,
    HelmEngine,
    HookRun,
    InstallOptions,
    Release,
    ReleaseTestOptions,
    RenderResult,
    RollbackOptions,
    UninstallOptions,
    UpgradeOptions,
)
from weir.helmengine.errors import (
    ChartError,
    EngineUnavailableError,
    HelmError,
    PostRenderError,
    ReleaseError,
    ReleaseLockedError,
    ReleaseNotFoundError,
    ReleaseTestError,
    ReleaseTimeoutError,
    RenderError,
    UnsupportedOptionError,
    ValuesError,
)
from weir.helmengine.plugin import ensure_plugin, plugin_args
from weir.helmengine.prserver import PostRenderServer

SDK_DISTRIBUTION = "helm-python-sdk==0.2.2"
T = TypeVar("T")

_RENDER_MARKERS = (
    "execution error at",
    "parse error",
    "template: ",
    "YAML parse error",
    "error converting YAML to JSON",
    "values don't meet the specifications of the schema",
    "unable to build kubernetes objects from release manifest",
    "chart requires kubeVersion",
)
_POST_RENDER_MARKERS = ("error while running post render", "post-render", "postrender")
_LOCKED_MARKERS = ("another operation (install/upgrade/rollback) is in progress",)
_NOT_FOUND_MARKERS = ("has no deployed releases", "release: not found", "not found")
_TIMEOUT_MARKERS = ("context deadline exceeded", "timed out waiting")


def _sdk() -> Any:
    try:
        return importlib.import_module("helm_python")
    except ImportError as e:  # the package or its native library is missing
        raise EngineUnavailableError(
            f"the Helm engine needs {SDK_DISTRIBUTION} (Helm 4 in process): install it ({e})"
        ) from e


def _native() -> Any:
    _sdk()
    return importlib.import_module("helm_python._native")


def process_field_manager() -> str:
    """The basename of ``argv[0]`` as the process started (Helm's default field manager)."""
    try:
        argv0 = Path("/proc/self/cmdline").read_bytes().split(b"\0", 1)[0].decode()
    except (OSError, UnicodeDecodeError):
        argv0 = sys.argv[0] if sys.argv else "python"
    return os.path.basename(argv0) or "python"


def _seconds(timeout: float) -> int:
    return max(1, math.ceil(timeout))


def _wait(wait: bool, strategy: str) -> str:
    return strategy if wait else "hookOnly"


def classify(error: Exception, action: str) -> HelmError:
    """An SDK exception as a :mod:`weir.helmengine.errors` exception (the caller chains it)."""
    sdk = _sdk()
    text = str(error).strip() or type(error).__name__
    lowered = text.lower()
    if isinstance(error, sdk.HelmNotFoundError) or (
        action in ("upgrade", "rollback", "status", "history", "test", "uninstall")
        and any(m in lowered for m in _NOT_FOUND_MARKERS)
        and isinstance(error, sdk.HelmReleaseError)
    ):
        return ReleaseNotFoundError(f"{action}: {text}", action=action)
    if isinstance(error, sdk.HelmCancelledError) or any(m in lowered for m in _TIMEOUT_MARKERS):
        return ReleaseTimeoutError(
            f"{action} timed out: {text}; raise spec.timeout or check why the resources are "
            "not ready",
            action=action,
        )
    if any(m in lowered for m in _LOCKED_MARKERS):
        return ReleaseLockedError(f"{action}: {text}", action=action)
    if any(m.lower() in lowered for m in _POST_RENDER_MARKERS):
        return PostRenderError(f"{action} failed in post-rendering: {text}", action=action)
    if isinstance(error, sdk.HelmValuesError):
        return ValuesError(f"{action}: the values do not fit the chart: {text}")
    if isinstance(error, (sdk.HelmChartLoadError, sdk.HelmChartInvalidError)):
        return ChartError(f"{action}: the chart cannot be loaded: {text}")
    if isinstance(error, sdk.HelmRenderError) or any(m.lower() in lowered for m in _RENDER_MARKERS):
        return RenderError(f"{action}: the chart failed to render: {text}", action=action)
    if isinstance(error, sdk.HelmInvalidArgError):
        return UnsupportedOptionError(f"{action}: the engine refused an option: {text}")
    if action == "test":
        return ReleaseTestError(f"test failed: {text}", action=action)
    return ReleaseError(f"{action} failed: {text}", action=action)


def _release(summary: Mapping[str, Any], **extra: Any) -> Release:
    return Release(
        name=str(summary.get("name") or ""),
        namespace=str(summary.get("namespace") or ""),
        revision=int(summary.get("revision") or summary.get("version") or 0),
        status=str(summary.get("status") or ""),
        chart_name=str(summary.get("chart_name") or ""),
        chart_version=str(summary.get("chart_version") or ""),
        app_version=str(summary.get("app_version") or ""),
        manifest=str(summary.get("manifest") or ""),
        deployed_at=summary.get("deployed_at"),
        labels={str(k): str(v) for k, v in (summary.get("labels") or {}).items()},
        **extra,
    )


def _hooks(raw: Any) -> tuple[HookRun, ...]:
    hooks = []
    for hook in raw or ():
        last = hook.get("last_run") or {}
        hooks.append(
            HookRun(
                name=str(hook.get("name") or ""),
                events=tuple(str(e) for e in hook.get("events") or ()),
                phase=str(last.get("phase") or ""),
                started_at=last.get("started_at") or None,
                completed_at=last.get("completed_at") or None,
            )
        )
    return tuple(hooks)


def _opts(**pairs: Any) -> str:
    """JSON options, dropping unset (None) values; False is kept for tri-state keys."""
    return json.dumps({k: v for k, v in pairs.items() if v is not None})


class SdkEngine(HelmEngine):
    """See the module docstring."""

    def __init__(self, *, concurrency: int = 4, max_configs: int = 64) -> None:
        self._sdk = _sdk()
        self._native = _native()
        self._pool = concurrent.futures.ThreadPoolExecutor(
            max_workers=max(2, concurrency * 2), thread_name_prefix="weir-helm"
        )
        self._writes = asyncio.Semaphore(concurrency)
        self._locks: dict[tuple[str, str], asyncio.Lock] = {}
        self._configs: collections.OrderedDict[tuple[Any, ...], Any] = collections.OrderedDict()
        self._max_configs = max_configs
        self._plugin: str | None = None
        self._prserver = PostRenderServer()
        self._field_manager = process_field_manager()
        self._closed = False

    # ------------------------------------------------------------------------- plumbing
    @property
    def field_manager(self) -> str:
        return self._field_manager

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        configs = list(self._configs.values())
        self._configs.clear()
        for cfg in configs:
            cfg.close()
        await asyncio.to_thread(self._pool.shutdown, True)
        await asyncio.to_thread(self._prserver.close)

    def _config(self, access: ClusterAccess, namespace: str) -> Any:
        key = (
            access.kubeconfig,
            access.kubeconfig_content,
            access.context,
            access.impersonate,
            access.impersonate_groups,
            access.qps,
            access.burst,
            namespace,
        )
        cfg = self._configs.get(key)
        if cfg is not None:
            self._configs.move_to_end(key)
            return cfg
        cfg = self._sdk.Config(
            kubeconfig_path=access.kubeconfig,
            kubeconfig_content=access.kubeconfig_content,
            kube_context=access.context,
            kube_as_user=access.impersonate,
            kube_as_groups=list(access.impersonate_groups) or None,
            qps=access.qps,
            burst_limit=access.burst,
            namespace=namespace,
        )
        self._configs[key] = cfg
        while len(self._configs) > self._max_configs:
            _, old = self._configs.popitem(last=False)
            old.close()
        return cfg

    def _lock(self, namespace: str, name: str) -> asyncio.Lock:
        return self._locks.setdefault((namespace, name), asyncio.Lock())

    async def _run(self, fn: Callable[[], T], *, context: Any = None) -> T:
        """Run ``fn`` in the pool; on cancellation cancel ``context`` and wait for ``fn``."""
        if self._closed:
            raise EngineUnavailableError("the Helm engine is closed")
        future = asyncio.get_running_loop().run_in_executor(self._pool, fn)
        try:
            return await asyncio.shield(future)
        except asyncio.CancelledError:
            if context is not None:
                context.cancel()
            with contextlib.suppress(Exception):
                await future
            raise

    def _call(self, function: str, *args: Any) -> Any:
        return json.loads(self._native.call_string(function, *args))

    async def _action(self, action: str, fn: Callable[[], T], *, context: Any = None) -> T:
        try:
            return await self._run(fn, context=context)
        except PostRenderError as e:
            e.action = action
            raise
        except self._sdk.HelmError as e:
            raise classify(e, action) from e

    @staticmethod
    def _check_storage(storage_namespace: str | None, namespace: str) -> None:
        if storage_namespace and storage_namespace != namespace:
            raise UnsupportedOptionError(
                f"storageNamespace {storage_namespace!r} differs from the release namespace "
                f"{namespace!r}: the Helm engine (helm-python-sdk 0.2.2) stores releases in the "
                "release namespace; move the records around the action "
                "(weir.helm.storage.SecretsStorage.staged) and pass no storage_namespace"
            )

    @contextlib.contextmanager
    def _chart(self, chart: ChartSource) -> Iterator[tuple[Any, str | None]]:
        """(handle, ref) for the C ABI: a loaded archive, or a path reference."""
        if isinstance(chart, bytes):
            try:
                loaded = self._sdk.Chart.load_archive(chart)
            except self._sdk.HelmError as e:
                raise ChartError(f"the chart archive cannot be loaded: {e}") from e
            try:
                yield loaded._raw(), None
            finally:
                loaded.close()
        else:
            yield self._native.HANDLE(0), os.fspath(chart)

    @contextlib.contextmanager
    def _post_render_args(self, options: InstallOptions) -> Iterator[dict[str, Any]]:
        spec = options.post_render
        if spec is None or spec.empty:
            yield {}
            return
        if self._plugin is None:
            self._plugin = ensure_plugin()
        tmp = Path(tempfile.mkdtemp(prefix="weir-postrender-spec-"))
        try:
            spec_file = tmp / "spec.json"
            spec_file.write_text(spec.to_json())
            try:
                yield {
                    "post_renderer": self._plugin,
                    "post_renderer_args": plugin_args(spec_file, self._prserver.socket_path()),
                    "post_render_strategy": options.post_render_strategy,
                }
            except self._sdk.HelmError as e:
                reason = Path(f"{spec_file}.err")
                if reason.is_file():
                    raise PostRenderError(f"post-rendering failed: {reason.read_text()}") from e
                raise
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    @staticmethod
    def _install_opts(options: InstallOptions, namespace: str) -> dict[str, Any]:
        return {
            "namespace": namespace,
            "timeout_seconds": _seconds(options.timeout),
            "wait": _wait(options.wait, options.wait_strategy),
            "wait_for_jobs": (options.wait and options.wait_for_jobs) or None,
            "disable_hooks": options.disable_hooks or None,
            "description": options.description,
            "skip_crds": True,
            "server_side_apply": options.server_side_apply,
            "force_conflicts": (options.server_side_apply and options.force_conflicts) or None,
            "disable_openapi_validation": options.disable_openapi_validation or None,
            "skip_schema_validation": options.disable_schema_validation or None,
        }

    # ------------------------------------------------------------------------- charts
    async def load_chart(self, chart: ChartSource) -> ChartInfo:
        def load() -> ChartInfo:
            if isinstance(chart, bytes):
                loaded = self._sdk.Chart.load_archive(chart)
            else:
                loaded = self._sdk.Chart.load(os.fspath(chart))
            with loaded:
                crds = tuple(
                    (str(c.get("filename") or c.get("name")), str(c["data"])) for c in loaded.crds
                )
                return ChartInfo(dict(loaded.metadata), dict(loaded.values), crds)

        try:
            return await self._run(load)
        except self._sdk.HelmError as e:
            raise ChartError(f"the chart cannot be loaded: {e}") from e

    async def package(
        self,
        chart_dir: str | os.PathLike[str],
        dest_dir: str | os.PathLike[str],
        *,
        version: str | None = None,
        values: Mapping[str, Any] | None = None,
    ) -> Path:
        def build() -> Path:
            source = Path(chart_dir)
            with tempfile.TemporaryDirectory(prefix="weir-package-") as tmp:
                if values is not None:
                    from weir.helmengine.values import encode_values  # noqa: PLC0415

                    copy = Path(tmp) / source.name
                    shutil.copytree(source, copy, symlinks=False)
                    (copy / "values.yaml").write_text(encode_values(values))
                    source = copy
                Path(dest_dir).mkdir(parents=True, exist_ok=True)
                out = self._sdk.package(source, destination=dest_dir, version=version)
            return Path(out)

        try:
            return await self._run(build)
        except self._sdk.HelmError as e:
            # The directory is a temporary one of the controller's: never in a message.
            text = str(e).replace(f"{Path(chart_dir)}/", "").replace(str(Path(chart_dir)), ".")
            raise ChartError(f"packaging the chart failed: {text}") from e

    # ------------------------------------------------------------------------- actions
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
        options = options or InstallOptions()
        cfg = self._config(ClusterAccess() if client_only else access, namespace)
        action = "upgrade" if is_upgrade and not client_only else "install"

        def run() -> RenderResult:
            with self._chart(chart) as (handle, ref), self._post_render_args(options) as pr:
                opts = {**self._install_opts(options, namespace), **pr}
                dry_run = "client" if client_only else "server"
                opts.update(dry_run=dry_run, wait=None, wait_for_jobs=None)
                for key in ("take_ownership", "create_namespace"):
                    opts.pop(key, None)
                if action == "upgrade":
                    opts["server_side_apply"] = "auto" if options.server_side_apply else "false"
                result = self._call(
                    f"helm_{action}",
                    cfg._raw(),
                    self._native.HANDLE(0),
                    handle,
                    ref,
                    name,
                    json.dumps(dict(values or {})),
                    _opts(**opts),
                )
            return RenderResult(
                manifest=str(result.get("manifest") or ""), notes=str(result.get("notes") or "")
            )

        return await self._action(action, run)

    async def install(
        self,
        access: ClusterAccess,
        chart: ChartSource,
        name: str,
        namespace: str,
        *,
        values: Mapping[str, Any] | None = None,
        options: InstallOptions | None = None,
    ) -> Release:
        options = options or InstallOptions()
        extra = {
            "create_namespace": options.create_namespace or None,
            "replace": options.replace or None,
            "take_ownership": options.take_ownership or None,
        }
        return await self._chart_action(
            "install", access, chart, name, namespace, values, options, extra
        )

    async def upgrade(
        self,
        access: ClusterAccess,
        chart: ChartSource,
        name: str,
        namespace: str,
        *,
        values: Mapping[str, Any] | None = None,
        options: UpgradeOptions | None = None,
    ) -> Release:
        options = options or UpgradeOptions()
        extra = {
            "server_side_apply": options.server_side_apply_mode,
            "force_conflicts": options.force_conflicts or None,
            "force_replace": options.force or None,
            "cleanup_on_fail": options.cleanup_on_fail or None,
            "max_history": options.max_history,
            "take_ownership": options.take_ownership or None,
            "reuse_values": options.preserve_values or None,
            "reset_values": (not options.preserve_values) or None,
        }
        return await self._chart_action(
            "upgrade", access, chart, name, namespace, values, options, extra
        )

    async def _chart_action(  # noqa: PLR0917 - the private twin of install/upgrade
        self,
        action: str,
        access: ClusterAccess,
        chart: ChartSource,
        name: str,
        namespace: str,
        values: Mapping[str, Any] | None,
        options: InstallOptions,
        extra: Mapping[str, Any],
    ) -> Release:
        """Run ``helm_<action>`` (install or upgrade) with the chart, values and options,
        serialised per release and cancellable through a Helm context."""
        self._check_storage(options.storage_namespace, namespace)
        cfg = self._config(access, namespace)
        context = self._sdk.HelmContext()

        def run() -> Release:
            with self._chart(chart) as (handle, ref), self._post_render_args(options) as pr:
                opts = {**self._install_opts(options, namespace), **pr, **extra}
                summary = self._call(
                    f"helm_{action}",
                    cfg._raw(),
                    context._raw(),
                    handle,
                    ref,
                    name,
                    json.dumps(dict(values or {})),
                    _opts(**opts),
                )
            return _release(summary)

        try:
            async with self._lock(namespace, name), self._writes:
                return await self._action(action, run, context=context)
        finally:
            context.close()

    async def rollback(
        self,
        access: ClusterAccess,
        name: str,
        namespace: str,
        options: RollbackOptions | None = None,
    ) -> Release:
        options = options or RollbackOptions()
        self._check_storage(options.storage_namespace, namespace)
        cfg = self._config(access, namespace)

        def run() -> None:
            self._native.call_status(
                "helm_rollback",
                cfg._raw(),
                name,
                _opts(
                    version=options.revision or 0,
                    timeout_seconds=_seconds(options.timeout),
                    wait=_wait(options.wait, options.wait_strategy),
                    wait_for_jobs=(options.wait and options.wait_for_jobs) or None,
                    disable_hooks=options.disable_hooks or None,
                    force_replace=options.force or None,
                    force_conflicts=options.force_conflicts or None,
                    server_side_apply=options.server_side_apply,
                    cleanup_on_fail=options.cleanup_on_fail or None,
                    max_history=options.max_history,
                ),
            )

        async with self._lock(namespace, name), self._writes:
            await self._action("rollback", run)
        return await self.status(access, name, namespace)

    async def uninstall(
        self,
        access: ClusterAccess,
        name: str,
        namespace: str,
        options: UninstallOptions | None = None,
    ) -> Release | None:
        options = options or UninstallOptions()
        self._check_storage(options.storage_namespace, namespace)
        cfg = self._config(access, namespace)

        def run() -> Release | None:
            result = self._call(
                "helm_uninstall",
                cfg._raw(),
                name,
                _opts(
                    keep_history=options.keep_history or None,
                    timeout_seconds=_seconds(options.timeout),
                    wait=_wait(options.wait, options.wait_strategy),
                    disable_hooks=options.disable_hooks or None,
                    deletion_propagation=options.deletion_propagation,
                    ignore_not_found=options.ignore_not_found or None,
                    description=options.description,
                ),
            )
            summary = result.get("release")
            return _release(summary) if summary else None

        async with self._lock(namespace, name), self._writes:
            return await self._action("uninstall", run)

    async def test(
        self,
        access: ClusterAccess,
        name: str,
        namespace: str,
        options: ReleaseTestOptions | None = None,
    ) -> Release:
        options = options or ReleaseTestOptions()
        self._check_storage(options.storage_namespace, namespace)
        cfg = self._config(access, namespace)

        def run() -> None:
            self._call(
                "helm_test_run",
                cfg._raw(),
                name,
                _opts(
                    timeout_seconds=_seconds(options.timeout),
                    include_names=list(options.include) or None,
                    exclude_names=list(options.exclude) or None,
                ),
            )

        async with self._lock(namespace, name), self._writes:
            try:
                await self._action("test", run)
            except ReleaseTestError as e:
                with contextlib.suppress(HelmError):  # the hooks' outcome, for the reconciler
                    e.release = await self.status(access, name, namespace)
                raise
        return await self.status(access, name, namespace)

    # --------------------------------------------------------------------------- reads
    async def history(
        self,
        access: ClusterAccess,
        name: str,
        namespace: str,
        *,
        max_revisions: int | None = None,
        storage_namespace: str | None = None,
    ) -> list[Release]:
        cfg = self._config(access, storage_namespace or namespace)

        def run() -> list[Release]:
            rows = self._call("helm_history", cfg._raw(), name, _opts(max=max_revisions))
            return [_release(r) for r in rows]

        try:
            return await self._action("history", run)
        except ReleaseNotFoundError:
            return []

    async def status(
        self,
        access: ClusterAccess,
        name: str,
        namespace: str,
        *,
        revision: int | None = None,
        storage_namespace: str | None = None,
    ) -> Release:
        cfg = self._config(access, storage_namespace or namespace)

        def run() -> Release:
            full = self._call("helm_get", cfg._raw(), name, _opts(revision=revision))
            info = full.get("info") or {}
            return _release(
                full.get("summary") or {},
                first_deployed=info.get("first_deployed"),
                description=info.get("description"),
                config=dict(full.get("config") or {}),
                hooks=_hooks(full.get("hooks")),
            )

        return await self._action("status", run)

    async def get_values(
        self,
        access: ClusterAccess,
        name: str,
        namespace: str,
        *,
        all_values: bool = False,
        revision: int | None = None,
        storage_namespace: str | None = None,
    ) -> dict[str, Any]:
        cfg = self._config(access, storage_namespace or namespace)

        def run() -> dict[str, Any]:
            values = self._call(
                "helm_get_values",
                cfg._raw(),
                name,
                _opts(all=all_values or None, revision=revision),
            )
            return dict(values or {})

        return await self._action("get values", run)
