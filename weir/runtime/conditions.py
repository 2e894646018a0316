"""kstatus-compatible conditions on raw objects (``obj["status"]["conditions"]``).

Rules (``metav1.Condition`` and Flux's ``fluxcd/pkg/runtime/conditions``):

- Setting a condition updates ``reason``, ``message`` and ``observedGeneration`` (the object's
  ``metadata.generation``); ``lastTransitionTime`` changes only when ``status`` changes. Setting
  an identical condition changes nothing, so no status write follows.
- ``Reconciling`` and ``Stalled`` are *abnormal-true*: present only while True
  (:func:`mark_reconciling`, :func:`mark_stalled`; :func:`delete` removes them).
- While a run is in progress ``Ready`` is ``Unknown`` with reason ``Progressing``.
- :func:`summarize` derives ``Ready`` from other conditions; :func:`kstatus` computes what
  kstatus (``flux``/``kubectl wait``) will report.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import UTC, datetime
from typing import Any

from weir.runtime import reasons
from weir.types import Obj

Condition = dict[str, Any]

ABNORMAL_TRUE = frozenset({reasons.RECONCILING, reasons.STALLED})


def now_rfc3339() -> str:
    """The current time as Kubernetes writes ``metav1.Time`` (seconds, UTC, ``Z``)."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def conditions(obj: Obj) -> list[Condition]:
    """The object's condition list (empty when it has none). Do not mutate it."""
    found = (obj.get("status") or {}).get("conditions") or []
    return [c for c in found if isinstance(c, dict)]


def get(obj: Obj, type_: str) -> Condition | None:
    """The condition of ``type_``, or None."""
    return next((c for c in conditions(obj) if c.get("type") == type_), None)


def status_of(obj: Obj, type_: str) -> str | None:
    """``True``/``False``/``Unknown`` of ``type_``, or None when absent."""
    cond = get(obj, type_)
    return None if cond is None else str(cond.get("status"))


def is_true(obj: Obj, type_: str) -> bool:
    return status_of(obj, type_) == reasons.TRUE


def is_false(obj: Obj, type_: str) -> bool:
    return status_of(obj, type_) == reasons.FALSE


def is_unknown(obj: Obj, type_: str) -> bool:
    return status_of(obj, type_) == reasons.UNKNOWN


def set_condition(
    obj: Obj, type_: str, status: str, reason: str, message: str, *, now: str | None = None
) -> Condition:
    """Create or update ``type_`` in place; see the module docstring for what changes when."""
    if status not in (reasons.TRUE, reasons.FALSE, reasons.UNKNOWN):
        raise ValueError(f"condition status must be True, False or Unknown, not {status!r}")
    st = obj.setdefault("status", {})
    current: list[Condition] = [c for c in (st.get("conditions") or []) if isinstance(c, dict)]
    generation = (obj.get("metadata") or {}).get("generation")
    new: Condition = {"type": type_, "status": status}
    if generation is not None:
        new["observedGeneration"] = generation
    new["reason"] = reason
    new["message"] = message
    for i, old in enumerate(current):
        if old.get("type") != type_:
            continue
        same_status = old.get("status") == status and old.get("lastTransitionTime")
        new["lastTransitionTime"] = old["lastTransitionTime"] if same_status else _now(now)
        current[i] = _ordered(new)
        st["conditions"] = current
        return current[i]
    new["lastTransitionTime"] = _now(now)
    current.append(_ordered(new))
    st["conditions"] = _sorted(current)
    return new


def mark_true(obj: Obj, type_: str, reason: str, message: str) -> Condition:
    return set_condition(obj, type_, reasons.TRUE, reason, message)


def mark_false(obj: Obj, type_: str, reason: str, message: str) -> Condition:
    return set_condition(obj, type_, reasons.FALSE, reason, message)


def mark_unknown(obj: Obj, type_: str, reason: str, message: str) -> Condition:
    return set_condition(obj, type_, reasons.UNKNOWN, reason, message)


