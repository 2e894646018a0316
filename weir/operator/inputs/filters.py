"""What a provider exports of the items a forge or a registry lists: ``spec.filter``,
``spec.skip`` and ``spec.defaultValues``, as the Flux Operator applies them.

- ``filter.includeBranch``/``excludeBranch`` (and ``includeTag``/``excludeTag``): regular
  expressions searched in the branch (a change request's source branch) or tag name.
- ``filter.labels``: a change request must carry all of them.
- ``filter.semver``: tags whose version satisfies the range, highest first; without it tags
  come in descending name order.
- ``filter.limit`` (default 100, at most 10000): the first N items.
- ``skip.labels``: a change request carrying one of them (``!label``: lacking it) keeps the
  input it exported before, and is left out when it had none.
- ``defaultValues``: added to every input set, never overriding what the provider found.

Ids are the Flux Operator's: a change request's number; the Adler-32 checksum (decimal) of a
branch or tag name; of the object's UID for ``Static``.
"""

from __future__ import annotations

import copy
import re
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from weir.api.resourceset import ProviderFilter, ProviderSkip
from weir.artifact.errors import InvalidVersionError
from weir.artifact.semver import Constraint, Version
from weir.errors import ConfigError

DEFAULT_LIMIT = 100
MAX_LIMIT = 10_000


class FilterError(ConfigError):
    """A filter that cannot be used (a bad regular expression or semver range)."""


def checksum_id(text: str) -> str:
    """The Flux Operator's id of a name: its Adler-32 checksum, in decimal."""
    return str(zlib.adler32(text.encode()))


@dataclass(frozen=True)
class Item:
    """One change request, branch or tag as a forge lists it."""

    id: str
    sha: str = ""
    branch: str = ""
    tag: str = ""
    author: str = ""
    title: str = ""
    labels: tuple[str, ...] = ()
    digest: str = ""
    """OCI tags: the manifest digest."""

    def to_input(self) -> dict[str, Any]:
        """The exported input set (empty fields left out, as the operator does)."""
        out: dict[str, Any] = {"id": self.id}
        for key in ("sha", "branch", "tag", "digest", "author", "title"):
            value = getattr(self, key)
            if value:
                out[key] = value
        if self.labels:
            out["labels"] = list(self.labels)
        return out


def _compile(pattern: str | None, what: str) -> re.Pattern[str] | None:
    if not pattern:
        return None
    try:
        return re.compile(pattern)
    except re.error as e:
        raise FilterError(f"invalid {what} regex {pattern!r}: {e}") from e


@dataclass(frozen=True)
class Filters:
    """``spec.filter``, compiled."""

    limit: int = DEFAULT_LIMIT
    labels: tuple[str, ...] = ()
    include: re.Pattern[str] | None = None
    exclude: re.Pattern[str] | None = None
    semver: Constraint | None = None

    @classmethod
    def of(cls, spec: ProviderFilter | None) -> Filters:
        if spec is None:
            return cls()
        limit = spec.limit or DEFAULT_LIMIT
        if limit > MAX_LIMIT:
            raise FilterError(f"result limit {limit} exceeds maximum of {MAX_LIMIT}")
        constraint = None
        if spec.semver:
            try:
                constraint = Constraint(spec.semver)
            except (InvalidVersionError, ValueError) as e:
                raise FilterError(f"invalid semver expression {spec.semver!r}: {e}") from e
        include = _compile(spec.include_tag, "includeTag") or _compile(
            spec.include_branch, "includeBranch"
        )
        exclude = _compile(spec.exclude_tag, "excludeTag") or _compile(
            spec.exclude_branch, "excludeBranch"
        )
        return cls(limit, tuple(spec.labels or ()), include, exclude, constraint)

    def matches(self, name: str) -> bool:
        """The include/exclude expressions (searched, as Go's ``MatchString``)."""
        if self.include is not None and not self.include.search(name):
            return False
        return not (self.exclude is not None and self.exclude.search(name))

    def has_labels(self, labels: Iterable[str]) -> bool:
        have = set(labels)
        return all(label in have for label in self.labels)

    def requests(self, items: Iterable[Item]) -> list[Item]:
        """Change requests: branch and label filters, then the limit (in the forge's order)."""
        out = [i for i in items if self.matches(i.branch) and self.has_labels(i.labels)]
        return out[: self.limit]

    def branches(self, items: Iterable[Item]) -> list[Item]:
        return [i for i in items if self.matches(i.branch)][: self.limit]

    def tags(self, items: Iterable[Item]) -> list[Item]:
        """Tags: name filters, semver range (highest first) or descending names, limit."""
        chosen = {i.tag: i for i in items if self.matches(i.tag)}  # the last duplicate wins
        if self.semver is not None:
            versions: list[tuple[Version, str]] = []
            for name in chosen:
                version = _version(name)
                if version is not None and self.semver.check(version):
                    versions.append((version, name))
            versions.sort(key=lambda p: (p[0], p[1]), reverse=True)
            names = [n for _, n in versions]
        else:
            names = sorted(chosen, reverse=True)
        return [chosen[n] for n in names[: self.limit]]

    def tag_names(self, names: Iterable[str]) -> list[str]:
        """:meth:`tags` for bare names (OCI tags, before their digests are read)."""
        return [i.tag for i in self.tags(Item(id="", tag=n) for n in names)]


def _version(tag: str) -> Version | None:
    try:
        return Version.parse(tag.replace("_", "+"))
    except (InvalidVersionError, ValueError):
        return None


def skipped(item: Item, skip: ProviderSkip | None) -> bool:
    """Whether ``skip.labels`` hold the change request back (``!label``: while absent)."""
    for label in (skip.labels or []) if skip else []:
        if label.startswith("!"):
            if label[1:] not in item.labels:
                return True
        elif label in item.labels:
            return True
    return False


def apply_skip(
    items: Sequence[Item], skip: ProviderSkip | None, previous: Sequence[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """The input sets of ``items``; a skipped one keeps its previous input set (matched by
    id, without its default values) or is left out when it is new."""
    before = {str(p.get("id")): p for p in previous}
    out: list[dict[str, Any]] = []
    for item in items:
        current = item.to_input()
        if skipped(item, skip):
            old = before.get(item.id)
            if old is None:
                continue
            current = {
                k: copy.deepcopy(old[k])
                for k in ("id", "sha", "branch", "tag", "digest", "author", "title", "labels")
                if k in old
            }
        out.append(current)
    return out


def with_defaults(
    inputs: Iterable[dict[str, Any]], defaults: Mapping[str, Any] | None
) -> list[dict[str, Any]]:
    """Add ``defaultValues`` to every input set, never overriding a key it has."""
    out = []
    for values in inputs:
        merged = dict(values)
        for key, value in (defaults or {}).items():
            merged.setdefault(key, copy.deepcopy(value))
        out.append(merged)
    return out


@dataclass
class Listing:
    """What one call to a provider returned."""

    items: list[Item] = field(default_factory=list)
