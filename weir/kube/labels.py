"""Kubernetes label selectors (``matchLabels`` and ``matchExpressions``, ANDed) matched against
an object's labels, as the API server matches them: ``In`` needs the key with one of the values,
``NotIn`` passes when the key is absent or has none of them, ``Exists`` and ``DoesNotExist``
look at the key only. One rule for every place that selects objects by labels (ResourceSet
``inputsFrom``, the graph's input edges, the MCP tools)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def selector_matches(selector: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    """Whether ``labels`` satisfy ``selector`` (a ``LabelSelector`` as JSON); an empty
    selector matches everything."""
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for req in selector.get("matchExpressions") or []:
        key, op, values = req.get("key"), req.get("operator"), req.get("values") or []
        present = key in labels
        if op == "In" and (not present or labels[key] not in values):
            return False
        if op == "NotIn" and present and labels[key] in values:
            return False
        if (op == "Exists" and not present) or (op == "DoesNotExist" and present):
            return False
    return True
