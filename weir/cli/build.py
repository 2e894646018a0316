"""``weir build ks <name> --path DIR``: what the controller would apply, built from a local
checkout with its own pipeline, printed as multi-document YAML (Secret values masked).

With ``--kustomization-file`` or ``--dry-run`` it needs no cluster (``--dry-run`` never connects;
a file alone connects only to read ``substituteFrom``), which is what CI pipelines want.
The options shared with ``weir diff`` are defined here.
"""

from __future__ import annotations

import enum
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from weir.cli import options
from weir.cli.options import ContextOpt, KindArg, KubeconfigOpt, KubeOptions, NamespaceOpt
from weir.cli.output import as_list, line, to_json, write
from weir.errors import UsageError

if TYPE_CHECKING:
    from kubernetes_asyncio.client import ApiClient

    from weir.actions.build import ApiProvider, BuildOptions, BuiltKustomization


class BuildFormat(enum.StrEnum):
    yaml = "yaml"
    json = "json"


NameArg = Annotated[str, typer.Argument(help="Name of the Kustomization.", show_default=False)]
PathOpt = Annotated[
    Path,
    typer.Option(
        "--path",
        help="Local directory to build (replaces spec.path), e.g. ./clusters/production.",
        show_default=False,
    ),
]
KustomizationFileOpt = Annotated[
    Path | None,
    typer.Option(
        "--kustomization-file",
        help="YAML file defining the Kustomization (instead of reading it from the cluster).",
        show_default=False,
    ),
]
StrictOpt = Annotated[
    bool,
    typer.Option(
        "--strict-substitute",
        help="Fail on variables that are not set (as the controller does) instead of "
        "substituting an empty string.",
    ),
]
RecursiveOpt = Annotated[
    bool,
    typer.Option("--recursive", "-r", help="Also build the Kustomizations found in the output."),
]
LocalSourcesOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--local-sources",
        help="Local checkout of a source: Kind/namespace/name=path (repeat, or comma-separate).",
        show_default=False,
    ),
]
IgnorePathsOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--ignore-paths",
        help="Paths to leave out, in .gitignore format, like a GitRepository's spec.ignore.",
        show_default=False,
    ),
]


def kustomization_kind(kind: str, command: str) -> None:
    """Refuse any kind but Kustomization (unknown kinds get the usual usage error)."""
    info = options.kinds_of(kind, single=True)[0]
    if info.kind != "Kustomization":
        raise UsageError(
            f"weir {command} works on Kustomizations, not {info.kind}: "
            f"use `weir {command} ks <name> --path DIR`"
        )


def build_options(  # noqa: PLR0917 -- the flags of build and diff
    path: Path,
    kustomization_file: Path | None,
    dry_run: bool,
    strict_substitute: bool,
    recursive: bool,
    local_sources: list[str] | None,
    ignore_paths: list[str] | None,
    *,
    suggest_dry_run: bool = True,
) -> BuildOptions:
    from weir.actions.build import BuildOptions, parse_local_sources  # noqa: PLC0415

    return BuildOptions(
        path=path,
        kustomization_file=kustomization_file,
        dry_run=dry_run,
        strict_substitute=strict_substitute,
        recursive=recursive,
        local_sources=parse_local_sources(local_sources or []),
        ignore_paths=tuple(p for value in ignore_paths or [] for p in value.split(",") if p),
        suggest_dry_run=suggest_dry_run,
    )


def default_namespace(opts: KubeOptions) -> str:
    """``-n``, else the flux CLI's default (``flux-system``, or ``$FLUX_SYSTEM_NAMESPACE``);
    it does not depend on a kubeconfig, so an offline build takes it too."""
    return opts.namespace or options.default_namespace()


def notify(text: str) -> None:
    line(text, err=True)


@asynccontextmanager
async def lazy_cluster(opts: KubeOptions) -> AsyncIterator[ApiProvider]:
    """A function returning the API client, connecting on its first call only (so that a
    build that needs nothing from the cluster never connects), closed on exit."""
    async with AsyncExitStack() as stack:
        sessions: list[options.Session] = []

        async def api() -> ApiClient:
            if not sessions:
                sessions.append(await stack.enter_async_context(options.connect(opts)))
            return sessions[0].api

        yield api


