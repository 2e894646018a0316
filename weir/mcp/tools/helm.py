"""HelmRelease values: ``get_helmrelease_values`` and ``compare_helmrelease_values``.

Values are composed as helm-controller composes them, twice (:mod:`weir.actions.helmvalues`,
shared with the web UI): once from the real data, to compare, and once with every value that
comes from a Secret replaced by ``***``, to show. A comparison compares what it shows: a path
where either side is a masked value is ``unknown``, whether the values are equal or not.
(Comparing the real values would confirm a guess: a HelmRelease with the guessed value inline,
compared with one whose value comes from a Secret, would show no difference exactly when the
guess is right.)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from kubernetes_asyncio.client import ApiClient
from mcp_types import CallToolResult
from pydantic import Field

from weir.actions.helmvalues import (
    UNKNOWN,
    Composed,
    compose,
    differences,
    path_text,
    value_at,
)
from weir.actions.masking import has_mask
from weir.actions.objects import get_object, meta, status
from weir.api import KINDS
from weir.mcp.env import ToolEnv
from weir.mcp.output import parse_path, respond, select
from weir.mcp.tooling import READ, ToolSpec
from weir.mcp.tools.params import Name, Namespace
from weir.types import Obj

MAX_DIFFERENCES = 200
"""The change of a path whose value is masked on one side at least (not compared)."""


def chart_of(hr: Mapping[str, Any]) -> Obj:
    spec = hr.get("spec") or {}
    namespace = meta(hr).get("namespace")
    out: Obj = {}
    chart = (spec.get("chart") or {}).get("spec") or {}
    if chart:
        out["chart"] = chart.get("chart")
        out["version"] = chart.get("version") or "*"
        source = chart.get("sourceRef") or {}
        where = source.get("namespace") or namespace
        out["source"] = f"{source.get('kind')}/{where}/{source.get('name')}"
    elif spec.get("chartRef"):
        ref = spec["chartRef"]
        where = ref.get("namespace") or namespace
        out["chartRef"] = f"{ref.get('kind')}/{where}/{ref.get('name')}"
    history = status(hr).get("history") or []
    if history and isinstance(history[0], Mapping):
        out["deployedChartVersion"] = history[0].get("chartVersion")
        out["deployedAppVersion"] = history[0].get("appVersion")
    return {k: v for k, v in out.items() if v is not None}


async def _load(api: ApiClient, name: str, namespace: str, mask: bool) -> tuple[Obj, Composed]:
    hr = await get_object(api, KINDS["HelmRelease"], namespace, name)
    return hr, await compose(api, hr, mask)


def tools(env: ToolEnv) -> list[ToolSpec]:
    async def get_helmrelease_values(
        *,
        name: Name,
        namespace: Namespace = None,
        path: Annotated[
            str | None,
            Field(description="Only the values under this path, e.g. image or resources.limits."),
        ] = None,
    ) -> CallToolResult:
        """The values a HelmRelease gives its chart: valuesFrom ConfigMaps/Secrets merged in
        order, then spec.values, as helm-controller composes them. Values from Secrets are
        masked."""
        api = await env.api()
        ns = env.namespace(namespace)
        hr, composed = await _load(api, name, ns, env.settings.mask_secrets)
        values: Any = composed.shown
        if path:
            parse_path(path)
            values = select(composed.shown, [path])[path]
        data: Obj = {
            "helmRelease": f"{ns}/{name}",
            "chart": chart_of(hr),
            "valuesFrom": composed.sources or None,
            "values": values,
        }
        return respond({k: v for k, v in data.items() if v is not None}, env.settings.max_output)

    async def compare_helmrelease_values(
        *,
        name: Name,
        other_name: Annotated[str, Field(description="Name of the HelmRelease to compare with.")],
        namespace: Namespace = None,
        other_namespace: Annotated[
            str | None,
            Field(description="Namespace of the other HelmRelease (default: `namespace`)."),
        ] = None,
    ) -> CallToolResult:
        """Compare the values of two HelmReleases (e.g. staging and production): chart and
        version, valuesFrom sources, and every path whose value differs. Values from Secrets
        are masked and not compared: such a path is listed with change `unknown` and
        `secret: true`, whether the values are equal or not."""
        api = await env.api()
        ns_a = env.namespace(namespace)
        ns_b = other_namespace or ns_a
        mask = env.settings.mask_secrets
        hr_a, a = await _load(api, name, ns_a, mask)
        hr_b, b = await _load(api, other_name, ns_b, mask)
        found = differences(a.shown, b.shown, masked=True) if mask else differences(a.real, b.real)
        rows = []
        for path, change in found[:MAX_DIFFERENCES]:
            shown_a, shown_b = value_at(a.shown, path), value_at(b.shown, path)
            row: Obj = {"path": path_text(path) or "(root)", "change": change}
            if change != "onlyInB":
                row["a"] = shown_a
            if change != "onlyInA":
                row["b"] = shown_b
            if has_mask(shown_a) or has_mask(shown_b):
                row["secret"] = True
            rows.append(row)
        chart_a, chart_b = chart_of(hr_a), chart_of(hr_b)
        data: Obj = {
            "a": f"HelmRelease/{ns_a}/{name}",
            "b": f"HelmRelease/{ns_b}/{other_name}",
            "chart": {"a": chart_a, "b": chart_b, "same": chart_a == chart_b},
            "valuesFrom": {"a": a.sources, "b": b.sources},
            "summary": {
                "changed": sum(1 for _, c in found if c == "changed"),
                "onlyInA": sum(1 for _, c in found if c == "onlyInA"),
                "onlyInB": sum(1 for _, c in found if c == "onlyInB"),
                UNKNOWN: sum(1 for _, c in found if c == UNKNOWN),
            },
            "differences": rows or "none: the values are identical",
        }
        if len(found) > MAX_DIFFERENCES:
            data["truncated"] = f"{MAX_DIFFERENCES} of {len(found)} differences shown"
        return respond(data, env.settings.max_output)

    return [
        ToolSpec(get_helmrelease_values, "HelmRelease values", READ),
        ToolSpec(compare_helmrelease_values, "Compare HelmRelease values", READ),
    ]