def mark_reconciling(obj: Obj, reason: str, message: str) -> Condition:
    """Reconciling=True (an abnormal-true condition: remove it with :func:`delete`)."""
    return mark_true(obj, reasons.RECONCILING, reason, message)


def mark_stalled(obj: Obj, reason: str, message: str) -> Condition:
    """Stalled=True (an abnormal-true condition: remove it with :func:`delete`)."""
    return mark_true(obj, reasons.STALLED, reason, message)


def mark_progressing(obj: Obj, message: str = "Reconciliation in progress") -> None:
    """The start of a run: Reconciling=True/Progressing and Ready=Unknown/Progressing."""
    mark_reconciling(obj, reasons.PROGRESSING, message)
    mark_unknown(obj, reasons.READY, reasons.PROGRESSING, message)


def delete(obj: Obj, type_: str) -> None:
    """Remove ``type_`` if present."""
    st = obj.get("status")
    if not isinstance(st, dict) or not st.get("conditions"):
        return
    st["conditions"] = [c for c in st["conditions"] if c.get("type") != type_]


def summarize(
    obj: Obj,
    types: Iterable[str],
    *,
    negative: Collection[str] = (),
    reason: str = reasons.SUCCEEDED,
    message: str = "Reconciliation succeeded",
) -> Condition:
    """Set ``Ready`` from the conditions in ``types``, checked in that order.

    A *negative-polarity* type (in ``negative``, e.g. ``FetchFailed``; ``Stalled`` and
    ``Reconciling`` always are) that is True makes Ready False with its reason and message.
    A positive type that is False makes Ready False; Unknown makes Ready Unknown. Absent types
    are skipped. When nothing is wrong Ready is True with ``reason``/``message``.
    """
    bad = set(negative) | ABNORMAL_TRUE
    for type_ in types:
        cond = get(obj, type_)
        if cond is None:
            continue
        st = cond.get("status")
        r, m = str(cond.get("reason", "")), str(cond.get("message", ""))
        if type_ in bad:
            if st == reasons.TRUE:
                return mark_false(obj, reasons.READY, r, m)
            continue
        if st == reasons.FALSE:
            return mark_false(obj, reasons.READY, r, m)
        if st == reasons.UNKNOWN:
            return mark_unknown(obj, reasons.READY, r, m)
    return mark_true(obj, reasons.READY, reason, message)


def kstatus(obj: Obj) -> str:
    """The kstatus of a Flux-style object: Terminating, InProgress, Failed or Current."""
    meta = obj.get("metadata") or {}
    st = obj.get("status") or {}
    if meta.get("deletionTimestamp"):
        return "Terminating"
    observed = st.get("observedGeneration")
    generation = meta.get("generation")
    if observed is not None and generation is not None and observed != generation:
        return "InProgress"
    if is_true(obj, reasons.RECONCILING):
        return "InProgress"
    if is_true(obj, reasons.STALLED):
        return "Failed"
    ready = status_of(obj, reasons.READY)
    if ready is None or ready == reasons.TRUE:
        return "Current"
    return "InProgress"


_KEY_ORDER = ("type", "status", "observedGeneration", "lastTransitionTime", "reason", "message")
_TYPE_ORDER = {reasons.READY: 0, reasons.RECONCILING: 1, reasons.STALLED: 2}


def _ordered(cond: Condition) -> Condition:
    return {k: cond[k] for k in _KEY_ORDER if k in cond}


def _sorted(conds: list[Condition]) -> list[Condition]:
    """Ready, Reconciling, Stalled first (as Flux lists them), then the rest in insertion order."""
    return sorted(conds, key=lambda c: _TYPE_ORDER.get(str(c.get("type")), len(_TYPE_ORDER)))


def _now(now: str | None) -> str:
    return now if now is not None else now_rfc3339()
