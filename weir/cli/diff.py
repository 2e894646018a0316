"""``weir diff ks <name> --path DIR``: build as ``weir build`` does, then show what applying it
would change in the cluster (server-side dry-run as ``kustomize-controller``).

Exit codes are Flux's: 0 no differences, 1 differences, 2 (``>1``) an error (bad usage, a failed
build, an unreachable cluster, an object the API server refuses).

``-o flux`` prints what ``flux diff`` prints (``► Kind/ns/name created|drifted|deleted``, a
drifted object's fields as dyff reports them: :mod:`weir.actions.fluxdiff`), so that scripts
reading ``flux diff`` read ``weir diff`` too. ``weir diff hr`` is in :mod:`weir.cli.diff_hr`.
"""

from __future__ import annotations

import contextlib
import enum
import json
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from weir.cli import fluxflags as ff
from weir.cli import options
from weir.cli.build import (
    IgnorePathsOpt,
    InMemoryBuildOpt,
    KustomizationFileOpt,
    LocalSourcesOpt,
    RecursiveOpt,
    SourceFileOpt,
    StrictOpt,
    ValuesFromOpt,
    build_options,
    default_namespace,
    flux_globals,
    lazy_cluster,
    notify,
)
from weir.cli.options import (
    ContextOpt,
    KindArg,
    KubeconfigOpt,
    KubeOptions,
    NamespaceOpt,
)
from weir.cli.output import OutputFormat, Spinner, emit, line, write
from weir.errors import UsageError, WeirError

if TYPE_CHECKING:
    from weir.actions.build import BuildOptions
    from weir.actions.diff import DiffResult, FieldChange

EXIT_DIFFERENCES = 1
EXIT_ERROR = 2
FLUX_CHANGED = "identified at least one change, exiting with non-zero exit code"


class DiffFormat(enum.StrEnum):
    table = "table"
    json = "json"
    yaml = "yaml"
    flux = "flux"


DiffOutputOpt = Annotated[
    DiffFormat,
    typer.Option(
        "-o",
        "--output",
        help="table (weir's), json, yaml, or flux (flux diff's text: ► Kind/ns/name drifted).",
    ),
]


# ----------------------------------------------------------------------------- text output
def _scalar(value: Any) -> str:
    """A scalar as YAML writes it (``"1"`` stays quoted, so it does not read as a number)."""
    from weir import yamlio  # noqa: PLC0415
    from weir.actions.masking import MASK_AFTER, MASK_BEFORE  # noqa: PLC0415

    if value in (MASK_BEFORE, MASK_AFTER):
        return str(value)
    if isinstance(value, str) and value == value.strip() and "\n" not in value:
        text = yamlio.dump(value).strip()
        return text.removesuffix("...").strip()
    return json.dumps(value, default=str, ensure_ascii=False)


def value_lines(sign: str, value: Any) -> list[str]:
    """``- old`` / ``+ new`` lines; maps, lists and multi-line text as indented YAML."""
    from weir import yamlio  # noqa: PLC0415

    if isinstance(value, dict | list) and value:
        text = yamlio.dump(value).rstrip("\n").splitlines()
    elif isinstance(value, str) and "\n" in value:
        text = value.rstrip("\n").splitlines()
    else:
        text = [_scalar(value)]
    return [f"    {sign} {text[0]}", *(f"      {t}" for t in text[1:])]


def change_lines(change: FieldChange) -> list[str]:
    out = [f"  {change.path}"]
    if change.has_before:
        out += value_lines("-", change.before)
    if change.has_after:
        out += value_lines("+", change.after)
    return out


def render(result: DiffResult) -> str:
    """``► Kind/ns/name created|configured|deleted`` per object that changes, with the fields
    a configured object changes; unchanged and skipped objects are left out."""
    from weir.actions.diff import CHANGING  # noqa: PLC0415

    lines: list[str] = []
    for ks in result.kustomizations:
        header = ks.header()
        if header:
            lines.append(header)
        for obj in ks.objects:
            if obj.action not in CHANGING:
                continue
            note = f" ({obj.note})" if obj.note else ""
            lines.append(f"► {obj.ref} {obj.action}{note}")
            for change in obj.changes:
                lines += change_lines(change)
    return "".join(f"{ln}\n" for ln in lines)


def render_flux(result: DiffResult) -> str:
    """``flux diff``'s text: ``► Kind/ns/name created|drifted|deleted`` in build order, a
    drifted object's differences as dyff reports them; a nested Kustomization with changes
    is announced by ``📁 Kustomization/ns/name changed``."""
    from weir.actions.diff import CHANGING  # noqa: PLC0415
    from weir.actions.fluxdiff import report, report_changes  # noqa: PLC0415

    out: list[str] = []
    for index, ks in enumerate(result.kustomizations):
        changed = [o for o in ks.objects if o.action in CHANGING]
        header = ks.header()
        if header:
            out.append(header + "\n")
        elif index and changed:
            out.append(f"📁 Kustomization/{ks.namespace}/{ks.name} changed\n")
        for obj in changed:
            word = "drifted" if str(obj.action) == "configured" else str(obj.action)
            out.append(f"► {obj.ref} {word}\n")
            if obj.live is not None and obj.merged is not None:
                out.append(report(obj.live, obj.merged, secret=obj.is_secret))
            elif obj.changes:
                out.append(report_changes(obj.changes, secret=obj.is_secret))
    return "".join(out)