async def build_kustomization(
    opts: KubeOptions, name: str, build_opts: BuildOptions
) -> BuiltKustomization:
    """Build (connecting to the cluster only when needed)."""
    from weir.actions.build import Builder  # noqa: PLC0415

    async with lazy_cluster(opts) as api, Builder(build_opts, api, notify) as builder:
        default = default_namespace(opts)
        return await builder.build(name, opts.namespace, default)


BuildNameArg = Annotated[
    str | None,
    typer.Argument(help="Name of the Kustomization (not for rset).", show_default=False),
]
BuildPathOpt = Annotated[
    Path | None,
    typer.Option(
        "--path",
        help="ks: local directory to build (replaces spec.path), e.g. ./clusters/production.",
        show_default=False,
    ),
]


def command(  # noqa: PLR0917 -- typer maps each parameter to an argument or flag
    kind: KindArg,
    name: BuildNameArg = None,
    path: BuildPathOpt = None,
    kustomization_file: KustomizationFileOpt = None,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run",
            help="Never connect to a cluster: substituteFrom is skipped (only inline variables).",
        ),
    ] = False,
    namespace: NamespaceOpt = None,
    strict_substitute: StrictOpt = False,
    recursive: RecursiveOpt = False,
    local_sources: LocalSourcesOpt = None,
    ignore_paths: IgnorePathsOpt = None,
    output: Annotated[
        BuildFormat, typer.Option("-o", "--output", help="Multi-document YAML or a JSON List.")
    ] = BuildFormat.yaml,
    kubeconfig: KubeconfigOpt = None,
    context: ContextOpt = None,
    filename: Annotated[
        str | None,
        typer.Option(
            "--filename",
            "-f",
            help="rset: the ResourceSet manifest ('-' for stdin).",
            show_default=False,
        ),
    ] = None,
    inputs_from: Annotated[
        str | None,
        typer.Option(
            "--inputs-from",
            "-i",
            help="rset: YAML list of input sets (replaces spec.inputs).",
            show_default=False,
        ),
    ] = None,
    inputs_from_provider: Annotated[
        list[str] | None,
        typer.Option(
            "--inputs-from-provider",
            help="rset: ResourceSetInputProvider manifests for spec.inputsFrom (repeat).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Build a Kustomization from a local directory as the controller would (kustomize,
    patches, postBuild substitution, commonMetadata, owner labels) and print the objects,
    Secret values masked; or render a ResourceSet offline as the Flux Operator does.

    KIND is ks (Kustomization) or rset (ResourceSet). Examples: weir build ks apps --path
    ./apps/production --kustomization-file ./clusters/production/apps.yaml --dry-run;
    weir build rset -f podinfo.yaml --inputs-from-provider providers.yaml
    """
    from weir.actions.build import mask_secrets, to_yaml  # noqa: PLC0415

    info = options.kinds_of(kind, single=True)[0]
    if info.kind == "ResourceSet":
        _build_resourceset(filename, inputs_from, inputs_from_provider, namespace, output)
        return
    if info.kind != "Kustomization":
        raise UsageError(
            f"weir build works on Kustomizations and ResourceSets, not {info.kind}: "
            "use `weir build ks <name> --path DIR` or `weir build rset -f FILE`"
        )
    if name is None or path is None:
        raise UsageError(
            "weir build ks needs a NAME and --path DIR: weir build ks apps --path ./apps"
        )
    build_opts = build_options(
        path, kustomization_file, dry_run, strict_substitute, recursive, local_sources, ignore_paths
    )
    opts = KubeOptions(kubeconfig, context, namespace)
    built = options.run(build_kustomization(opts, name, build_opts))
    objects = mask_secrets(built.all_objects())
    if output is BuildFormat.json:
        write(to_json(as_list(objects)))
    elif objects:
        write(to_yaml(objects))
    else:
        line(f"{built.display} builds no objects", err=True)


def _build_resourceset(
    filename: str | None,
    inputs_from: str | None,
    inputs_from_provider: list[str] | None,
    namespace: str | None,
    output: BuildFormat,
) -> None:
    from weir.cli.build_rset import build, to_yaml  # noqa: PLC0415

    pairs, _ = build(filename, inputs_from, inputs_from_provider, namespace)
    if output is BuildFormat.json:
        write(to_json(as_list([obj for _, obj in pairs])))
    else:
        write(to_yaml(pairs))
