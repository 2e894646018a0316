"""``weir diff hr NAME --path DIR``: render the HelmRelease from the local checkout as
``weir build hr`` does (with the cluster for ``lookup`` and for ``valuesFrom`` objects the
checkout does not hold), then show what reconciling it would change: the release (install,
upgrade and why) and each object (:mod:`weir.actions.helmdiff`). Exit codes as ``weir diff
ks``: 0 no differences, 1 differences, 2 an error."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from weir.cli import options
from weir.cli.build import lazy_cluster, notify
from weir.cli.build_hr import HelmBuildArgs, fleet_of, values_files

if TYPE_CHECKING:
    from kubernetes_asyncio.client import ApiClient

    from weir.actions.diff import DiffResult
    from weir.cli.diff import DiffFormat
    from weir.cli.options import KubeOptions
    from weir.helmengine.engine import ClusterAccess
    from weir.types import Obj


@dataclass(frozen=True)
class HelmDiffArgs:
    """The flags of ``weir diff hr`` besides NAME and ``--path``."""

    kustomization_file: Path | None = None
    strict_substitute: bool = False
    recursive: bool = False
    local_sources: list[str] | None = None
    ignore_paths: list[str] | None = None
    values_from: list[str] | None = None
    source_files: list[str] | None = None
    timeout: float = 300.0


def cluster_access(opts: KubeOptions) -> ClusterAccess:
    """The Helm engine's view of the command's cluster and identity (the connection flags
    become a kubeconfig of their own)."""
    import yaml  # noqa: PLC0415

    from weir.helmengine.engine import ClusterAccess  # noqa: PLC0415
    from weir.kube.client import overridden_config  # noqa: PLC0415

    target = options.target_of(opts)
    overrides = opts.overrides
    if overrides is not None and overrides.changes_config:
        merged, context = overridden_config(opts.kubeconfig, target.context, overrides)
        return ClusterAccess(
            kubeconfig_content=yaml.safe_dump(merged),
            context=context,
            impersonate=overrides.impersonate,
            impersonate_groups=overrides.impersonate_groups,
        )
    return ClusterAccess(
        kubeconfig=opts.kubeconfig,
        context=target.context,
        impersonate=overrides.impersonate if overrides else None,
        impersonate_groups=overrides.impersonate_groups if overrides else (),
    )


def _cluster_getter(api: ApiClient) -> Any:
    from weir.kube import apply as kube  # noqa: PLC0415
    from weir.kube.errors import NotFoundError  # noqa: PLC0415
    from weir.kube.resources import CONFIG_MAPS, SECRETS  # noqa: PLC0415

    async def get(kind: str, namespace: str, name: str) -> Obj | None:
        resource = SECRETS if kind == "Secret" else CONFIG_MAPS
        try:
            return await kube.get(api, resource, namespace, name)
        except NotFoundError:
            return None

    return get


async def _diff(opts: KubeOptions, name: str, path: Path, args: HelmDiffArgs) -> DiffResult:
    from weir.actions.diff import DiffResult  # noqa: PLC0415
    from weir.actions.helmdiff import diff_helmreleases  # noqa: PLC0415
    from weir.actions.helmrender import ValuesSource, find_helmreleases  # noqa: PLC0415
    from weir.helmengine.service import default_engine  # noqa: PLC0415

    hargs = HelmBuildArgs(
        path=path,
        name=name,
        kustomization_file=args.kustomization_file,
        strict_substitute=args.strict_substitute,
        recursive=args.recursive,
        local_sources=args.local_sources,
        ignore_paths=args.ignore_paths,
        values_from=args.values_from,
        source_files=args.source_files,
        timeout=args.timeout,
    )
    files = values_files(hargs)
    access = cluster_access(opts)
    async with lazy_cluster(opts) as api_provider:
        api = await api_provider()
        async with fleet_of(hargs, opts, api_provider) as fleet:
            found = find_helmreleases(fleet, name, opts.namespace)
            source = ValuesSource(fleet, files, cluster=_cluster_getter(api), notify=notify)
            engine = default_engine()
            try:
                diffs = await diff_helmreleases(api, engine, access, fleet, found, source, notify)
            finally:
                await engine.aclose()
    return DiffResult(list(diffs), key="helmReleases")


def diff(opts: KubeOptions, name: str, path: Path, args: HelmDiffArgs, output: DiffFormat) -> None:
    """``weir diff hr``: render, compare, print and exit as ``weir diff ks`` does."""
    from weir.cli.diff import show  # noqa: PLC0415

    result = options.run(_diff(opts, name, path, args))
    show(result, output)
