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

import functools
import math
import re
from collections.abc import Iterator, Mapping
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


# ----------------------------------------------------------------------------- Go's encoder
# ``sigs.k8s.io/yaml`` Marshal (go-yaml v2 behind a JSON round trip) is how Kubernetes tools
# written in Go print objects: ``flux build``, ``kubectl``, and Helm when it encodes values.
# :func:`dump_go` writes the same text: keys in go-yaml's order, go-yaml v2's scalar styles
# (a string that would read as another type is double-quoted; one that cannot be plain is
# single-quoted), numbers as a JSON round trip leaves them, lines folded at 80 columns.

_GO_BOOL = re.compile(
    r"^(?:y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE"
    r"|on|On|ON|off|Off|OFF)$"
)
_GO_NULL = re.compile(r"^(?:~|null|Null|NULL)$")
_GO_INT = re.compile(r"^[-+]?(?:0[bB][01_]+|0[oO]?[0-7_]+|0[xX][0-9a-fA-F_]+|[0-9][0-9_]*)$")
_GO_FLOAT = re.compile(
    r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
    r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
)
_GO_BASE60 = re.compile(r"^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$")
_GO_TIMESTAMP = re.compile(
    r"^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}"
    r"(?:(?:[Tt]|[ \t]+)[0-9]{1,2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]*)?"
    r"(?:[ \t]*(?:Z|[-+][0-9]{1,2}(?::[0-9]{2})?))?)?$"
)


def go_needs_quotes(text: str) -> bool:
    """Whether go-yaml v2 would read the plain scalar as something other than a string."""
    return bool(
        text == ""
        or _GO_BOOL.match(text)
        or _GO_NULL.match(text)
        or _GO_INT.match(text)
        or _GO_FLOAT.match(text)
        or _GO_BASE60.match(text)
        or _GO_TIMESTAMP.match(text)
    )


class _GoResolver(yaml.resolver.BaseResolver):
    """Implicit types as go-yaml v2 resolves plain scalars (used only for emitting)."""


_GoResolver.add_implicit_resolver("tag:yaml.org,2002:bool", _GO_BOOL, None)
_GoResolver.add_implicit_resolver("tag:yaml.org,2002:null", _GO_NULL, None)
_GoResolver.add_implicit_resolver("tag:yaml.org,2002:null", re.compile(r"^$"), None)
_GoResolver.add_implicit_resolver("tag:yaml.org,2002:int", _GO_INT, None)
_GoResolver.add_implicit_resolver("tag:yaml.org,2002:float", _GO_FLOAT, None)
_GoResolver.add_implicit_resolver("tag:yaml.org,2002:timestamp", _GO_TIMESTAMP, None)


class _GoDumper(
    yaml.emitter.Emitter,
    yaml.serializer.Serializer,
    yaml.representer.SafeRepresenter,
    _GoResolver,
):
    """PyYAML's emitter (a port of libyaml, like go-yaml's) with go-yaml v2's scalar choices.
    Mappings keep the order they are given in (:func:`dump_go` sorts them first)."""

    def __init__(self, stream: Any, **kwargs: Any) -> None:
        yaml.emitter.Emitter.__init__(
            self, stream, canonical=False, indent=2, width=80, allow_unicode=True, line_break="\n"
        )
        yaml.serializer.Serializer.__init__(self, encoding=None, explicit_start=False)
        yaml.representer.SafeRepresenter.__init__(
            self, default_style=None, default_flow_style=False, sort_keys=False
        )
        _GoResolver.__init__(self)


def _go_str(dumper: _GoDumper, value: str) -> yaml.ScalarNode:
    if "\n" in value:
        style: str | None = "|"
    elif go_needs_quotes(value):
        style = '"'
    else:
        style = None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


def _go_float(dumper: _GoDumper, value: float) -> yaml.ScalarNode:
    if math.isnan(value):
        text = ".NaN"
    elif math.isinf(value):
        text = "+.Inf" if value > 0 else "-.Inf"
    else:
        text = repr(value)
        if "e" in text:
            mantissa, _, exponent = text.partition("e")
            sign = "-" if exponent.startswith("-") else "+"
            text = f"{mantissa}e{sign}{exponent.lstrip('+-').rjust(2, '0')}"
    return dumper.represent_scalar("tag:yaml.org,2002:float", text)


_GoDumper.add_representer(str, _go_str)
_GoDumper.add_representer(float, _go_float)


class _GoV3Dumper(_GoDumper):
    """go-yaml v3's choice: a string that cannot be plain is double-quoted, never
    single-quoted."""

    def choose_scalar_style(self) -> str:
        style: str = super().choose_scalar_style()
        return '"' if style == "'" else style


def key_text(key: Any) -> str:
    """A map key as JSON has it (``true``, ``null``, ``1``)."""
    if isinstance(key, bool):
        return "true" if key else "false"
    if key is None:
        return "null"
    return str(key)


def _number(text: str, start: int, base: int) -> tuple[int, int]:
    """``base`` followed by the run of digits at ``start`` as a number, and where the run
    ends (go-yaml's arithmetic, rune minus ``'0'``)."""
    end, number = start, base
    while end < len(text) and text[end].isdigit():
        number = number * 10 + ord(text[end]) - ord("0")
        end += 1
    return number, end


def go_key_compare(a: str, b: str) -> int:
    """go-yaml v2's order of string map keys (``sorter.go``): letters compare by code point,
    a non-letter sorts before a letter, runs of digits compare by their value (``a2`` before
    ``a10``; a leading zero counts once the run has a non-zero digit before it), and a prefix
    comes first."""
    for i, (ca, cb) in enumerate(zip(a, b, strict=False)):
        if ca == cb:
            continue
        al, bl = ca.isalpha(), cb.isalpha()
        if al and bl:
            return -1 if ca < cb else 1
        if al or bl:
            return 1 if al else -1
        base = 0
        if "0" in (ca, cb):
            j = i - 1
            while j >= 0 and a[j].isdigit():
                if a[j] != "0":
                    base = 1
                    break
                j -= 1
        an, ai = _number(a, i, base)
        bn, bi = _number(b, i, base)
        if an != bn:
            return -1 if an < bn else 1
        if ai != bi:
            return -1 if ai < bi else 1
        return -1 if ca < cb else 1
    return (len(a) > len(b)) - (len(a) < len(b))


_GO_KEY = functools.cmp_to_key(go_key_compare)


def go_normalize(value: Any) -> Any:
    """What a JSON round trip in Go leaves: string keys in go-yaml's order, float64 numbers
    (integral ones printed as integers), anything else as text."""
    if isinstance(value, Mapping):
        items = {key_text(k): go_normalize(v) for k, v in value.items()}
        return {k: items[k] for k in sorted(items, key=_GO_KEY)}
    if isinstance(value, (list, tuple)):
        return [go_normalize(v) for v in value]
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, (int, float)):
        number = float(value)
        if math.isfinite(number) and number.is_integer() and abs(number) < 1e21:
            integral = int(number)
            if -(1 << 63) <= integral < (1 << 64):
                return integral
        return number
    return str(value)


def dump_go(value: Any, *, double_quotes: bool = False) -> str:
    """``value`` as ``sigs.k8s.io/yaml`` Marshal writes it (see above); ``double_quotes``:
    as go-yaml v3 quotes strings (dyff, and so ``flux diff``, prints with it)."""
    dumper = _GoV3Dumper if double_quotes else _GoDumper
    text: str = yaml.dump(go_normalize(value), Dumper=dumper)
    return text
