"""``flux diff``'s text for a drifted object: the live object and the dry-run result compared
as the flux CLI's report does it (dyff's human report, without header), so that scripts
written for ``flux diff`` read ``weir diff -o flux`` the same way.

Each difference is a path followed by what changed there, indented::

    spec.ports.http.port
      ± value change
        - 9899
        + 9898

    metadata
      + one map entry added:
        labels:
          kustomize.toolkit.fluxcd.io/name: apps

Paths are dotted; list entries are named by their ``name`` (or ``key``, ``id``) when every
entry has a distinct one, else by their index. Maps report added and removed entries, lists
added and removed entries, anything else a value change (or a type change). Secret values
never print: a changed value reads ``*** (before)``/``*** (after)``, an added or removed one
``*****`` (as Flux masks them).

The layout follows dyff's for these cases; what dyff does beyond them (moved list entries,
line diffs of multi-line text, side-by-side columns) is written more simply.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from weir import yamlio
from weir.actions.masking import MASK_AFTER, MASK_BEFORE

if TYPE_CHECKING:
    from weir.actions.diff import FieldChange

_GO_ORDER = functools.cmp_to_key(yamlio.go_key_compare)
SECRET_VALUE = "*****"
IDENTIFIERS = ("name", "key", "id")
_COUNTS = ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")
_SECRET_FIELDS = ("data", "stringData")


METADATA = ("name", "namespace", "labels", "annotations")


def comparable(obj: Mapping[str, Any]) -> dict[str, Any]:
    """What Flux compares of an object: all but ``status``, and of the metadata the name,
    namespace, labels and annotations (when set)."""
    meta = obj.get("metadata") or {}
    out: dict[str, Any] = {k: v for k, v in obj.items() if k not in ("metadata", "status")}
    kept = {k: meta[k] for k in METADATA if meta.get(k)}
    if kept:
        out["metadata"] = kept
    return out


def _entries(n: int, kind: str) -> str:
    """``one map entry``, ``two list entries``, ``12 map entries``."""
    word = _COUNTS[n - 1] if 0 < n <= len(_COUNTS) else str(n)
    return f"{word} {kind} {'entry' if n == 1 else 'entries'}"


def _type_name(value: Any) -> str:
    if isinstance(value, Mapping):
        return "map"
    if isinstance(value, list):
        return "list"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if value is None:
        return "null"
    return "string"


def _yaml_lines(value: Any) -> list[str]:
    """``value`` as YAML lines, as dyff prints it (go-yaml v3: double quotes)."""
    lines = yamlio.dump_go(value, double_quotes=True).rstrip("\n").splitlines()
    if lines and lines[-1] == "...":
        lines.pop()
    return lines or [""]


def _scalar(value: Any) -> list[str]:
    if isinstance(value, str) and "\n" in value:
        return value.rstrip("\n").splitlines()
    return _yaml_lines(value)


def _identifier(items: list[Any]) -> str | None:
    """The field naming every entry of a list of maps uniquely, if any."""
    if not items or not all(isinstance(i, Mapping) for i in items):
        return None
    for field in IDENTIFIERS:
        names = [i.get(field) for i in items]
        if all(isinstance(n, str) and n for n in names) and len(set(names)) == len(names):
            return field
    return None


def _join(path: str, part: Any) -> str:
    return f"{path}.{part}" if path else str(part)


class _Report:
    def __init__(self, secret: bool) -> None:
        self.secret = secret
        self.blocks: list[list[str]] = []

    def _masked(self, path: str) -> bool:
        return self.secret and path.split(".", 1)[0] in _SECRET_FIELDS

    def _mask_entries(self, path: str, entries: dict[str, Any]) -> dict[str, Any]:
        if self.secret and (path in _SECRET_FIELDS or self._masked(path)):
            return dict.fromkeys(entries, SECRET_VALUE)
        if self.secret and not path:
            return {
                k: dict.fromkeys(v, SECRET_VALUE)
                if k in _SECRET_FIELDS and isinstance(v, Mapping)
                else v
                for k, v in entries.items()
            }
        return entries

    def entries(self, path: str, sign: str, kind: str, values: Any, count: int) -> list[str]:
        verb = "added" if sign == "+" else "removed"
        lines = [f"  {sign} {_entries(count, kind)} {verb}:"]
        lines += [f"    {line}" for line in _yaml_lines(values)]
        return lines

    def compare(self, path: str, before: Any, after: Any) -> None:
        if isinstance(before, Mapping) and isinstance(after, Mapping):
            self._maps(path, before, after)
        elif isinstance(before, list) and isinstance(after, list):
            self._lists(path, before, after)
        elif before != after:
            self._value(path, before, after)

    def _maps(self, path: str, before: Mapping[str, Any], after: Mapping[str, Any]) -> None:
        removed = {k: v for k, v in before.items() if k not in after}
        added = {k: v for k, v in after.items() if k not in before}
        if removed or added:
            lines = [path or "(root level)"]
            if removed:
                masked = self._mask_entries(path, removed)
                lines += self.entries(path, "-", "map", masked, len(removed))
            if added:
                masked = self._mask_entries(path, added)
                lines += self.entries(path, "+", "map", masked, len(added))
            self.blocks.append(lines)
        for key in sorted(before, key=_GO_ORDER):
            if key in after:
                self.compare(_join(path, key), before[key], after[key])

    def _lists(self, path: str, before: list[Any], after: list[Any]) -> None:
        field = _identifier(before) if _identifier(after) == _identifier(before) else None
        if field is not None:
            old = {i[field]: i for i in before}
            new = {i[field]: i for i in after}
            removed = [i for i in before if i[field] not in new]
            added = [i for i in after if i[field] not in old]
            self._list_entries(path, removed, added)
            for name, item in old.items():
                if name in new:
                    self.compare(_join(path, name), item, new[name])
            return
        if len(before) == len(after):
            for index, (b, a) in enumerate(zip(before, after, strict=True)):
                self.compare(_join(path, index), b, a)
            return
        removed = [i for i in before if i not in after]
        added = [i for i in after if i not in before]
        self._list_entries(path, removed, added)

    def _list_entries(self, path: str, removed: list[Any], added: list[Any]) -> None:
        if not removed and not added:
            return
        lines = [path]
        if removed:
            lines += self.entries(path, "-", "list", removed, len(removed))
        if added:
            lines += self.entries(path, "+", "list", added, len(added))
        self.blocks.append(lines)

    def _value(self, path: str, before: Any, after: Any) -> None:
        lines = [path]
        if self._masked(path):
            lines += ["  ± value change", f"    - {MASK_BEFORE}", f"    + {MASK_AFTER}"]
        elif _type_name(before) != _type_name(after) and None not in (before, after):
            lines.append(f"  ± type change from {_type_name(before)} to {_type_name(after)}")
            lines += [f"    - {line}" for line in _scalar(before)]
            lines += [f"    + {line}" for line in _scalar(after)]
        else:
            lines.append("  ± value change")
            lines += [f"    - {line}" for line in _scalar(before)]
            lines += [f"    + {line}" for line in _scalar(after)]
        self.blocks.append(lines)


def report(live: Mapping[str, Any], merged: Mapping[str, Any], *, secret: bool = False) -> str:
    """The differences between the live object and the dry-run result (see the module
    docstring): a blank line, then each difference followed by a blank line."""
    found = _Report(secret)
    found.compare("", comparable(live), comparable(merged))
    return _text(found)


_TOKEN = re.compile(r'\["((?:[^"\\]|\\.)*)"\]|\[(\d+)\]|\.?([^.\[]+)')


def path_parts(path: str) -> list[str]:
    """The parts of a ``weir diff`` field path (``spec.ports[0].port``,
    ``metadata.labels["app.kubernetes.io/name"]``)."""
    return [quoted or index or plain for quoted, index, plain in _TOKEN.findall(path)]


def report_changes(changes: Iterable[FieldChange], *, secret: bool = False) -> str:
    """Field changes (``weir diff``'s, e.g. the fields taken over from kubectl) written as
    :func:`report` writes differences."""
    found = _Report(secret)
    for change in changes:
        parts = path_parts(change.path)
        if change.has_before and change.has_after:
            found.compare(".".join(parts), change.before, change.after)
            continue
        parent, key = ".".join(parts[:-1]), parts[-1] if parts else ""
        if change.has_before:
            found.compare(parent, {key: change.before}, {})
        else:
            found.compare(parent, {}, {key: change.after})
    return _text(found)


def _text(found: _Report) -> str:
    blocks = "".join("\n" + "".join(f"{line}\n" for line in block) for block in found.blocks)
    return blocks + ("\n" if found.blocks else "")
