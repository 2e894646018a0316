"""The variables of ``spec.postBuild``: ``substituteFrom`` ConfigMaps and Secrets, then the
inline ``substitute`` map, merged as Flux does.

``substituteFrom`` entries are read in order from the Kustomization's namespace, later ones
overriding earlier ones; Secret values are base64-decoded; a missing object is skipped when the
entry is ``optional``. The inline ``substitute`` map overrides them all. Newlines are removed
from every value (Flux strips them so that a value stays on its line).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable, Mapping
from typing import Any

from kubernetes_asyncio.client import ApiClient

from weir.api.kustomize import PostBuild
from weir.kube import apply as kube
from weir.kube.errors import ApiError, NotFoundError
from weir.kube.resources import CONFIG_MAPS, SECRETS
from weir.kustomize.errors import SubstitutionError


def _clean(value: str) -> str:
    return value.replace("\n", "")


class Variables(dict[str, str]):
    """Merged variables, remembering which values came from Secrets (:attr:`sensitive`), so
    that every message the controller writes can redact them (:mod:`weir.kustomize.redact`)."""

    sensitive: frozenset[str] = frozenset()


def variables_from_object(obj: Mapping[str, Any]) -> dict[str, str]:
    """The variables a ConfigMap (``data``) or Secret (base64 ``data``) provides."""
    data = obj.get("data") or {}
    if obj.get("kind") != "Secret":
        return {str(k): _clean(str(v)) for k, v in data.items()}
    out = {}
    for key, value in data.items():
        try:
            out[str(key)] = _clean(base64.b64decode(str(value), validate=True).decode())
        except (binascii.Error, UnicodeDecodeError) as e:
            name = (obj.get("metadata") or {}).get("name")
            raise SubstitutionError(
                f"substitute from 'Secret/{name}' error: key {key!r} is not base64 UTF-8 text"
            ) from e
    return out


def merge_variables(
    layers: Iterable[Mapping[str, str]], inline: Mapping[str, str] | None = None
) -> dict[str, str]:
    """``layers`` in order (later wins), then ``inline`` over all of them."""
    merged: dict[str, str] = {}
    for layer in layers:
        merged.update(layer)
    merged.update({k: _clean(v) for k, v in (inline or {}).items()})
    return merged


async def load_variables(api: ApiClient, namespace: str, post_build: PostBuild) -> dict[str, str]:
    """Read the ``substituteFrom`` objects of a Kustomization in ``namespace`` and merge them
    with the inline variables. Raises :class:`SubstitutionError` naming the object that failed."""
    layers = []
    secret_values: set[str] = set()
    for ref in post_build.substitute_from or []:
        resource = SECRETS if ref.kind == "Secret" else CONFIG_MAPS
        try:
            obj = await kube.get(api, resource, namespace, ref.name)
        except NotFoundError as e:
            if ref.optional:
                continue
            raise SubstitutionError(
                f"substitute from '{ref.kind}/{ref.name}' error: not found in namespace "
                f"{namespace}; create it or mark the reference optional"
            ) from e
        except ApiError as e:
            raise SubstitutionError(f"substitute from '{ref.kind}/{ref.name}' error: {e}") from e
        layer = variables_from_object(obj)
        if ref.kind == "Secret":
            secret_values.update(layer.values())
        layers.append(layer)
    merged = Variables(merge_variables(layers, post_build.substitute))
    merged.sensitive = frozenset(secret_values)
    return merged
