"""HelmRelease values: ``valuesFrom`` + inline ``values``, composed as helm-controller does, and
their digest.

Composition (:func:`compose_values`, pure; :func:`resolve_values` reads the objects):

1. ``valuesFrom`` entries in order. Each names a ConfigMap or Secret in the HelmRelease's
   namespace and a key (``values.yaml`` by default).
   - Without ``targetPath`` the key holds a YAML map, deep-merged over what came before.
   - With ``targetPath`` the key holds one value, set at that path with Helm's ``--set`` rules
     (:func:`set_path`): typed (``true``, ``12``, ``null``, ``{a,b}``) unless the text is quoted
     (``'...'``/``"..."``: a string, quotes dropped) or ``literal`` is set (the text verbatim,
     as ``--set-literal``).
   - A missing object or key fails the composition unless the entry is ``optional``; each
     object is read once, so all entries see the same version of it.
2. Inline ``spec.values`` deep-merged on top of everything.

Deep merge (:func:`merge_maps`) is Flux's ``transform.MergeMaps``: maps merge key by key,
anything else (lists, scalars, ``null``) replaces. A ``null`` stays in the result; Helm removes
the chart default of that key when it coalesces.

YAML is read like ``sigs.k8s.io/yaml`` reads it (go-yaml v2: ``yes``/``no`` are booleans,
``2024-01-01`` is a string). :func:`values_digest` is the ``sha256:`` of the values encoded
as Helm encodes them (``sigs.k8s.io/yaml`` Marshal: keys sorted, go-yaml v2 scalar styles), so
the digests match helm-controller's ``lastAttemptedConfigDigest`` for the same values.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import yaml

from weir import yamlio
from weir.helmengine.errors import ValuesError, ValuesReferenceError

DEFAULT_VALUES_KEY = "values.yaml"
MAX_LIST_INDEX = 65536  # Helm refuses larger --set indexes too

Values = dict[str, Any]
SetMode = Literal["typed", "string", "literal"]


@dataclass(frozen=True)
class ValuesRef:
    """One ``valuesFrom`` entry (the fields of ``ValuesReference``, snake_case)."""

    kind: str
    name: str
    values_key: str | None = None
    target_path: str | None = None
    optional: bool = False
    literal: bool = False

    @property
    def key(self) -> str:
        return self.values_key or DEFAULT_VALUES_KEY

    @classmethod
    def from_model(cls, ref: Any) -> ValuesRef:
        """From a :class:`weir.api.meta.ValuesReference` (or anything with its attributes)."""
        return cls(
            kind=ref.kind,
            name=ref.name,
            values_key=ref.values_key,
            target_path=ref.target_path,
            optional=bool(ref.optional),
            literal=bool(getattr(ref, "literal", None)),
        )

    def describe(self, namespace: str) -> str:
        optional = " optional" if self.optional else ""
        return f"{optional} {self.kind} '{namespace}/{self.name}' with key '{self.key}'".lstrip()


# ---------------------------------------------------------------------------- merging
def merge_maps(base: Mapping[str, Any], override: Mapping[str, Any]) -> Values:
    """``override`` deep-merged over ``base`` (new dicts; inputs are not modified)."""
    out: Values = dict(base)
    for key, value in override.items():
        current = out.get(key)
        if isinstance(value, Mapping) and isinstance(current, Mapping):
            out[key] = merge_maps(current, value)
        else:
            out[key] = value
    return out


def _stringify_keys(value: Any) -> Any:
    """JSON has only string keys: ``1: a`` and ``true: b`` become ``"1"``/``"true"``."""
    if isinstance(value, Mapping):
        return {_key_text(k): _stringify_keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_stringify_keys(v) for v in value]
    return value


_key_text = yamlio.key_text


def read_values(text: str | bytes, source: str = "values") -> Values:
    """Parse a YAML values document; empty means ``{}``. Raises :class:`ValuesError` for YAML
    that does not parse or is not a map."""
    if isinstance(text, bytes):
        try:
            text = text.decode()
        except UnicodeDecodeError as e:
            raise ValuesError(f"{source} is not UTF-8 text: {e}") from e
    try:
        data = yaml.load(text, Loader=_ValuesLoader)  # a safe loader
    except yaml.YAMLError as e:
        raise ValuesError(f"{source} is not valid YAML: {e}; fix the document") from e
    if data is None:
        return {}
    if not isinstance(data, Mapping):
        raise ValuesError(
            f"{source} must be a YAML map of values, got a {type(data).__name__}; "
            "use targetPath to set a single value"
        )
    result: Values = _stringify_keys(data)
    return result


class _ValuesLoader(yamlio.KubeLoader):
    """Kubernetes YAML plus go-yaml v2's one-letter booleans (``y``/``n``), which
    ``sigs.k8s.io/yaml`` applies to values files."""


def _construct_bool(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> bool:
    return str(loader.construct_scalar(node)).lower() in ("y", "yes", "true", "on")


_ValuesLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:y|Y|n|N)$"), list("yYnN")
)
_ValuesLoader.add_constructor("tag:yaml.org,2002:bool", _construct_bool)


# ------------------------------------------------------------------------- --set paths
class _SetParser:
    """Helm's ``--set`` syntax: ``a.b[0].c=value,d=e`` with ``\\`` escapes and ``{x,y}`` lists."""

    def __init__(self, text: str, mode: SetMode) -> None:
        self.text = text
        self.pos = 0
        self.mode = mode

    def error(self, message: str) -> ValuesError:
        return ValuesError(f"cannot parse {self.text!r} as a --set expression: {message}")

    def parse_into(self, target: Values) -> None:
        while self.pos < len(self.text):
            self._assignment(target)
            if self.pos < len(self.text):
                if self.mode == "literal":  # pragma: no cover - literal consumes everything
                    break
                self.pos += 1  # the comma between assignments

    def _read_key(self) -> tuple[str, str]:
        """Key text up to one of ``=.[,`` (escapes resolved) and the stop character ('' at end)."""
        out: list[str] = []
        while self.pos < len(self.text):
            ch = self.text[self.pos]
            if ch == "\\" and self.pos + 1 < len(self.text):
                out.append(self.text[self.pos + 1])
                self.pos += 2
                continue
            if ch in "=.[,":
                self.pos += 1
                return "".join(out), ch
            out.append(ch)
            self.pos += 1
        return "".join(out), ""

    def _assignment(self, target: Values) -> None:
        key, stop = self._read_key()
        self._into_map(target, key, stop)

    def _into_map(self, target: Values, key: str, stop: str) -> None:
        if not key and stop != "[":
            raise self.error("empty key")
        if stop == "=":
            target[key] = self._value()
        elif stop == ".":
            child = target.get(key)
            if not isinstance(child, dict):
                child = {}
                target[key] = child
            sub_key, sub_stop = self._read_key()
            self._into_map(child, sub_key, sub_stop)
        elif stop == "[":
            if not key:
                raise self.error("a list index needs a key before it")
            current = target.get(key)
            lst = current if isinstance(current, list) else []
            target[key] = self._into_list(lst)
        else:
            raise self.error(f"key {key!r} has no value")

    def _index(self) -> int:
        end = self.text.find("]", self.pos)
        if end < 0:
            raise self.error("unterminated list index")
        raw = self.text[self.pos : end]
        self.pos = end + 1
        if not raw.isdigit():
            raise self.error(f"list index {raw!r} is not a number")
        index = int(raw)
        if index > MAX_LIST_INDEX:
            raise self.error(f"list index {index} is larger than {MAX_LIST_INDEX}")
        return index

    def _into_list(self, lst: list[Any]) -> list[Any]:
        index = self._index()
        lst = list(lst)
        while len(lst) <= index:
            lst.append(None)
        if self.pos >= len(self.text):
            raise self.error(f"list index {index} has no value")
        ch = self.text[self.pos]
        self.pos += 1
        if ch == "=":
            lst[index] = self._value()
        elif ch == "[":
            nested = lst[index] if isinstance(lst[index], list) else []
            lst[index] = self._into_list(nested)
        elif ch == ".":
            child = lst[index] if isinstance(lst[index], dict) else {}
            sub_key, sub_stop = self._read_key()
            self._into_map(child, sub_key, sub_stop)
            lst[index] = child
        else:
            raise self.error(f"unexpected {ch!r} after list index {index}")
        return lst

    def _value(self) -> Any:
        if self.mode == "literal":
            raw = self.text[self.pos :]
            self.pos = len(self.text)
            return raw
        if self.text.startswith("{", self.pos):
            return self._list_value()
        out: list[str] = []
        while self.pos < len(self.text):
            ch = self.text[self.pos]
            if ch == "\\" and self.pos + 1 < len(self.text):
                out.append(self.text[self.pos + 1])
                self.pos += 2
                continue
            if ch == ",":
                break
            out.append(ch)
            self.pos += 1
        return self._typed("".join(out))

    def _list_value(self) -> list[Any]:
        self.pos += 1  # "{"
        items: list[Any] = []
        current: list[str] = []
        while self.pos < len(self.text):
            ch = self.text[self.pos]
            self.pos += 1
            if ch == "\\" and self.pos < len(self.text):
                current.append(self.text[self.pos])
                self.pos += 1
            elif ch == ",":
                items.append(self._typed("".join(current)))
                current = []
            elif ch == "}":
                items.append(self._typed("".join(current)))
                return items
            else:
                current.append(ch)
        raise self.error("unterminated list value (missing '}')")

    def _typed(self, text: str) -> Any:
        if self.mode == "string":
            return text
        lowered = text.lower()
        if lowered == "true":
            return True
        if lowered == "false":
            return False
        if lowered == "null":
            return None
        if text == "0":
            return 0
        if text and text[0] != "0" and re.fullmatch(r"[-+]?\d+", text):
            number = int(text)
            if -(1 << 63) <= number < (1 << 63):
                return number
        return text


