"""``weir install`` / ``weir uninstall``: weir into the current context without Helm, as
``flux-operator install`` / ``uninstall`` do (the logic is :mod:`weir.cli.installer`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
import yaml

from weir.cli import options
from weir.cli.options import ContextOpt, KubeconfigOpt, KubeOptions, NamespaceOpt
from weir.cli.output import OK, line
from weir.errors import UsageError


def _set_value(values: dict[str, Any], item: str) -> None:
    """``a.b=c`` into ``values`` (``true``/``false``/numbers as YAML reads them)."""
    key, eq, raw = item.partition("=")
    if not eq or not key:
        raise UsageError(f"--set {item!r}: give key=value, e.g. web.ingress.enabled=true")
    node = values
    parts = key.split(".")
    for part in parts[:-1]:
        node = node.setdefault(part, {})
        if not isinstance(node, dict):
            raise UsageError(f"--set {item!r}: {part} is not a map")
    node[parts[-1]] = yaml.safe_load(raw) if raw else ""


def _load_values(files: list[Path], sets: list[str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for f in files:
        loaded = yaml.safe_load(f.read_text()) or {}
        if not isinstance(loaded, dict):
            raise UsageError(f"--values {f}: not a YAML map")
        values.update(loaded)
    for item in sets:
        _set_value(values, item)
    return values


def install(  # noqa: PLR0917 -- typer maps each parameter to a flag
    instance: Annotated[
        Path | None,
        typer.Option(
            "--instance",
            "-f",
            help="A FluxInstance manifest to apply once the operator runs (waited until Ready).",
            exists=True,
            dir_okay=False,
        ),
    ] = None,
    release: Annotated[
        str, typer.Option("--release", help="Name of the operator's objects (svc/<release>).")
    ] = "flux-operator",
    values_files: Annotated[
        list[Path] | None,
        typer.Option("--values", help="Chart values file (charts/weir/values.yaml's keys)."),
    ] = None,
    set_values: Annotated[
        list[str] | None,
        typer.Option("--set", help="A chart value, key=value (e.g. web.ingress.enabled=true)."),
    ] = None,
    wait: Annotated[
        bool, typer.Option("--wait/--no-wait", help="Wait for the operator and the instance.")
    ] = True,
    timeout: Annotated[str, typer.Option("--timeout", help="How long to wait.")] = "5m",
    namespace: NamespaceOpt = None,
    kubeconfig: KubeconfigOpt = None,
    context: ContextOpt = None,
) -> None:
    """Install the operator (the chart's objects, rendered in process: no Helm needed) and,
    with --instance, a FluxInstance. Safe to run again: it applies the same objects."""
    from weir.cli.installer import InstallPlan  # noqa: PLC0415

    doc: dict[str, Any] | None = None
    if instance is not None:
        doc = yaml.safe_load(instance.read_text())
        if not isinstance(doc, dict) or doc.get("kind") != "FluxInstance":
            raise UsageError(f"--instance {instance}: not a FluxInstance manifest")
    plan = InstallPlan(
        namespace=namespace or options.default_namespace(),
        release=release,
        values=_load_values(values_files or [], set_values or []),
        instance=doc,
        wait=wait,
        timeout=options.parse_duration(timeout),
    )
    options.run(_install(KubeOptions(kubeconfig, context, namespace), plan))


async def _install(opts: KubeOptions, plan: Any) -> None:
    from weir.cli.installer import install as do_install  # noqa: PLC0415

    async with options.connect(opts) as session:
        line(f"► installing weir in {session.target.describe()}, namespace {plan.namespace}")
        await do_install(
            session.api,
            plan,
            kubeconfig=opts.kubeconfig,
            context=session.target.context,
            progress=lambda m: line(f"{OK} {m}"),
        )
    line(f"{OK} installed")


def uninstall(  # noqa: PLR0917 -- typer maps each parameter to a flag
    release: Annotated[str, typer.Option("--release", help="The install's release name.")] = (
        "flux-operator"
    ),
    keep_namespace: Annotated[
        bool, typer.Option("--keep-namespace", help="Do not delete the namespace.")
    ] = False,
    delete_crds: Annotated[
        bool,
        typer.Option(
            "--delete-crds",
            help="Also delete the CRDs, and with them every Flux object (GitRepository, "
            "Kustomization, HelmRelease, ...). Without it they are kept.",
        ),
    ] = False,
    timeout: Annotated[str, typer.Option("--timeout", help="How long to wait.")] = "5m",
    namespace: NamespaceOpt = None,
    kubeconfig: KubeconfigOpt = None,
    context: ContextOpt = None,
) -> None:
    """Uninstall weir: the FluxInstance (its controllers go, the workloads they applied stay),
    then the operator. Flux objects and CRDs are kept unless --delete-crds."""
    options.run(
        _uninstall(
            KubeOptions(kubeconfig, context, namespace),
            release,
            keep_namespace,
            delete_crds,
            options.parse_duration(timeout),
        )
    )


async def _uninstall(
    opts: KubeOptions,
    release: str,
    keep_namespace: bool,
    delete_crds: bool,
    timeout: float,  # noqa: ASYNC109
) -> None:
    from weir.cli.installer import uninstall as do_uninstall  # noqa: PLC0415

    async with options.connect(opts) as session:
        line(f"► uninstalling weir from {session.target.describe()}, namespace {session.namespace}")
        await do_uninstall(
            session.api,
            namespace=session.namespace,
            release=release,
            keep_namespace=keep_namespace,
            delete_crds=delete_crds,
            timeout=timeout,
            progress=lambda m: line(f"{OK} {m}"),
        )
    line(f"{OK} uninstalled")
