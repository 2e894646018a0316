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

from weir.cli import fluxflags as ff
from weir.cli import options
from weir.cli.fluxflags import FluxGlobals
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
        "--strict-substitute/--no-strict-substitute",
        help="Fail on variables that are not set (as the controller does) instead of "
        "substituting an empty string.",
    ),
]
RecursiveOpt = Annotated[
    bool,
    typer.Option(
        "--recursive/--no-recursive",
        "-r",
        help="Also build the Kustomizations found in the output.",
    ),
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
        help="Paths to leave out, in .gitignore format, like a GitRepository's spec.ignore "
        "(repeat, or comma-separate).",
        show_default=False,
    ),
]
InMemoryBuildOpt = Annotated[
    bool,
    typer.Option(
        "--in-memory-build/--no-in-memory-build",
        help="Accepted as flux does: weir always builds in a private copy and never writes "
        "into --path.",
    ),
]
MaskSecretsOpt = Annotated[
    bool,
    typer.Option(
        "--mask-secrets/--no-mask-secrets",
        help="Mask every Secret value (default: as flux build, only SOPS-encrypted values).",
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
    timeout: float | None = None,
) -> BuildOptions:
    from weir.actions.build import (  # noqa: PLC0415
        DEFAULT_TIMEOUT,
        BuildOptions,
        parse_local_sources,
    )

    if kustomization_file is not None and not kustomization_file.is_file():
        raise UsageError(
            f"invalid kustomization file {str(kustomization_file)!r}: give the YAML file that "
            "defines the Kustomization"
        )
    return BuildOptions(
        path=path,
        kustomization_file=kustomization_file,
        dry_run=dry_run,
        strict_substitute=strict_substitute,
        recursive=recursive,
        local_sources=parse_local_sources(local_sources or []),
        ignore_paths=tuple(p for value in ignore_paths or [] for p in value.split(",") if p),
        suggest_dry_run=suggest_dry_run,
        timeout=DEFAULT_TIMEOUT if timeout is None else timeout,
    )


def flux_globals(  # noqa: PLR0917 -- one value per flag
    timeout: str,
    as_: str | None,
    as_group: list[str] | None,
    as_uid: str | None,
    certificate_authority: str | None,
    client_certificate: str | None,
    client_key: str | None,
    cluster: str | None,
    user: str | None,
    insecure: bool,
    server: str | None,
    tls_server_name: str | None,
    token: str | None,
) -> FluxGlobals:
    """The flux CLI's inherited flags (the no-op ones are not needed)."""
    return FluxGlobals(
        timeout=timeout,
        server=server,
        token=token,
        certificate_authority=certificate_authority,
        client_certificate=client_certificate,
        client_key=client_key,
        insecure_skip_tls_verify=insecure,
        tls_server_name=tls_server_name,
        cluster=cluster,
        user=user,
        impersonate=as_,
        impersonate_groups=tuple(as_group or ()),
        impersonate_uid=as_uid,
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
    typer.Argument(
        help="Name of the Kustomization (ks) or HelmRelease (hr; all of them when left out).",
        show_default=False,
    ),
]
BuildPathOpt = Annotated[
    Path | None,
    typer.Option(
        "--path",
        help="ks, hr: local directory to build (replaces spec.path), e.g. ./clusters/production.",
        show_default=False,
    ),
]
ValuesFromOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--values-from",
        help="hr: a valuesFrom object from a file: Kind/name=FILE or Kind/namespace/name=FILE "
        "(a ConfigMap or Secret manifest, or the text of its key); repeat.",
        show_default=False,
    ),
]
SourceFileOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--source-file",
        help="hr: YAML file with more objects the release refers to (HelmRepository, "
        "GitRepository, OCIRepository, HelmChart, ConfigMap, Secret); repeat.",
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
            "--dry-run/--no-dry-run",
            help="Never connect to a cluster: substituteFrom is skipped (only inline variables).",
        ),
    ] = False,
    namespace: NamespaceOpt = None,
    strict_substitute: StrictOpt = False,
    recursive: RecursiveOpt = False,
    local_sources: LocalSourcesOpt = None,
    ignore_paths: IgnorePathsOpt = None,
    in_memory_build: InMemoryBuildOpt = False,
    mask_secrets: MaskSecretsOpt = False,
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
    values_from: ValuesFromOpt = None,
    source_file: SourceFileOpt = None,
    timeout: ff.TimeoutFlag = "5m0s",
    verbose: ff.VerboseFlag = False,
    as_: ff.AsFlag = None,
    as_group: ff.AsGroupFlag = None,
    as_uid: ff.AsUidFlag = None,
    cache_dir: ff.CacheDirFlag = None,
    certificate_authority: ff.CertificateAuthorityFlag = None,
    client_certificate: ff.ClientCertificateFlag = None,
    client_key: ff.ClientKeyFlag = None,
    cluster: ff.ClusterFlag = None,
    user: ff.UserFlag = None,
    disable_compression: ff.DisableCompressionFlag = False,
    insecure_skip_tls_verify: ff.InsecureFlag = False,
    kube_api_burst: ff.KubeApiBurstFlag = None,
    kube_api_qps: ff.KubeApiQpsFlag = None,
    request_timeout: ff.RequestTimeoutFlag = None,
    server: ff.ServerFlag = None,
    tls_server_name: ff.TlsServerNameFlag = None,
    token: ff.TokenFlag = None,
) -> None:
    """Build a Kustomization from a local directory as flux build does (kustomize, patches,
    postBuild substitution, commonMetadata, owner labels; Secrets as flux build prints
    them); render HelmReleases offline; or render a ResourceSet as the Flux Operator does.

    KIND is ks (Kustomization), hr (HelmRelease) or rset (ResourceSet). Examples: weir build
    ks apps --path ./apps/production --kustomization-file ./clusters/production/apps.yaml
    --dry-run; weir build hr podinfo -n apps --path ./clusters/production --recursive; weir
    build rset -f podinfo.yaml --inputs-from-provider providers.yaml
    """
    del in_memory_build, verbose, cache_dir, disable_compression  # accepted as flux does
    del kube_api_burst, kube_api_qps, request_timeout
    from weir.actions.build import printed_objects, to_yaml  # noqa: PLC0415
    from weir.actions.masking import BUILD, FLUX_BUILD  # noqa: PLC0415

    info = options.kinds_of(kind, single=True)[0]
    if info.kind == "ResourceSet":
        _build_resourceset(filename, inputs_from, inputs_from_provider, namespace, output)
        return
    if info.kind not in ("Kustomization", "HelmRelease"):
        raise UsageError(
            f"weir build works on Kustomizations, HelmReleases and ResourceSets, not "
            f"{info.kind}: use `weir build ks <name> --path DIR`, `weir build hr <name> --path "
            "DIR` or `weir build rset -f FILE`"
        )
    globals_ = flux_globals(
        timeout,
        as_,
        as_group,
        as_uid,
        certificate_authority,
        client_certificate,
        client_key,
        cluster,
        user,
        insecure_skip_tls_verify,
        server,
        tls_server_name,
        token,
    )
    opts = KubeOptions(kubeconfig, context, namespace, overrides=globals_.overrides())
    policy = BUILD if mask_secrets else FLUX_BUILD
    if info.kind == "HelmRelease":
        from weir.cli import build_hr  # noqa: PLC0415

        build_hr.build(
            opts,
            build_hr.HelmBuildArgs(
                name=name,
                path=path,
                kustomization_file=kustomization_file,
                strict_substitute=strict_substitute,
                recursive=recursive,
                local_sources=local_sources,
                ignore_paths=ignore_paths,
                values_from=values_from,
                source_files=source_file,
                timeout=globals_.timeout_seconds,
            ),
            policy,
            output,
        )
        return
    if name is None or path is None:
        raise UsageError(
            "weir build ks needs a NAME and --path DIR: weir build ks apps --path ./apps"
        )
    build_opts = build_options(
        path,
        kustomization_file,
        dry_run,
        strict_substitute,
        recursive,
        local_sources,
        ignore_paths,
        timeout=globals_.timeout_seconds,
    )
    built = options.run(build_kustomization(opts, name, build_opts))
    objects = printed_objects(built, policy)
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