def set_path(values: Values, expression: str, *, mode: SetMode = "typed") -> Values:
    """Apply a ``--set`` expression (``path=value[,path=value...]``) to ``values`` in place.

    ``mode``: ``typed`` (``--set``), ``string`` (``--set-string``) or ``literal``
    (``--set-literal``: everything after the first ``=`` is the value). Returns ``values``.
    """
    _SetParser(expression, mode).parse_into(values)
    return values


def replace_path_value(values: Values, path: str, value: str, *, literal: bool = False) -> None:
    """Set ``value`` at ``targetPath`` as helm-controller does: a value wrapped in quotes is a
    string (quotes stripped), anything else goes through ``--set`` typing."""
    if literal:
        set_path(values, f"{path}={value}", mode="literal")
        return
    quoted = len(value) >= 1 and (
        (value.startswith("'") and value.endswith("'"))
        or (value.startswith('"') and value.endswith('"'))
    )
    if quoted:
        set_path(values, f"{path}={value.strip(chr(39) + chr(34))}", mode="string")
    else:
        set_path(values, f"{path}={value}")


# ------------------------------------------------------------------------- composition
ObjectData = Mapping[str, str | bytes]
"""The ``data`` of a ConfigMap (text) or Secret (decoded bytes)."""

Lookup = Callable[[str, str], ObjectData | None]
"""``lookup(kind, name)`` -> the object's data, or None when the object does not exist."""


