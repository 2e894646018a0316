"""HelmRelease values as helm-controller composes them (:mod:`weir.helmengine.values`): the
``valuesFrom`` ConfigMaps and Secrets in order, then the inline ``spec.values``, composed twice:
once from the real data, to compare, and once with every value that comes from a Secret
replaced by ``***``, to show (so a comparison can tell that two secret values differ without
revealing either); and the differences of two values trees. Shared by the MCP server's values
tools and the web UI's release history.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import yaml
from kubernetes_asyncio.client import ApiClient

from weir.actions.masking import MASK, has_mask, mask_leaves
from weir.actions.objects import meta
from weir.helmengine.errors import ValuesError
from weir.helmengine.values import Values, ValuesRef, compose_values, read_values
from weir.kube import apply as kapi
from weir.kube.errors import NotFoundError
from weir.kube.resources import CONFIG_MAPS, SECRETS

Data = dict[str, str | bytes]


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


def decode_data(obj: Mapping[str, Any]) -> Data:
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
            objects[ident] = decode_data(await kapi.get(api, resource, namespace, ref.name))
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


UNKNOWN = "unknown"
"""The change of a path whose value is masked on either side: never compared."""


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


def value_at(values: Any, path: Sequence[str | int]) -> Any:
    node = values
    for part in path:
        if isinstance(node, Mapping):
            node = node.get(part)
        else:
            return None
    return node