def summary(result: DiffResult) -> str:
    counts = result.counts()
    parts = [f"{counts[a]} {a}" for a in ("created", "configured", "deleted") if counts.get(a)]
    if not parts:
        return "✔ no changes"
    return "✗ changes: " + ", ".join(parts)


# ----------------------------------------------------------------------------- the command
async def _diff(opts: KubeOptions, name: str, build_opts: BuildOptions) -> DiffResult:
    from weir.actions.build import Builder  # noqa: PLC0415
    from weir.actions.diff import diff  # noqa: PLC0415

    async with lazy_cluster(opts) as api, Builder(build_opts, api, notify) as builder:
        built = await builder.build(name, opts.namespace, default_namespace(opts))
        return await diff(await api(), built)


def command(  # noqa: PLR0917 -- typer maps each parameter to an argument or flag
    kind: KindArg,
    name: Annotated[
        str | None,
        typer.Argument(
            help="Name of the Kustomization (ks) or HelmRelease (hr).", show_default=False
        ),
    ] = None,
    path: Annotated[
        Path | None,
        typer.Option(
            "--path",
            help="Local directory to build (replaces spec.path), e.g. ./apps/production.",
            show_default=False,
        ),
    ] = None,
    kustomization_file: KustomizationFileOpt = None,
    namespace: NamespaceOpt = None,
    strict_substitute: StrictOpt = False,
    recursive: RecursiveOpt = False,
    local_sources: LocalSourcesOpt = None,
    ignore_paths: IgnorePathsOpt = None,
    in_memory_build: InMemoryBuildOpt = False,
    progress_bar: Annotated[
        bool,
        typer.Option(
            "--progress-bar/--no-progress-bar",
            help="A spinner on stderr while the dry-runs run (only on a terminal).",
        ),
    ] = True,
    ignore_not_found: Annotated[
        bool,
        typer.Option(
            "--ignore-not-found/--no-ignore-not-found",
            help="Accepted as flux does: with --kustomization-file weir never needs the "
            "Kustomization to exist in the cluster.",
        ),
    ] = False,
    output: DiffOutputOpt = DiffFormat.table,
    kubeconfig: KubeconfigOpt = None,
    context: ContextOpt = None,
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
    """Build a Kustomization from a local directory and show what applying it would change:
    objects created, configured (with the fields that change) or deleted (prune); or what
    applying a HelmRelease rendered from it would change (hr).

    Exit code 0: no differences; 1: differences; 2: an error.
    Example: weir diff ks apps -n flux-system --path ./apps/production
    """
    del in_memory_build, ignore_not_found, verbose, cache_dir, disable_compression
    del kube_api_burst, kube_api_qps, request_timeout
    try:
        info = options.kinds_of(kind, single=True)[0]
        if info.kind not in ("Kustomization", "HelmRelease"):
            raise UsageError(
                f"weir diff works on Kustomizations and HelmReleases, not {info.kind}: "
                "use `weir diff ks <name> --path DIR` or `weir diff hr <name> --path DIR`"
            )
        if name is None or path is None:
            raise UsageError(
                f"weir diff {'hr' if info.kind == 'HelmRelease' else 'ks'} needs a NAME and "
                "--path DIR: weir diff ks apps --path ./apps"
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
        if info.kind == "HelmRelease":
            from weir.cli import diff_hr  # noqa: PLC0415

            diff_hr.diff(
                opts,
                name,
                path,
                diff_hr.HelmDiffArgs(
                    kustomization_file=kustomization_file,
                    strict_substitute=strict_substitute,
                    recursive=recursive,
                    local_sources=local_sources,
                    ignore_paths=ignore_paths,
                    values_from=values_from,
                    source_files=source_file,
                    timeout=globals_.timeout_seconds,
                ),
                output,
            )
            return
        build_opts = build_options(
            path,
            kustomization_file,
            False,
            strict_substitute,
            recursive,
            local_sources,
            ignore_paths,
            suggest_dry_run=False,
            timeout=globals_.timeout_seconds,
        )
        with Spinner("Kustomization diffing... running dry-run") if progress_bar else _nothing():
            result = options.run(_diff(opts, name, build_opts))
    except WeirError as e:
        e.exit_code = max(e.exit_code, EXIT_ERROR)  # Flux: >1 is an error, 1 a difference
        raise
    show(result, output)


def show(result: DiffResult, output: DiffFormat) -> None:
    """Print the result in the format asked for, then exit as Flux does (0, 1, 2)."""
    if output is DiffFormat.flux:
        write(render_flux(result))
    elif not emit(result.to_dict(), OutputFormat(output.value)):
        write(render(result))
        line(summary(result), err=True)
    for problem in result.errors:
        line(f"✗ {problem}", err=True)
    if result.errors:
        error = WeirError(
            f"{len(result.errors)} object(s) could not be compared (see above): "
            "fix them in the repository, or check what the API server says"
        )
        error.exit_code = EXIT_ERROR
        raise error
    if result.differs:
        if output is DiffFormat.flux:
            line(f"✗ {FLUX_CHANGED}", err=True)
        raise typer.Exit(EXIT_DIFFERENCES)


@contextlib.contextmanager
def _nothing() -> Iterator[None]:
    yield