def compose_values(
    refs: Sequence[ValuesRef],
    lookup: Lookup,
    inline: Mapping[str, Any] | None = None,
    *,
    namespace: str = "",
) -> Values:
    """Compose chart values from ``refs`` then ``inline`` (see the module docstring).

    Raises :class:`ValuesReferenceError` for a missing non-optional object or key and
    :class:`ValuesError` for unusable content.
    """
    result: Values = {}
    cache: dict[tuple[str, str], ObjectData | None] = {}
    for ref in refs:
        if ref.kind not in ("ConfigMap", "Secret"):
            raise ValuesError(
                f"unsupported valuesFrom kind {ref.kind!r} for '{ref.name}': "
                "use ConfigMap or Secret"
            )
        ident = (ref.kind, ref.name)
        if ident not in cache:
            cache[ident] = lookup(ref.kind, ref.name)
        data = cache[ident]
        if data is None:
            if ref.optional:
                continue
            raise ValuesReferenceError(
                f"could not resolve {ref.describe(namespace)}: {ref.kind} not found; "
                "create it or mark the reference optional"
            )
        if ref.key not in data:
            if ref.optional:
                continue
            raise ValuesReferenceError(
                f"could not resolve {ref.describe(namespace)}: key not found; "
                f"add the key or set valuesKey (keys: {', '.join(sorted(data)) or 'none'})"
            )
        raw = data[ref.key]
        if ref.target_path:
            text = raw.decode(errors="replace") if isinstance(raw, bytes) else raw
            try:
                replace_path_value(result, ref.target_path, text, literal=ref.literal)
            except ValuesError as e:
                raise ValuesError(
                    f"could not merge {ref.describe(namespace)} at targetPath "
                    f"'{ref.target_path}': {e}"
                ) from e
            continue
        result = merge_maps(result, read_values(raw, ref.describe(namespace)))
    if inline:
        result = merge_maps(result, _stringify_keys(dict(inline)))
    return result


