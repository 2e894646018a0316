"""``weir trace <kind> <name>`` (or ``<kind>/<name>``): which Kustomization or HelmRelease
manages an object, from which source, at which revision, up to the root Kustomization."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from weir.cli import options
from weir.cli.options import ContextOpt, KubeconfigOpt, KubeOptions, NamespaceOpt, OutputOpt
from weir.cli.output import OutputFormat, emit, write
from weir.errors import UsageError

if TYPE_CHECKING:
    from weir.actions.trace import Step, Trace


def split_target(kind: str, name: str | None) -> tuple[str, str]:
    """``deployment erigon`` or ``deployment/erigon`` -> (kind, name)."""
    if name is None:
        kind, sep, name = kind.partition("/")
        if not sep or not kind or not name:
            raise UsageError(
                "give the object as KIND NAME or KIND/NAME, e.g. `weir trace deployment/erigon`"
            )
    elif "/" in kind:
        raise UsageError("give the object as KIND NAME or KIND/NAME, not both")
    return kind, name


def _field(label: str, value: str, width: int) -> str:
    return f"{label + ':':<{width}} {value}\n"


def _step_lines(step: Step) -> list[tuple[str, str]]:
    ref = step.ref
    rows = [(ref.kind, ref.name)]
    if ref.namespace:
        rows.append(("Namespace", ref.namespace))
    if not step.found:
        rows.append(("Status", "not found"))
        return rows
    for key, label in (("url", "URL"), ("chart", "Chart"), ("path", "Path")):
        if key in step.details:
            rows.append((label, step.details[key]))
    if step.revision:
        rows.append(("Revision", step.revision))
    if step.suspended:
        rows.append(("Suspended", "True"))
    if step.ready:
        status = f"Ready={step.ready}" + (f" ({step.reason})" if step.reason else "")
        rows.append(("Status", status))
    if step.message:
        rows.append(("Message", step.message))
    return rows


def render(trace: Trace) -> str:
    """``flux trace`` style: the object, then each manager with its sources, separated by
    ``---``."""
    blocks: list[list[tuple[str, str]]] = [_step_lines(trace.object)]
    for source in trace.object.sources:
        blocks.append(_step_lines(source))
    for manager in trace.managers:
        blocks.append(_step_lines(manager))
        blocks.extend(_step_lines(s) for s in manager.sources)
    width = max(len(label) + 1 for block in blocks for label, _ in block)
    parts = ["".join(_field(label, value, width) for label, value in block) for block in blocks]
    return "---\n".join(parts)


def command(  # noqa: PLR0917 -- typer maps each parameter to an argument or flag
    kind: Annotated[
        str,
        typer.Argument(
            help="Kind (any: deployment, svc, ks, ...), or KIND/NAME.", show_default=False
        ),
    ],
    name: Annotated[str | None, typer.Argument(help="Name.", show_default=False)] = None,
    namespace: NamespaceOpt = None,
    output: OutputOpt = OutputFormat.table,
    kubeconfig: KubeconfigOpt = None,
    context: ContextOpt = None,
) -> None:
    """Show which Kustomization or HelmRelease manages an object, its source and revision,
    and the Kustomizations above it."""
    kind, name = split_target(kind, name)
    options.run(_main(KubeOptions(kubeconfig, context, namespace), kind, name, output))


async def _main(opts: KubeOptions, kind: str, name: str, output: OutputFormat) -> None:
    from weir.actions.discovery import resolve_resource  # noqa: PLC0415
    from weir.actions.trace import trace  # noqa: PLC0415

    async with options.connect(opts) as session:
        resource = await resolve_resource(session.api, kind)
        found = await trace(session.api, resource, session.namespace, name)
    if not emit(found.to_dict(), output):
        write(render(found))
