"""YAML as Kubernetes tools read it, on PyYAML's C loader when available.

PyYAML implements YAML 1.1 in full, which differs from the Go decoders Kubernetes and Flux use
(go-yaml v2 through ``sigs.k8s.io/yaml``) in a few ways that matter for manifests:

- ``12:30`` is a string, not the base-60 integer 750;
- ``2024-01-01`` stays a string instead of becoming a ``datetime.date``;
- a lone ``=`` is a string (PyYAML refuses it as an unknown ``value`` tag);
- ``1e3`` is a float.

``yes``/``no``/``on``/``off`` stay booleans, as go-yaml v2 reads them.

Aliases are bounded as go-yaml v2 bounds them: an anchor whose value contains an alias of
itself is an error (PyYAML would build a cyclic object, and every walk of it would recurse
without end), and so is a document that grows mostly by alias expansion (a "billion laughs": a
1 KB document that expands to 10^9 nodes for whatever walks it, values merging or JSON
encoding). The rule is go-yaml's: beyond 100 aliases and 1000 decoded nodes, aliases may make up
99% of the nodes up to 400,000 decoded nodes, falling to 10% at 4,000,000.
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


ALIAS_RATIO_LOW = 400_000
ALIAS_RATIO_HIGH = 4_000_000


def _allowed_alias_ratio(decoded: int) -> float:
    """go-yaml v2's ``allowedAliasRatio``."""
    if decoded <= ALIAS_RATIO_LOW:
        return 0.99
    if decoded >= ALIAS_RATIO_HIGH:
        return 0.10
    return 0.99 - 0.89 * (decoded - ALIAS_RATIO_LOW) / (ALIAS_RATIO_HIGH - ALIAS_RATIO_LOW)


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def check_aliases(root: yaml.Node) -> None:
    """Refuse what go-yaml v2 refuses (see the module docstring): an anchor whose value holds an
    alias of itself, and a document whose decoding would consist mostly of alias expansions.
    One pass over the distinct nodes (expanded sizes are computed, never walked), so a billion
    laughs costs as much as its text. Raises :class:`yaml.constructor.ConstructorError`."""
    expanded: dict[int, int] = {}
    """Node id -> nodes decoded for it with aliases expanded (alias nodes count one)."""
    anchor: dict[int, tuple[int, int]] = {id(root): (0, 0)}
    """Node id -> (parent id, position) of its first occurrence; any other is an alias."""
    on_path: set[int] = set()
    aliased = alias_nodes = 0
    # (node, parent id, position, leaving)
    stack: list[tuple[yaml.Node, int, int, bool]] = [(root, 0, 0, False)]
    while stack:
        node, parent, position, leaving = stack.pop()
        key = id(node)
        if leaving:
            on_path.discard(key)
            total = 1
            for i, child in enumerate(_children(node)):
                size = expanded[id(child)]
                total += size
                if anchor[id(child)] != (key, i):
                    total += 1  # the alias node, as go-yaml counts it
                    aliased += size
                    alias_nodes += 1
            expanded[key] = total
            continue
        if key in on_path:
            raise yaml.constructor.ConstructorError(
                None, None, "an anchor's value contains an alias of itself", node.start_mark
            )
        if anchor.setdefault(key, (parent, position)) != (parent, position) or key in expanded:
            continue  # an alias of a node visited (or being visited) from its anchor
        on_path.add(key)
        stack.append((node, parent, position, True))
        children = _children(node)
        stack.extend((children[i], key, i, False) for i in range(len(children) - 1, -1, -1))
    decoded = len(expanded) + alias_nodes + aliased
    if aliased > 100 and decoded > 1000 and aliased / decoded > _allowed_alias_ratio(decoded):
        raise yaml.constructor.ConstructorError(
            None,
            None,
            f"document contains excessive aliasing (it expands to {decoded} nodes, "
            f"{aliased} of them through aliases)",
            root.start_mark,
        )


class KubeLoader(_BaseLoader):  # type: ignore[misc,valid-type]
    """A safe loader with Kubernetes-compatible implicit types and go-yaml's bounds on aliases
    (see the module docstring)."""

    def __init__(self, stream: Any) -> None:
        super().__init__(stream)
        # Without a "*" a document holds no alias: skip the check (most manifests).
        if isinstance(stream, str):
            self._aliases = "*" in stream
        elif isinstance(stream, bytes):
            self._aliases = b"*" in stream
        else:
            self._aliases = True

    def construct_document(self, node: yaml.Node) -> Any:
        if self._aliases:
            check_aliases(node)
        return super().construct_document(node)


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
