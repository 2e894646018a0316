"""``weir build hr [NAME] --path DIR``: HelmReleases rendered offline, with the controller's
chart sources, values composition and post-renderers (:mod:`weir.actions.helmrender`),
printed as ``weir build ks`` prints objects. ``weir diff hr`` (:mod:`weir.cli.diff_hr`)
shares the loading of the fleet."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from weir.cli import options
from weir.cli.build import BuildFormat, build_options, notify
from weir.cli.output import as_list, line, to_json, write
from weir.errors import UsageError

if TYPE_CHECKING:
    from weir.actions.build import ApiProvider
    from weir.actions.helmrender import Fleet, RenderedRelease, ValuesFile
    from weir.actions.masking import MaskPolicy
    from weir.cli.options import KubeOptions

ROOT_KUSTOMIZATION = "flux-system"


@dataclass(frozen=True)
class HelmBuildArgs:
    """The flags of ``weir build hr`` (and ``weir diff hr``)."""

    path: Path | None
    name: str | None = None
    kustomization_file: Path | None = None
    strict_substitute: bool = False
    recursive: bool = False
    local_sources: list[str] | None = None
    ignore_paths: list[str] | None = None
    values_from: list[str] | None = None
    source_files: list[str] | None = None
    timeout: float = 300.0


def root_kustomization(file: Path | None, path: Path) -> tuple[str, str | None]:
    """The Kustomization ``--path`` is built as: the one ``--kustomization-file`` defines
    (when it defines several, the one whose ``spec.path`` is ``--path``), else an empty one
    named ``flux-system``."""
    if file is None:
        return ROOT_KUSTOMIZATION, None
    from weir import yamlio  # noqa: PLC0415
    from weir.actions.build import is_kustomization  # noqa: PLC0415

    try:
        docs = [d for d in yamlio.load_all(file.read_text()) if is_kustomization(d)]
    except (OSError, yamlio.YAMLError) as e:
        raise UsageError(f"cannot read --kustomization-file {file}: {e}") from e
    if not docs:
        raise UsageError(f"{file} defines no Flux Kustomization")
    if len(docs) > 1:
        wanted = path.resolve()
        docs = [d for d in docs if _names_path(d, wanted)] or docs
    if len(docs) > 1:
        names = ", ".join(str((d.get("metadata") or {}).get("name")) for d in docs)
        raise UsageError(
            f"{file} defines several Kustomizations ({names}) and none has --path as its "
            "spec.path: keep the one to build in the file"
        )
    meta = docs[0].get("metadata") or {}
    return str(meta.get("name")), meta.get("namespace")


def _names_path(doc: Any, wanted: Path) -> bool:
    spec_path = str((doc.get("spec") or {}).get("path") or "").lstrip("./")
    return bool(spec_path) and wanted.as_posix().endswith(spec_path.rstrip("/"))


@asynccontextmanager
async def fleet_of(
    args: HelmBuildArgs,
    opts: KubeOptions,
    api: ApiProvider | None,
) -> AsyncIterator[Fleet]:
    """The fleet ``--path`` builds (offline unless ``api`` is given), kept while in use."""
    from weir.actions.build import Builder  # noqa: PLC0415
    from weir.actions.helmrender import load_fleet, read_source_files  # noqa: PLC0415

    if args.path is None:
        raise UsageError(
            "weir build hr needs --path DIR: the directory whose build holds the HelmRelease, "
            "e.g. weir build hr podinfo -n apps --path ./clusters/production --recursive"
        )
    build_opts = build_options(
        args.path,
        args.kustomization_file,
        api is None,
        args.strict_substitute,
        args.recursive,
        args.local_sources,
        args.ignore_paths,
        suggest_dry_run=False,
        timeout=args.timeout,
    )
    build_opts = dataclasses.replace(build_opts, live_kustomization=False)
    extra = read_source_files(Path(p) for p in args.source_files or [])
    name, namespace = root_kustomization(args.kustomization_file, args.path)
    async with Builder(build_opts, api, notify) as builder:
        built = await builder.build(name, namespace, options.default_namespace())
        yield await load_fleet(builder, built, extra)


def values_files(args: HelmBuildArgs) -> list[ValuesFile]:
    from weir.actions.helmrender import parse_values_from  # noqa: PLC0415

    return parse_values_from(args.values_from or [])


async def _render(opts: KubeOptions, args: HelmBuildArgs) -> list[RenderedRelease]:
    from weir.actions.helmrender import (  # noqa: PLC0415
        ValuesSource,
        find_helmreleases,
        render_helmreleases,
    )
    from weir.helmengine.service import default_engine  # noqa: PLC0415

    files = values_files(args)
    async with fleet_of(args, opts, None) as fleet:
        found = find_helmreleases(fleet, args.name, opts.namespace)
        engine = default_engine()
        try:
            return await render_helmreleases(
                engine, fleet, found, ValuesSource(fleet, files, notify=notify), notify
            )
        finally:
            await engine.aclose()


def build(opts: KubeOptions, args: HelmBuildArgs, policy: MaskPolicy, output: BuildFormat) -> None:
    """``weir build hr``: render and print (never connects to a cluster)."""
    from weir.actions.build import mask_secrets, to_yaml  # noqa: PLC0415

    rendered = options.run(_render(opts, args))
    objects = mask_secrets([o for r in rendered for o in r.all_objects], policy)
    if output is BuildFormat.json:
        write(to_json(as_list(objects)))
    elif objects:
        write(to_yaml(objects))
    else:
        line("the HelmReleases render no objects", err=True)
