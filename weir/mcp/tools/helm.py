"""HelmRelease values: ``get_helmrelease_values`` and ``compare_helmrelease_values``.

Values are composed as helm-controller composes them (:mod:`weir.helmengine.values`): the
``valuesFrom`` ConfigMaps and Secrets in order, then the inline ``spec.values``. They are
composed twice: once from the real data, to compare, and once with every value that comes from a
Secret replaced by ``***``, to show. A comparison compares what it shows: a path where either
side is a masked value is ``unknown``, whether the values are equal or not. (Comparing the real
values would confirm a guess: a HelmRelease with the guessed value inline, compared with one
whose value comes from a Secret, would show no difference exactly when the guess is right.)
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any

import yaml
from kubernetes_asyncio.client import ApiClient
from mcp_types import CallToolResult
from pydantic import Field

from weir.actions.masking import MASK, has_mask, mask_leaves
from weir.actions.objects import get_object, meta, status
from weir.api import KINDS
from weir.helmengine.errors import ValuesError
from weir.helmengine.values import Values, ValuesRef, compose_values, read_values
from weir.kube import apply as kapi
from weir.kube.errors import NotFoundError
from weir.kube.resources import CONFIG_MAPS, SECRETS
from weir.mcp.env import ToolEnv
from weir.mcp.output import parse_path, respond, select
from weir.mcp.tooling import READ, ToolSpec
from weir.mcp.tools.params import Name, Namespace
from weir.types import Obj

Data = dict[str, str | bytes]
MAX_DIFFERENCES = 200
UNKNOWN = "unknown"
"""The change of a path whose value is masked on one side at least (not compared)."""


def refs_of(hr: Mapping[str, Any]) -> list[ValuesRef]:
    out = []
    for ref in (hr.get("spec") or {}).get("valuesFrom") or []:
        if isinstance(ref, Mapping):
            out.append(
                ValuesRef(
                    kind=str(ref.get("kind", "")),
                    name=str(ref.get("name", "")),
                    values_key=ref.get("valuesKey"),
                    target_path=ref.get("targetPath"),
                    optional=bool(ref.get("optional")),
                    literal=bool(ref.get("literal")),
                )
            )
    return out


def _decode(obj: Mapping[str, Any]) -> Data:
    out: Data = {}
    if obj.get("kind") == "Secret":
        for key, value in (obj.get("data") or {}).items():
            try:
                out[key] = base64.b64decode(str(value))
            except (binascii.Error, ValueError):
                out[key] = b""
        for key, value in (obj.get("stringData") or {}).items():
            out[key] = str(value).encode()
        return out
    out.update(obj.get("data") or {})
    for key, value in (obj.get("binaryData") or {}).items():
        out[key] = base64.b64decode(str(value))
    return out


def masked_data(data: Data) -> Data:
    """A Secret's data with every value masked: YAML maps keep their keys (their leaves become
    ``***``); anything else becomes the string ``***``."""
    out: Data = {}
    for key, raw in data.items():
        try:
            parsed = read_values(raw)
        except ValuesError:
            parsed = None
        if parsed is not None:
            out[key] = yaml.safe_dump(mask_leaves(parsed))
        else:
            out[key] = f"'{MASK}'"
    return out


@dataclass
class Composed:
    real: Values
    shown: Values
    """``real`` with the values from Secrets masked (or ``real`` when masking is off)."""
    sources: list[str]


async def compose(api: ApiClient, hr: Mapping[str, Any], mask: bool) -> Composed:
    """The values of a HelmRelease (see the module docstring)."""
    namespace = str(meta(hr).get("namespace", ""))
    refs = refs_of(hr)
    objects: dict[tuple[str, str], Data | None] = {}
    for ref in refs:
        ident = (ref.kind, ref.name)
        if ident in objects or ref.kind not in ("Secret", "ConfigMap"):
            continue
        resource = SECRETS if ref.kind == "Secret" else CONFIG_MAPS
        try:
            objects[ident] = _decode(await kapi.get(api, resource, namespace, ref.name))
        except NotFoundError:
            objects[ident] = None
    inline = (hr.get("spec") or {}).get("values")
    inline = inline if isinstance(inline, Mapping) else None
    real = compose_values(refs, lambda k, n: objects.get((k, n)), inline, namespace=namespace)
    shown = real
    if mask and any(k == "Secret" for k, _ in objects):

        def masked(kind: str, name: str) -> Data | None:
            data = objects.get((kind, name))
            return masked_data(data) if data is not None and kind == "Secret" else data

        try:
            shown = compose_values(refs, masked, inline, namespace=namespace)
        except ValuesError:
            shown = mask_leaves(real)  # never show what could not be masked precisely
    sources = [ref.describe(namespace) for ref in refs]
    return Composed(real, shown, sources)


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


def path_text(parts: Sequence[str | int]) -> str:
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        elif "." in part or "[" in part:
            out += f"['{part}']"
        else:
            out += f".{part}" if out else part
    return out


def differences(
    a: Any, b: Any, path: tuple[str | int, ...] = (), *, masked: bool = False
) -> list[tuple[tuple[str | int, ...], str]]:
    """Paths where two values trees differ: ``changed``, ``onlyInA`` or ``onlyInB``. Maps are
    compared key by key; lists and scalars as a whole. With ``masked`` (the trees as shown,
    Secret values masked) a value that is or holds the mask on either side is ``unknown``:
    never compared, so that the answer says nothing about it."""
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        out: list[tuple[tuple[str | int, ...], str]] = []
        for key in sorted({*a, *b}, key=str):
            if key not in b:
                out.append(((*path, key), "onlyInA"))
            elif key not in a:
                out.append(((*path, key), "onlyInB"))
            else:
                out.extend(differences(a[key], b[key], (*path, key), masked=masked))
        return out
    if masked and (has_mask(a) or has_mask(b)):
        return [(path, UNKNOWN)]
    return [] if a == b else [(path, "changed")]


def _at(values: Any, path: Sequence[str | int]) -> Any:
    node = values
    for part in path:
        if isinstance(node, Mapping):
            node = node.get(part)
        else:
            return None
    return node


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
            shown_a, shown_b = _at(a.shown, path), _at(b.shown, path)
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