def secret_data(obj: Mapping[str, Any]) -> dict[str, bytes]:
    """A Secret's ``data`` (base64) and ``stringData`` decoded to bytes."""
    out: dict[str, bytes] = {}
    for key, value in (obj.get("data") or {}).items():
        out[key] = base64.b64decode(value)
    for key, value in (obj.get("stringData") or {}).items():
        out[key] = str(value).encode()
    return out


def configmap_data(obj: Mapping[str, Any]) -> dict[str, str | bytes]:
    """A ConfigMap's ``data`` and ``binaryData`` (decoded)."""
    out: dict[str, str | bytes] = dict(obj.get("data") or {})
    for key, value in (obj.get("binaryData") or {}).items():
        out[key] = base64.b64decode(value)
    return out


async def resolve_values(
    get_object: Callable[[str, str], Awaitable[Mapping[str, Any] | None]],
    refs: Sequence[ValuesRef],
    inline: Mapping[str, Any] | None = None,
    *,
    namespace: str = "",
) -> Values:
    """:func:`compose_values` with objects read through ``get_object(kind, name)`` (which
    returns the object, or None when it does not exist), each at most once."""
    fetched: dict[tuple[str, str], ObjectData | None] = {}
    for ref in refs:
        ident = (ref.kind, ref.name)
        if ident in fetched or ref.kind not in ("ConfigMap", "Secret"):
            continue
        obj = await get_object(ref.kind, ref.name)
        if obj is None:
            fetched[ident] = None
        elif ref.kind == "Secret":
            fetched[ident] = secret_data(obj)
        else:
            fetched[ident] = configmap_data(obj)
    return compose_values(refs, lambda k, n: fetched.get((k, n)), inline, namespace=namespace)


# ------------------------------------------------------------------------------ digests
def encode_values(values: Mapping[str, Any]) -> str:
    """``values`` as Helm encodes them: ``sigs.k8s.io/yaml`` Marshal
    (:func:`weir.yamlio.dump_go`)."""
    return yamlio.dump_go(values)


def values_digest(values: Mapping[str, Any]) -> str:
    """``sha256:<hex>`` of :func:`encode_values` (helm-controller's values/config digest)."""
    return "sha256:" + hashlib.sha256(encode_values(values).encode()).hexdigest()


def values_checksum(values: Mapping[str, Any]) -> str:
    """The legacy ``lastAttemptedValuesChecksum``: the hex SHA-1 of the same encoding."""
    return hashlib.sha1(encode_values(values).encode(), usedforsecurity=False).hexdigest()
