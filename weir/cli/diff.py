"""``weir diff ks <name> --path DIR``: build as ``weir build`` does, then show what applying it
would change in the cluster (server-side dry-run as ``kustomize-controller``).

Exit codes are Flux's: 0 no differences, 1 differences, 2 (``>1``) an error (bad usage, a failed
build, an unreachable cluster, an object the API server refuses).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import typer

from weir.cli import options
from weir.cli.build import (
    IgnorePathsOpt,
    KustomizationFileOpt,
    LocalSourcesOpt,
    NameArg,
    PathOpt,
    RecursiveOpt,
    StrictOpt,
    build_options,
    default_namespace,
    kustomization_kind,
    lazy_cluster,
    notify,
)
from weir.cli.options import (
    ContextOpt,
    KindArg,
    KubeconfigOpt,
    KubeOptions,
    NamespaceOpt,
    OutputOpt,
)
from weir.cli.output import OutputFormat, emit, line, write
from weir.errors import WeirError

if TYPE_CHECKING:
    from weir.actions.build import BuildOptions
    from weir.actions.diff import DiffResult, FieldChange

EXIT_DIFFERENCES = 1
EXIT_ERROR = 2


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
        for obj in ks.objects:
            if obj.action not in CHANGING:
                continue
            note = f" ({obj.note})" if obj.note else ""
            lines.append(f"► {obj.ref} {obj.action}{note}")
            for change in obj.changes:
                lines += change_lines(change)
    return "".join(f"{ln}\n" for ln in lines)


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
    name: NameArg,
    path: PathOpt,
    kustomization_file: KustomizationFileOpt = None,
    namespace: NamespaceOpt = None,
    strict_substitute: StrictOpt = False,
    recursive: RecursiveOpt = False,
    local_sources: LocalSourcesOpt = None,
    ignore_paths: IgnorePathsOpt = None,
    output: OutputOpt = OutputFormat.table,
    kubeconfig: KubeconfigOpt = None,
    context: ContextOpt = None,
) -> None:
    """Build a Kustomization from a local directory and show what applying it would change:
    objects created, configured (with the fields that change) or deleted (prune).

    Exit code 0: no differences; 1: differences; 2: an error.
    Example: weir diff ks apps -n flux-system --path ./apps/production
    """
    try:
        kustomization_kind(kind, "diff")
        build_opts = build_options(
            path,
            kustomization_file,
            False,
            strict_substitute,
            recursive,
            local_sources,
            ignore_paths,
            suggest_dry_run=False,
        )
        opts = KubeOptions(kubeconfig, context, namespace)
        result = options.run(_diff(opts, name, build_opts))
    except WeirError as e:
        e.exit_code = max(e.exit_code, EXIT_ERROR)  # Flux: >1 is an error, 1 a difference
        raise
    if not emit(result.to_dict(), output):
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
        raise typer.Exit(EXIT_DIFFERENCES)
