"""CustomResourceDefinitions generated from the models.

``generate()`` returns the ``apiextensions.k8s.io/v1`` CRDs of every kind in
:data:`weir.api.kinds.KINDS`; ``render()`` prints them as multi-document YAML (or a JSON
``List``). The committed copy in ``charts/weir/crds/crds.yaml`` is regenerated with::

    uv run --frozen python -m weir.api.crds > charts/weir/crds/crds.yaml
"""

from __future__ import annotations

import copy
import json
import sys
from functools import cache
from typing import Any, Literal

import yaml

from weir.api.kinds import KINDS, KindInfo
from weir.api.schema import structural_schema

SUBSTITUTE_ANNOTATION = "kustomize.toolkit.fluxcd.io/substitute"
REGENERATE = "uv run --frozen python -m weir.api.crds > charts/weir/crds/crds.yaml"
HEADER = (
    "# CustomResourceDefinitions of the Flux kinds weir serves.\n"
    "# Generated from the models in weir/api; do not edit. Regenerate with:\n"
    f"#   {REGENERATE}\n"
)

_API_VERSION_DOC = (
    "APIVersion defines the versioned schema of this representation of an object. "
    "Servers should convert recognized schemas to the latest internal value, and may reject "
    "unrecognized values."
)
_KIND_DOC = (
    "Kind is a string value representing the REST resource this object represents. "
    "Servers may infer this from the endpoint the client submits requests to. "
    "Cannot be updated. In CamelCase."
)


def object_schema(info: KindInfo) -> dict[str, Any]:
    """The ``openAPIV3Schema`` of a kind: the model's schema with the standard object
    fields (apiVersion, kind, metadata) in the form Kubernetes requires."""
    schema = structural_schema(info.model)
    props = schema["properties"]
    props["apiVersion"] = {"type": "string", "description": _API_VERSION_DOC}
    props["kind"] = {"type": "string", "description": _KIND_DOC}
    props["metadata"] = {"type": "object"}
    return schema


def crd(info: KindInfo) -> dict[str, Any]:
    """The CustomResourceDefinition of one kind."""
    names: dict[str, Any] = {
        "kind": info.kind,
        "listKind": info.list_kind,
        "plural": info.plural,
        "singular": info.singular,
    }
    if info.short_names:
        names["shortNames"] = list(info.short_names)
    if info.categories:
        names["categories"] = list(info.categories)
    version: dict[str, Any] = {
        "name": info.version,
        "served": True,
        "storage": True,
        "schema": {"openAPIV3Schema": object_schema(info)},
    }
    if info.has_status:
        version["subresources"] = {"status": {}}
    if info.printer_columns:
        version["additionalPrinterColumns"] = [c.to_crd() for c in info.printer_columns]
    labels = {"app.kubernetes.io/part-of": "weir"}
    if info.controller:
        labels["app.kubernetes.io/component"] = info.controller
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {
            "name": info.crd_name,
            "annotations": {SUBSTITUTE_ANNOTATION: "disabled"},
            "labels": labels,
        },
        "spec": {
            "group": info.group,
            "names": names,
            "scope": "Namespaced" if info.namespaced else "Cluster",
            "versions": [version],
        },
    }


@cache
def _generated() -> tuple[dict[str, Any], ...]:
    return tuple(crd(info) for info in sorted(KINDS.values(), key=lambda i: (i.group, i.kind)))


def generate() -> list[dict[str, Any]]:
    """The CRDs of all kinds, ordered by group then kind (a fresh copy on each call)."""
    return copy.deepcopy(list(_generated()))


@cache
def render(fmt: Literal["yaml", "json"] = "yaml") -> str:
    """The CRDs as multi-document YAML (with a header) or as a JSON ``v1/List``."""
    crds = generate()
    if fmt == "json":
        return json.dumps({"apiVersion": "v1", "kind": "List", "items": crds}, indent=2) + "\n"
    docs = [yaml.safe_dump(c, sort_keys=True, width=100) for c in crds]
    return HEADER + "".join(f"---\n{d}" for d in docs)


def main(argv: list[str] | None = None) -> int:
    """``python -m weir.api.crds [yaml|json]``: print the CRDs."""
    args = sys.argv[1:] if argv is None else argv
    fmt = args[0] if args else "yaml"
    if fmt not in ("yaml", "json"):
        sys.stderr.write("usage: python -m weir.api.crds [yaml|json]\n")
        return 2
    sys.stdout.write(render("json" if fmt == "json" else "yaml"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
