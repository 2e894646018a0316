"""Which Alerts an event goes to (notification-controller's alert filter).

An Alert takes an event when it is not suspended and:

1. the message matches no ``exclusionList`` expression, and at least one ``inclusionList``
   expression when that list is not empty (exclusion wins);
2. the severity passes: ``eventSeverity: info`` (the default) takes everything, ``error``
   only errors;
3. one of ``eventSources`` selects the involved object: same kind, same namespace (the
   Alert's when empty; ``*`` for any), and the name, or ``*`` — with ``matchLabels`` the
   object's labels must match too.

Expressions are Go regular expressions in Flux; weir compiles them with Python's ``re``
(search, not full match, like Go's ``MatchString``). The syntax they share — classes,
alternation, repetition, anchors — behaves the same. An expression that does not compile is
reported on the Alert (Ready=False) and ignored when filtering, as Flux ignores it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from weir.notification.event import ERROR, INFO, FluxEvent

Obj = dict[str, Any]


@dataclass(frozen=True)
class EventSource:
    """One ``eventSources`` entry, with the Alert's namespace filled in."""

    kind: str
    name: str
    namespace: str
    match_labels: Mapping[str, str] | None = None

    def selects(self, event: FluxEvent) -> bool:
        """Kind, namespace and name match (labels are checked by the caller)."""
        if event.kind != self.kind:
            return False
        if self.namespace not in ("*", event.namespace):
            return False
        return self.name in ("*", event.name)

    @property
    def needs_labels(self) -> bool:
        return self.name == "*" and bool(self.match_labels)

    def labels_match(self, labels: Mapping[str, str]) -> bool:
        return all(labels.get(k) == v for k, v in (self.match_labels or {}).items())


@dataclass(frozen=True)
class AlertFilter:
    """An Alert's spec compiled for filtering events."""

    namespace: str
    name: str
    provider: str
    severity: str
    sources: tuple[EventSource, ...]
    include: tuple[re.Pattern[str], ...]
    exclude: tuple[re.Pattern[str], ...]
    suspended: bool
    errors: tuple[str, ...]
    """Expressions that did not compile (``<list>[<i>] <expr>: <error>``)."""

    @classmethod
    def compile(cls, alert: Mapping[str, Any]) -> AlertFilter:
        meta = alert.get("metadata") or {}
        spec = alert.get("spec") or {}
        namespace = str(meta.get("namespace") or "")
        errors: list[str] = []

        def patterns(field: str) -> tuple[re.Pattern[str], ...]:
            out = []
            for i, expr in enumerate(spec.get(field) or []):
                try:
                    out.append(re.compile(str(expr)))
                except re.error as e:
                    errors.append(f"{field}[{i}] {expr!r}: {e}")
            return tuple(out)

        sources = tuple(
            EventSource(
                kind=str(s.get("kind") or ""),
                name=str(s.get("name") or ""),
                namespace=str(s.get("namespace") or namespace),
                match_labels=s.get("matchLabels") or None,
            )
            for s in spec.get("eventSources") or []
        )
        return cls(
            namespace=namespace,
            name=str(meta.get("name") or ""),
            provider=str((spec.get("providerRef") or {}).get("name") or ""),
            severity=str(spec.get("eventSeverity") or INFO),
            sources=sources,
            include=patterns("inclusionList"),
            exclude=patterns("exclusionList"),
            suspended=spec.get("suspend") is True,
            errors=tuple(errors),
        )

    def message_passes(self, message: str) -> bool:
        if any(p.search(message) for p in self.exclude):
            return False
        return not self.include or any(p.search(message) for p in self.include)

    def severity_passes(self, severity: str) -> bool:
        return self.severity == INFO or (self.severity == ERROR and severity == ERROR)

    def candidate_sources(self, event: FluxEvent) -> list[EventSource]:
        """The sources selecting the event by kind, namespace and name (labels not checked):
        empty when the Alert does not take it for another reason."""
        if self.suspended or not self.severity_passes(event.severity):
            return []
        if not self.message_passes(event.message):
            return []
        return [s for s in self.sources if s.selects(event)]
