"""YAML as Kubernetes tools read it, on PyYAML's C loader when available.

PyYAML implements YAML 1.1 in full, which differs from the Go decoders Kubernetes and Flux use
(go-yaml v2 through ``sigs.k8s.io/yaml``) in a few ways that matter for manifests:

- ``12:30`` is a string, not the base-60 integer 750;
- ``2024-01-01`` stays a string instead of becoming a ``datetime.date``;
- a lone ``=`` is a string (PyYAML refuses it as an unknown ``value`` tag);
- ``1e3`` is a float.

``yes``/``no``/``on``/``off`` stay booleans, as go-yaml v2 reads them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import yaml

_BaseLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_BaseDumper: type[yaml.SafeDumper] = getattr(yaml, "CSafeDumper", yaml.SafeDumper)

_INT = re.compile(
    r"""^(?:[-+]?0b[0-1_]+
    |[-+]?0[0-7_]+
    |[-+]?(?:0|[1-9][0-9_]*)
    |[-+]?0x[0-9a-fA-F_]+)$""",
    re.X,
)
_FLOAT = re.compile(
    r"""^(?:[-+]?(?:[0-9][0-9_]*\.[0-9_]*|\.[0-9_]+)(?:[eE][-+]?[0-9]+)?
    |[-+]?[0-9][0-9_]*[eE][-+]?[0-9]+
    |[-+]?\.(?:inf|Inf|INF)
    |\.(?:nan|NaN|NAN))$""",
    re.X,
)
_DROPPED = {
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:timestamp",
    "tag:yaml.org,2002:value",
}


class KubeLoader(_BaseLoader):  # type: ignore[misc,valid-type]
    """A safe loader with Kubernetes-compatible implicit types (see the module docstring)."""


KubeLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag not in _DROPPED]
    for first, resolvers in _BaseLoader.yaml_implicit_resolvers.items()
}
KubeLoader.add_implicit_resolver("tag:yaml.org,2002:int", _INT, list("-+0123456789"))
KubeLoader.add_implicit_resolver("tag:yaml.org,2002:float", _FLOAT, list("-+0123456789."))


class _Dumper(_BaseDumper):  # type: ignore[misc,valid-type]
    """Quotes every string that PyYAML *or* :class:`KubeLoader` would read as another type."""


_Dumper.add_implicit_resolver("tag:yaml.org,2002:float", _FLOAT, list("-+0123456789."))


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)

YAMLError = yaml.YAMLError


def load(text: str) -> Any:
    """One YAML document."""
    return yaml.load(text, Loader=KubeLoader)  # KubeLoader is a safe loader


def load_all(text: str) -> Iterator[Any]:
    """Every document of a YAML stream (empty documents come out as None)."""
    return yaml.load_all(text, Loader=KubeLoader)


def dump(value: Any) -> str:
    """A block-style YAML document, keys in insertion order, multi-line strings as literals."""
    text: str = yaml.dump(
        value, Dumper=_Dumper, sort_keys=False, default_flow_style=False, width=1 << 30
    )
    return text
